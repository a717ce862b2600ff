"""Contains the exception types raised by this client.

``QuestionnaireExportsError`` is the base of every error raised by the package:

- ``UnexpectedStatus``: an undocumented status code, when ``raise_on_unexpected_status`` is set.
- ``UnexpectedStatus`` is also raised, always, for a status code that is not a standard HTTP status (a
  proxy's 520 or 499): ``Response.status_code`` is an ``HTTPStatus`` and cannot hold it.
- ``ResponseValidationError``: a response body that breaks the spec (a field that belongs to another
  ``status``, a missing or mistyped field, an unknown ``status``, JSON that is not JSON or is nested too
  deep...). It names the status and the field and carries the HTTP status code and the raw body.
- ``TransportError``: the request got no HTTP answer (DNS, refused connection, TLS, timeout, reset...). It
  carries the operation, the ``kind`` and the ``host``, never the token; the httpx error is its ``__cause__``.
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


#: The kinds of ``TransportError``, stable values to branch on or count in metrics.
TRANSPORT_ERROR_KINDS = (
    "dns",  # the host name did not resolve
    "refused",  # nothing listens on the port
    "tls",  # the TLS handshake or certificate verification failed
    "connect",  # any other failure to connect (unreachable network, ...)
    "connect-timeout",  # no connection within the timeout: the request was not sent
    "timeout",  # the request went out but no complete answer came in time
    "network",  # the connection broke while sending or receiving
    "protocol",  # the peer did not speak valid HTTP
    "proxy",  # the proxy refused or failed
    "other",  # any other httpx error (decoding, too many redirects, unsupported scheme)
)


class TransportError(QuestionnaireExportsError):
    """The request got no usable HTTP answer.

    Attributes:
        operation: the operation called, e.g. ``get_questionnaire_export``.
        kind: one of ``TRANSPORT_ERROR_KINDS``.
        host: the host the request was for.
    """

    def __init__(self, operation: str, kind: str, host: str, detail: str) -> None:
        self.operation = operation
        self.kind = kind
        self.host = host
        super().__init__(f"{operation} on {host or '<unknown host>'}: {kind}: {detail}")


class ResponseValidationError(QuestionnaireExportsError):
    """A response body that does not follow the spec.

    Attributes:
        reason: what is wrong, e.g. ``status=completed: missing required field expiresAt``.
        field: the offending field (``expiresAt``, ``export.reason``), or ``None`` for the body as a whole.
        status_code: the HTTP status code, or ``None`` when raised by ``from_dict`` directly.
        content: the raw response body (empty when raised by ``from_dict`` directly).
        operation, host: where the body came from, when a helper (``lib``) raised it; else ``None``.
    """

    def __init__(
        self,
        reason: str,
        *,
        field: str | None = None,
        status_code: int | None = None,
        content: bytes = b"",
        operation: str | None = None,
        host: str | None = None,
    ) -> None:
        self.reason = reason
        self.field = field
        self.status_code = status_code
        self.content = content
        self.operation = operation
        self.host = host
        where = f"{operation} on {host}: " if operation is not None else ""
        prefix = f"HTTP {status_code}: " if status_code is not None else ""
        super().__init__(f"{where}{prefix}{reason}")

    def with_response(self, status_code: int, content: bytes) -> ResponseValidationError:
        """The same error, with the HTTP status code and raw body of the response it came from."""
        return ResponseValidationError(
            self.reason, field=self.field, status_code=status_code, content=content
        )

    def with_origin(self, operation: str, host: str) -> ResponseValidationError:
        """The same error, its message naming the operation and host it came from (as the helpers raise it)."""
        return ResponseValidationError(
            self.reason,
            field=self.field,
            status_code=self.status_code,
            content=self.content,
            operation=operation,
            host=host,
        )


__all__ = [
    "TRANSPORT_ERROR_KINDS",
    "QuestionnaireExportsError",
    "ResponseValidationError",
    "TransportError",
    "UnexpectedStatus",
]
