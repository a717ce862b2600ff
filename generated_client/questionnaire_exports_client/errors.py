"""Contains the exception types raised by this client.

``QuestionnaireExportsError`` is the base of every error raised by the package:

- ``UnexpectedStatus``: an undocumented status code, when ``raise_on_unexpected_status`` is set.
- ``ResponseValidationError``: a response body that breaks the spec (a field that belongs to another
  ``status``, a missing or mistyped field, an unknown ``status``...). It names the status and the field and
  carries the HTTP status code and the raw body, so nothing is lost.
"""

from __future__ import annotations


class QuestionnaireExportsError(Exception):
    """Base class of every error raised by this client."""


class UnexpectedStatus(QuestionnaireExportsError):
    """Raised by api functions when the response status an undocumented status and Client.raise_on_unexpected_status is True"""

    def __init__(self, status_code: int, content: bytes):
        self.status_code = status_code
        self.content = content

        super().__init__(f"Unexpected status code: {status_code} ({len(content)} bytes of content)")


class ResponseValidationError(QuestionnaireExportsError):
    """A response body that does not follow the spec.

    Attributes:
        reason: what is wrong, e.g. ``status=completed: missing required field expiresAt``.
        field: the offending field (``expiresAt``, ``export.reason``), or ``None`` for the body as a whole.
        status_code: the HTTP status code, or ``None`` when raised by ``from_dict`` directly.
        content: the raw response body (empty when raised by ``from_dict`` directly).
    """

    def __init__(
        self, reason: str, *, field: str | None = None, status_code: int | None = None, content: bytes = b""
    ) -> None:
        self.reason = reason
        self.field = field
        self.status_code = status_code
        self.content = content
        prefix = f"HTTP {status_code}: " if status_code is not None else ""
        super().__init__(f"{prefix}{reason}")

    def with_response(self, status_code: int, content: bytes) -> ResponseValidationError:
        """The same error, with the HTTP status code and raw body of the response it came from."""
        return ResponseValidationError(
            self.reason, field=self.field, status_code=status_code, content=content
        )


__all__ = ["QuestionnaireExportsError", "ResponseValidationError", "UnexpectedStatus"]
