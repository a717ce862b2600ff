"""Turning one generated API call into a success, a retryable failure or a permanent error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from ..errors import ResponseValidationError, UnexpectedStatus
from ..models import Problem
from ..types import Response
from .backoff import parse_retry_after
from .errors import ExportApiError

T = TypeVar("T")

#: Statuses whose ``Retry-After`` header is read (RFC 9110 defines it for 503, RFC 6585 uses it for 429).
_RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class Transient:
    """A failed call worth repeating: what went wrong, and how long the server asked us to wait."""

    description: str
    retry_after: float | None = None


def _unexpected(operation: str, exc: UnexpectedStatus, retry_statuses: Collection[int]) -> Transient:
    if exc.status_code in retry_statuses:
        return Transient(f"HTTP {exc.status_code}")
    raise ExportApiError(operation, exc.status_code, None) from None


def _invalid(exc: ResponseValidationError, retry_statuses: Collection[int]) -> Transient:
    # A proxy's 429 or 503 may carry a body that is no RFC 9457 problem: still a reason to retry.
    if exc.status_code is not None and exc.status_code in retry_statuses:
        return Transient(f"HTTP {exc.status_code}")
    raise exc


def interpret(
    operation: str,
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
        return Transient(f"HTTP {status}", retry_after)
    problem = response.parsed if isinstance(response.parsed, Problem) else None
    raise ExportApiError(operation, status, problem)


def call_sync(
    operation: str,
    call: Callable[[], Response[Any]],
    retry_statuses: Collection[int],
    retry_exceptions: tuple[type[Exception], ...],
) -> Response[Any] | Transient:
    """Run ``call``; transport errors of the given kinds and retryable statuses become ``Transient``."""
    try:
        return call()
    except UnexpectedStatus as exc:
        return _unexpected(operation, exc, retry_statuses)
    except ResponseValidationError as exc:
        return _invalid(exc, retry_statuses)
    except retry_exceptions as exc:
        return Transient(type(exc).__name__)


async def call_async(
    operation: str,
    call: Callable[[], Awaitable[Response[Any]]],
    retry_statuses: Collection[int],
    retry_exceptions: tuple[type[Exception], ...],
) -> Response[Any] | Transient:
    """The async twin of ``call_sync``."""
    try:
        return await call()
    except UnexpectedStatus as exc:
        return _unexpected(operation, exc, retry_statuses)
    except ResponseValidationError as exc:
        return _invalid(exc, retry_statuses)
    except retry_exceptions as exc:
        return Transient(type(exc).__name__)


#: Transport failures after which a GET may safely be repeated.
IDEMPOTENT_RETRY_EXCEPTIONS: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    httpx.ProxyError,
)
#: Transport failures after which a POST certainly did not reach the server.
UNSENT_RETRY_EXCEPTIONS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout)
