"""Errors raised by the helpers; all derive from the package's ``QuestionnaireExportsError``.

Messages name the export, the HTTP status and the problem ``detail``; they never carry the bearer token, a
webhook secret or the query string (the signature) of a pre-signed download URL.
"""

from __future__ import annotations

from typing import Literal

from ..errors import QuestionnaireExportsError
from ..models import ExportCompleted, ExportFailed, ExportPending, Problem

#: Why a webhook delivery was rejected; stable values to branch on or count in metrics.
WebhookRejection = Literal[
    "bad-secret",
    "missing-header",
    "bad-timestamp",
    "timestamp-outside-tolerance",
    "no-matching-signature",
    "invalid-payload",
]


class HelperError(QuestionnaireExportsError):
    """Base of every error raised by ``questionnaire_exports_client.lib``."""


class ExportApiError(HelperError):
    """The API answered with a status that retrying cannot fix (400, 401, 404, …)."""

    def __init__(self, operation: str, status_code: int, problem: Problem | None) -> None:
        self.operation = operation
        self.status_code = status_code
        self.problem = problem
        summary = ""
        if problem is not None:
            detail = problem.detail if isinstance(problem.detail, str) else ""
            summary = f": {problem.title}" + (f": {detail}" if detail else "")
        super().__init__(f"{operation}: HTTP {status_code}{summary}")


class WaitTimeout(HelperError):
    """The export did not reach a terminal status before the deadline.

    ``last_export`` is the last export the API returned (``None`` if no poll succeeded) and ``last_status``
    its ``status``; ``last_error`` describes the last failed poll, if the last poll failed.
    """

    def __init__(
        self,
        export_id: str,
        *,
        elapsed: float,
        attempts: int,
        last_export: ExportPending | ExportCompleted | ExportFailed | None,
        last_error: str | None,
    ) -> None:
        self.export_id = export_id
        self.elapsed = elapsed
        self.attempts = attempts
        self.last_export = last_export
        self.last_status: str | None = last_export.status if last_export is not None else None
        self.last_error = last_error
        state = f"still {self.last_status}" if self.last_status else "status unknown"
        tail = f"; last poll: {last_error}" if last_error else ""
        super().__init__(f"export {export_id}: {state} after {elapsed:.1f}s and {attempts} polls{tail}")


class DownloadError(HelperError):
    """The file could not be downloaded; no file was left at the destination.

    ``url`` is the download URL without its query string (the query carries the signature).
    """

    def __init__(self, message: str, *, url: str, status_code: int | None = None) -> None:
        self.url = url
        self.status_code = status_code
        super().__init__(message)


class WebhookVerificationError(HelperError):
    """A webhook delivery failed verification; ``reason`` says which check rejected it."""

    def __init__(self, reason: WebhookRejection, message: str) -> None:
        self.reason: WebhookRejection = reason
        super().__init__(f"webhook rejected ({reason}): {message}")
