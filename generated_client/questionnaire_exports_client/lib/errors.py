"""Errors raised by the helpers; all derive from the package's ``QuestionnaireExportsError``.

Messages name the export, the HTTP status and the problem ``detail``; they never carry the bearer token, a
webhook secret or the query string (the signature) of a pre-signed download URL.
"""

from __future__ import annotations

from typing import Literal, get_args

from ..errors import QuestionnaireExportsError
from ..models import ExportCompleted, ExportFailed, ExportPending, Problem

#: Why a webhook delivery was rejected; stable values to branch on or count in metrics.
WebhookRejection = Literal[
    "bad-secret",
    "missing-header",
    "bad-header",
    "bad-timestamp",
    "timestamp-outside-tolerance",
    "no-matching-signature",
    "invalid-payload",
]
#: Every ``WebhookRejection`` value, for iteration and tests.
WEBHOOK_REJECTIONS: tuple[WebhookRejection, ...] = get_args(WebhookRejection)


class HelperError(QuestionnaireExportsError):
    """Base of every error raised by ``questionnaire_exports_client.lib``."""


class ExportApiError(HelperError):
    """The API answered with a status that retrying cannot fix (400, 401, 404, a proxy's 520, …).

    ``operation``, ``host``, ``status_code`` and the parsed RFC 9457 ``problem`` (``None`` when the body was
    none) say which.
    """

    def __init__(self, operation: str, status_code: int, problem: Problem | None, *, host: str = "") -> None:
        self.operation = operation
        self.host = host
        self.status_code = status_code
        self.problem = problem
        summary = ""
        if problem is not None:
            detail = problem.detail if isinstance(problem.detail, str) else ""
            summary = f": {_short(problem.title)}" + (f": {_short(detail)}" if detail else "")
        where = f" on {host}" if host else ""
        super().__init__(f"{operation}{where}: HTTP {status_code}{summary}")


def _short(text: str) -> str:
    return text if len(text) <= 200 else text[:197] + "..."


class WaitTimeout(HelperError):
    """The export did not reach a terminal status (or could not be created) before the deadline.

    ``operation`` is the call that was being repeated and ``host`` the API host. ``last_export`` is the last
    export the API returned (``None`` if no poll succeeded) and ``last_status`` its ``status``;
    ``last_error`` describes the last failed attempt, if the last attempt failed, and ``last_status_code``
    is the HTTP status of the last answer (``None`` when the last attempt got none).
    """

    def __init__(
        self,
        export_id: str,
        *,
        elapsed: float,
        attempts: int,
        last_export: ExportPending | ExportCompleted | ExportFailed | None,
        last_error: str | None,
        operation: str = "getQuestionnaireExport",
        host: str = "",
        last_status_code: int | None = None,
    ) -> None:
        self.export_id = export_id
        self.elapsed = elapsed
        self.attempts = attempts
        self.last_export = last_export
        self.last_status: str | None = last_export.status if last_export is not None else None
        self.last_error = last_error
        self.operation = operation
        self.host = host
        self.last_status_code = last_status_code
        polling = operation == "getQuestionnaireExport"
        if polling:
            state = f"export {export_id}: " + (
                f"still {self.last_status}" if self.last_status else "status unknown"
            )
        else:
            state = "export not created"
        noun = "polls" if polling else "attempts"
        tail = f"; last {noun[:-1]}: {last_error}" if last_error else ""
        where = f" on {host}" if host else ""
        super().__init__(f"{operation}{where}: {state} after {elapsed:.1f}s and {attempts} {noun}{tail}")


class DownloadError(HelperError):
    """The file could not be downloaded; no file was left at the destination.

    ``url`` is the download URL without its query string (the query carries the signature);
    ``status_code`` the storage's HTTP status, if it answered; ``kind`` a ``TRANSPORT_ERROR_KINDS`` value
    when the storage request got no answer, ``"url"`` for a link no HTTP client can fetch, ``"destination"``
    for a destination that cannot be written, else ``None``.
    """

    def __init__(
        self, message: str, *, url: str, status_code: int | None = None, kind: str | None = None
    ) -> None:
        self.url = url
        self.status_code = status_code
        self.kind = kind
        super().__init__(message)


class WebhookVerificationError(HelperError):
    """A webhook delivery failed verification; ``reason`` says which check rejected it."""

    def __init__(self, reason: WebhookRejection, message: str) -> None:
        self.reason: WebhookRejection = reason
        super().__init__(f"webhook rejected ({reason}): {message}")


#: ``TokenError.error`` values of the helper's own (the token endpoint's RFC 6749 codes are passed through).
TOKEN_ERROR_CODES = ("rate_limited", "invalid_response", "unexpected_status")


class TokenError(HelperError):
    """The OAuth token endpoint gave no usable token.

    ``error`` is the endpoint's RFC 6749 code (``invalid_client``, ``invalid_scope``, ``invalid_request``, ...)
    or one of ``TOKEN_ERROR_CODES``: ``rate_limited`` (429/503 not waited out within the deadline; see
    ``retry_after``), ``invalid_response`` (a 200 that is not a bearer token) or ``unexpected_status``.
    ``status_code`` is the HTTP status, ``host`` the token endpoint's host, ``description`` the endpoint's
    ``error_description`` (or what was wrong with the answer). Never carries the secret or a token.
    """

    def __init__(
        self,
        error: str,
        *,
        host: str,
        status_code: int | None = None,
        description: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.error = error
        self.host = host
        self.status_code = status_code
        self.description = description
        self.retry_after = retry_after
        status = f": HTTP {status_code}" if status_code is not None else ""
        tail = f": {description}" if description else ""
        wait = f" (Retry-After {retry_after:.0f}s)" if retry_after is not None else ""
        super().__init__(f"oauthToken on {host}{status}: {error}{tail}{wait}")
