"""Waiting for an export to finish: ``wait_for_export`` and ``create_and_wait``, sync and async.

The first poll goes out at once; later polls follow the ``Backoff`` schedule, honour ``Retry-After`` on
429/503 and retry what can heal (timeouts, lost connections, 502/503/504), all within one total deadline
that no sleep ever passes. What will not heal ends the wait at once: a host name that does not resolve, a
refused connection, a TLS failure (``TransportError``), 400/401/403/404 (``ExportApiError``) and a body that
breaks the spec (``ResponseValidationError``). Each request's own duration is bounded by the client's httpx
timeout.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from ..api.exports import create_questionnaire_export, get_questionnaire_export
from ..client import AuthenticatedClient, Client
from ..models import CreateQuestionnaireExportRequest, ExportCompleted, ExportFailed, ExportPending
from ..models.export_format import ExportFormat
from ._calls import (
    IDEMPOTENT_RETRY_KINDS,
    UNSENT_RETRY_KINDS,
    Transient,
    call_async,
    call_sync,
    host_of,
    interpret,
)
from .backoff import Backoff
from .errors import WaitTimeout
from .schedule import Schedule

ExportStatus = ExportPending | ExportCompleted | ExportFailed
TerminalExport = ExportCompleted | ExportFailed

#: Statuses after which a poll is repeated.
POLL_RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Statuses after which a create is repeated: only those that say the request was not processed.
CREATE_RETRY_STATUSES = frozenset({429, 503})

_GET = "getQuestionnaireExport"
_CREATE = "createQuestionnaireExport"


@dataclass(frozen=True)
class Poll:
    """What one poll saw, passed to ``on_poll`` (for progress displays and logs).

    ``export`` is ``None`` and ``error`` says why when the poll failed; ``next_delay`` is ``None`` when no
    further poll follows.
    """

    export_id: str
    attempt: int
    elapsed: float
    export: ExportStatus | None
    error: str | None
    next_delay: float | None


class _Waiter:
    """The polling loop's decisions, shared by the sync and async entry points."""

    def __init__(
        self,
        export_id: str,
        schedule: Schedule,
        on_poll: Callable[[Poll], None] | None,
        host: str,
    ) -> None:
        if not isinstance(export_id, str) or not export_id:
            raise ValueError("export_id must be a non-empty string")
        self.export_id = export_id
        self.host = host
        self._schedule = schedule
        self._on_poll = on_poll
        self._last_export: ExportStatus | None = None
        self._last_status_code: int | None = None

    def begin(self) -> None:
        self._schedule.start_attempt()

    def handle(self, outcome: ExportStatus | Transient) -> TerminalExport | float:
        """The terminal export, or the delay before the next poll; raises ``WaitTimeout`` at the deadline."""
        if isinstance(outcome, Transient):
            error: str | None = outcome.description
            self._last_status_code = outcome.status_code
            delay = self._schedule.next_delay(outcome.retry_after)
        else:
            error = None
            self._last_export = outcome
            self._last_status_code = 200
            terminal = isinstance(outcome, ExportCompleted | ExportFailed)
            delay = None if terminal else self._schedule.next_delay(None)
        if self._on_poll is not None:
            self._on_poll(
                Poll(
                    export_id=self.export_id,
                    attempt=self._schedule.attempts,
                    elapsed=self._schedule.elapsed(),
                    export=None if isinstance(outcome, Transient) else outcome,
                    error=error,
                    next_delay=delay,
                )
            )
        if isinstance(outcome, ExportCompleted | ExportFailed):
            return outcome
        if delay is None:
            raise WaitTimeout(
                self.export_id,
                elapsed=self._schedule.elapsed(),
                attempts=self._schedule.attempts,
                last_export=self._last_export,
                last_error=error,
                operation=_GET,
                host=self.host,
                last_status_code=self._last_status_code,
            )
        return delay


def _poll_sync(
    client: AuthenticatedClient | Client, export_id: str, retry_statuses: Collection[int]
) -> ExportStatus | Transient:
    host = host_of(client)
    response = call_sync(
        _GET,
        host,
        lambda: get_questionnaire_export.sync_detailed(export_id, client=client),
        retry_statuses,
        IDEMPOTENT_RETRY_KINDS,
    )
    if isinstance(response, Transient):
        return response
    return interpret(
        _GET,
        host,
        response,
        (ExportPending, ExportCompleted, ExportFailed),
        retry_statuses,
        wall_now=time.time(),
    )


async def _poll_async(
    client: AuthenticatedClient | Client, export_id: str, retry_statuses: Collection[int]
) -> ExportStatus | Transient:
    host = host_of(client)
    response = await call_async(
        _GET,
        host,
        lambda: get_questionnaire_export.asyncio_detailed(export_id, client=client),
        retry_statuses,
        IDEMPOTENT_RETRY_KINDS,
    )
    if isinstance(response, Transient):
        return response
    return interpret(
        _GET,
        host,
        response,
        (ExportPending, ExportCompleted, ExportFailed),
        retry_statuses,
        wall_now=time.time(),
    )


def _run_sync(
    client: AuthenticatedClient | Client,
    waiter: _Waiter,
    retry_statuses: Collection[int],
    sleep: Callable[[float], None],
) -> TerminalExport:
    while True:  # bounded: Schedule ends the loop at the deadline or after its attempt cap
        waiter.begin()
        step = waiter.handle(_poll_sync(client, waiter.export_id, retry_statuses))
        if isinstance(step, ExportCompleted | ExportFailed):
            return step
        sleep(step)


async def _run_async(
    client: AuthenticatedClient | Client,
    waiter: _Waiter,
    retry_statuses: Collection[int],
    sleep: Callable[[float], Awaitable[None]],
) -> TerminalExport:
    while True:  # bounded: Schedule ends the loop at the deadline or after its attempt cap
        waiter.begin()
        step = waiter.handle(await _poll_async(client, waiter.export_id, retry_statuses))
        if isinstance(step, ExportCompleted | ExportFailed):
            return step
        await sleep(step)


def wait_for_export(
    client: AuthenticatedClient | Client,
    export_id: str,
    *,
    timeout: float,
    backoff: Backoff | None = None,
    on_poll: Callable[[Poll], None] | None = None,
    retry_statuses: Collection[int] = POLL_RETRY_STATUSES,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> TerminalExport:
    """Poll ``getQuestionnaireExport`` until the export is ``completed`` or ``failed``.

    Returns the terminal model (a failed export is returned, not raised). Raises ``WaitTimeout`` (with the
    last status seen) when ``timeout`` seconds pass first, ``ExportApiError`` on a permanent error such as
    401 or 404, ``TransportError`` when the host does not resolve, refuses the connection or fails TLS, and
    ``ResponseValidationError`` when a body breaks the spec. ``clock``, ``sleep`` and
    ``rng`` exist so that tests can control time and jitter.
    """
    schedule = Schedule(timeout, backoff or Backoff(), clock, rng)
    return _run_sync(client, _Waiter(export_id, schedule, on_poll, host_of(client)), retry_statuses, sleep)


async def wait_for_export_async(
    client: AuthenticatedClient | Client,
    export_id: str,
    *,
    timeout: float,
    backoff: Backoff | None = None,
    on_poll: Callable[[Poll], None] | None = None,
    retry_statuses: Collection[int] = POLL_RETRY_STATUSES,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: random.Random | None = None,
) -> TerminalExport:
    """The async twin of ``wait_for_export``."""
    schedule = Schedule(timeout, backoff or Backoff(), clock, rng)
    return await _run_async(
        client, _Waiter(export_id, schedule, on_poll, host_of(client)), retry_statuses, sleep
    )


def _create_request(questionnaire_id: str, format_: ExportFormat) -> CreateQuestionnaireExportRequest:
    if not isinstance(questionnaire_id, str) or not questionnaire_id:
        raise ValueError("questionnaire_id must be a non-empty string")
    return CreateQuestionnaireExportRequest(questionnaire_id=questionnaire_id, format_=format_)


def _create_timeout(schedule: Schedule, last: Transient, host: str) -> WaitTimeout:
    return WaitTimeout(
        "(not created)",
        elapsed=schedule.elapsed(),
        attempts=schedule.attempts,
        last_export=None,
        last_error=last.description,
        operation=_CREATE,
        host=host,
        last_status_code=last.status_code,
    )


def create_export(
    client: AuthenticatedClient | Client,
    questionnaire_id: str,
    *,
    format_: ExportFormat,
    timeout: float,
    backoff: Backoff | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> ExportPending:
    """Create an export, repeating the POST only when it certainly was not processed.

    That is after 429 or 503 (honouring ``Retry-After``) or a connection that was never made (a connect
    timeout, an unreachable network); a timeout or 502/504 after the request went out is not retried, since
    the export may exist: it raises ``TransportError`` (``kind="timeout"``) or ``ExportApiError``. A host
    name that does not resolve, a refused connection or a TLS failure raise ``TransportError`` at once.
    """
    body = _create_request(questionnaire_id, format_)
    schedule = Schedule(timeout, backoff or Backoff(), clock, rng)
    host = host_of(client)
    while True:  # bounded by the schedule
        schedule.start_attempt()
        response = call_sync(
            _CREATE,
            host,
            lambda: create_questionnaire_export.sync_detailed(client=client, body=body),
            CREATE_RETRY_STATUSES,
            UNSENT_RETRY_KINDS,
        )
        outcome = (
            response
            if isinstance(response, Transient)
            else interpret(
                _CREATE, host, response, ExportPending, CREATE_RETRY_STATUSES, wall_now=time.time()
            )
        )
        if isinstance(outcome, ExportPending):
            return outcome
        delay = schedule.next_delay(outcome.retry_after)
        if delay is None:
            raise _create_timeout(schedule, outcome, host)
        sleep(delay)


async def create_export_async(
    client: AuthenticatedClient | Client,
    questionnaire_id: str,
    *,
    format_: ExportFormat,
    timeout: float,
    backoff: Backoff | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: random.Random | None = None,
) -> ExportPending:
    """The async twin of ``create_export``."""
    body = _create_request(questionnaire_id, format_)
    schedule = Schedule(timeout, backoff or Backoff(), clock, rng)
    host = host_of(client)
    while True:  # bounded by the schedule
        schedule.start_attempt()
        response = await call_async(
            _CREATE,
            host,
            lambda: create_questionnaire_export.asyncio_detailed(client=client, body=body),
            CREATE_RETRY_STATUSES,
            UNSENT_RETRY_KINDS,
        )
        outcome = (
            response
            if isinstance(response, Transient)
            else interpret(
                _CREATE, host, response, ExportPending, CREATE_RETRY_STATUSES, wall_now=time.time()
            )
        )
        if isinstance(outcome, ExportPending):
            return outcome
        delay = schedule.next_delay(outcome.retry_after)
        if delay is None:
            raise _create_timeout(schedule, outcome, host)
        await sleep(delay)


def _time_left(
    client: AuthenticatedClient | Client,
    created: ExportPending,
    timeout: float,
    start: float,
    clock: Callable[[], float],
) -> float:
    """Seconds of ``timeout`` left for waiting after the create; ``WaitTimeout`` when none are."""
    left = timeout - (clock() - start)
    if left <= 0:
        raise WaitTimeout(
            created.id,
            elapsed=clock() - start,
            attempts=0,
            last_export=created,
            last_error=None,
            host=host_of(client),
            last_status_code=202,
        )
    return left


def create_and_wait(
    client: AuthenticatedClient | Client,
    questionnaire_id: str,
    *,
    format_: ExportFormat,
    timeout: float,
    backoff: Backoff | None = None,
    on_poll: Callable[[Poll], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> TerminalExport:
    """``create_export`` then ``wait_for_export``, both within one ``timeout``."""
    start = clock()
    created = create_export(
        client,
        questionnaire_id,
        format_=format_,
        timeout=timeout,
        backoff=backoff,
        clock=clock,
        sleep=sleep,
        rng=rng,
    )
    left = _time_left(client, created, timeout, start, clock)
    return wait_for_export(
        client, created.id, timeout=left, backoff=backoff, on_poll=on_poll, clock=clock, sleep=sleep, rng=rng
    )


async def create_and_wait_async(
    client: AuthenticatedClient | Client,
    questionnaire_id: str,
    *,
    format_: ExportFormat,
    timeout: float,
    backoff: Backoff | None = None,
    on_poll: Callable[[Poll], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: random.Random | None = None,
) -> TerminalExport:
    """The async twin of ``create_and_wait``."""
    start = clock()
    created = await create_export_async(
        client,
        questionnaire_id,
        format_=format_,
        timeout=timeout,
        backoff=backoff,
        clock=clock,
        sleep=sleep,
        rng=rng,
    )
    left = _time_left(client, created, timeout, start, clock)
    return await wait_for_export_async(
        client, created.id, timeout=left, backoff=backoff, on_poll=on_poll, clock=clock, sleep=sleep, rng=rng
    )
