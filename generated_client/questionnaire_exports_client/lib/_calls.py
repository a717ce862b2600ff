"""Turning one generated API call into a success, a retryable failure or a permanent error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from ..client import AuthenticatedClient, Client
from ..errors import ResponseValidationError, TransportError, UnexpectedStatus
from ..models import Problem
from ..types import Response
from .backoff import parse_retry_after
from .errors import ExportApiError

T = TypeVar("T")

#: Statuses whose ``Retry-After`` header is read (RFC 9110 defines it for 503, RFC 6585 uses it for 429).
_RETRY_AFTER_STATUSES = frozenset({429, 503})

#: Transport failures after which a GET is repeated: the request or its answer was lost on the way. A name
#: that does not resolve, a port nobody listens on and a certificate that does not verify will not heal
#: while we wait, so those end the wait at once (``TransportError`` with ``.kind``).
IDEMPOTENT_RETRY_KINDS = frozenset({"connect", "connect-timeout", "timeout", "network", "protocol", "proxy"})
#: Transport failures after which a POST certainly did not reach the server, so repeating it is safe.
UNSENT_RETRY_KINDS = frozenset({"connect", "connect-timeout"})


@dataclass(frozen=True)
class Transient:
    """A failed call worth repeating: what went wrong, its HTTP status if any, and any ``Retry-After``."""

    description: str
    retry_after: float | None = None
    status_code: int | None = None


def host_of(client: AuthenticatedClient | Client) -> str:
    """The API host, for messages."""
    try:
        return httpx.URL(client._base_url).host or "<unknown host>"
    except (httpx.InvalidURL, TypeError, ValueError):
        return "<unknown host>"


def _unexpected(
    operation: str, host: str, exc: UnexpectedStatus, retry_statuses: Collection[int]
) -> Transient:
    if exc.status_code in retry_statuses:
        return Transient(f"HTTP {exc.status_code}", status_code=exc.status_code)
    raise ExportApiError(operation, exc.status_code, None, host=host) from None


def _invalid(
    operation: str, host: str, exc: ResponseValidationError, retry_statuses: Collection[int]
) -> Transient:
    # A proxy's 429 or 503 may carry a body that is no RFC 9457 problem: still a reason to retry.
    if exc.status_code is not None and exc.status_code in retry_statuses:
        return Transient(f"HTTP {exc.status_code}", status_code=exc.status_code)
    raise exc.with_origin(operation, host) from None


def _transport(exc: TransportError, retry_kinds: Collection[str]) -> Transient:
    if exc.kind in retry_kinds:
        cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else "TransportError"
        return Transient(f"{exc.kind} ({cause})")
    raise exc


def interpret(
    operation: str,
    host: str,
    response: Response[Any],
    expected: type[T] | tuple[type[T], ...],
    retry_statuses: Collection[int],
    *,
    wall_now: float,
) -> T | Transient:
    """The parsed body of a successful ``response``, a ``Transient``, or raise ``ExportApiError``."""
    status = int(response.status_code)
    if status < 300 and isinstance(response.parsed, expected):
        return response.parsed
    if status in retry_statuses:
        retry_after = None
        if status in _RETRY_AFTER_STATUSES:
            retry_after = parse_retry_after(response.headers.get("retry-after"), now=wall_now)
        return Transient(f"HTTP {status}", retry_after, status)
    problem = response.parsed if isinstance(response.parsed, Problem) else None
    raise ExportApiError(operation, status, problem, host=host)


def call_sync(
    operation: str,
    host: str,
    call: Callable[[], Response[Any]],
    retry_statuses: Collection[int],
    retry_kinds: Collection[str],
) -> Response[Any] | Transient:
    """Run ``call``; transport errors of the given kinds and retryable statuses become ``Transient``."""
    try:
        return call()
    except UnexpectedStatus as exc:
        return _unexpected(operation, host, exc, retry_statuses)
    except ResponseValidationError as exc:
        return _invalid(operation, host, exc, retry_statuses)
    except TransportError as exc:
        return _transport(exc, retry_kinds)


async def call_async(
    operation: str,
    host: str,
    call: Callable[[], Awaitable[Response[Any]]],
    retry_statuses: Collection[int],
    retry_kinds: Collection[str],
) -> Response[Any] | Transient:
    """The async twin of ``call_sync``."""
    try:
        return await call()
    except UnexpectedStatus as exc:
        return _unexpected(operation, host, exc, retry_statuses)
    except ResponseValidationError as exc:
        return _invalid(operation, host, exc, retry_statuses)
    except TransportError as exc:
        return _transport(exc, retry_kinds)
