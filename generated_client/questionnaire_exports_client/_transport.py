"""Turning httpx's transport errors into the package's ``TransportError`` (hand-written; generate.sh never writes it).

Why: a caller of a vendored client should need one ``except QuestionnaireExportsError``; the upstream generated
functions let every httpx error escape as it is. The kind is read from the exception chain (httpx keeps the
socket or ssl error as the cause), falling back to the message for transports that raise bare httpx errors.
"""

from __future__ import annotations

import socket
import ssl

import httpx

from .errors import TransportError
from .redact import REDACTED

_DNS_WORDS = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "no address associated",
    "getaddrinfo",
    "name resolution",
)
_TLS_WORDS = ("certificate", "ssl", "tls")


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(seen) < 16 and all(current is not s for s in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _connect_kind(exc: httpx.ConnectError) -> str:
    chain = _chain(exc)
    if any(isinstance(c, socket.gaierror) for c in chain):
        return "dns"
    if any(isinstance(c, ssl.SSLError) for c in chain):
        return "tls"
    if any(isinstance(c, ConnectionRefusedError) for c in chain):
        return "refused"
    text = " ".join(str(c) for c in chain).lower()
    if any(word in text for word in _DNS_WORDS):
        return "dns"
    if any(word in text for word in _TLS_WORDS):
        return "tls"
    return "refused" if "refused" in text else "connect"


def kind_of(exc: httpx.HTTPError) -> str:
    """The ``TRANSPORT_ERROR_KINDS`` entry for an httpx error."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect-timeout"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return _connect_kind(exc)
    if isinstance(exc, httpx.NetworkError):
        return "network"
    if isinstance(exc, httpx.ProtocolError):
        return "protocol"
    if isinstance(exc, httpx.ProxyError):
        return "proxy"
    return "other"


def _host(exc: httpx.HTTPError, base_url: str) -> str:
    try:
        return exc.request.url.host
    except RuntimeError:  # raised by a transport before the request was attached
        pass
    try:
        return httpx.URL(base_url).host
    except (httpx.InvalidURL, ValueError, TypeError):
        return ""


def failure(operation: str, exc: httpx.HTTPError, base_url: str, token: str | None) -> TransportError:
    """The ``TransportError`` for ``exc``; its message never contains ``token``."""
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if token:
        detail = detail.replace(token, REDACTED)
    if len(detail) > 300:
        detail = detail[:297] + "..."
    return TransportError(operation, kind_of(exc), _host(exc, base_url), detail)
