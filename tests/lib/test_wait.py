"""wait_for_export and its async twin, on a scripted API with a fake clock."""

from __future__ import annotations

import asyncio
import random
import socket
import ssl
from typing import Any

import httpx
import pytest
from questionnaire_exports_client.errors import ResponseValidationError, TransportError
from questionnaire_exports_client.lib import (
    Backoff,
    ExportApiError,
    Poll,
    WaitTimeout,
    wait_for_export,
    wait_for_export_async,
)
from questionnaire_exports_client.models import ExportCompleted, ExportFailed, ExportPending

from .conftest import TOKEN, FakeTime, ScriptedApi, export_body, fail, ok

EXPORT_ID = export_body("pending")["id"]
FAST = Backoff(min_delay=1.0, max_delay=8.0)


def wait(api: ScriptedApi, fake_time: FakeTime, *, timeout: float = 60.0, **kwargs: Any) -> Any:
    return wait_for_export(
        api.client(),
        EXPORT_ID,
        timeout=timeout,
        backoff=kwargs.pop("backoff", FAST),
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        rng=random.Random(7),
        **kwargs,
    )


def test_first_poll_is_immediate_and_completed_is_returned(api: ScriptedApi, fake_time: FakeTime) -> None:
    api.add(ok("completed"))
    result = wait(api, fake_time)
    assert isinstance(result, ExportCompleted)
    assert result.id == EXPORT_ID
    assert fake_time.sleeps == []
    assert api.requests[0].url.path.endswith(f"/exports/{EXPORT_ID}")
    assert api.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_failed_export_is_returned_not_raised(api: ScriptedApi, fake_time: FakeTime) -> None:
    api.add(ok("pending"), ok("failed"))
    result = wait(api, fake_time)
    assert isinstance(result, ExportFailed)
    assert result.error_message == export_body("failed")["errorMessage"]


def test_backoff_grows_within_bounds_and_callback_sees_every_poll(
    api: ScriptedApi, fake_time: FakeTime
) -> None:
    api.add(*[ok("pending") for _ in range(8)], ok("completed"))
    polls: list[Poll] = []
    wait(api, fake_time, timeout=600, on_poll=polls.append)
    assert len(fake_time.sleeps) == 8
    assert all(FAST.min_delay <= s <= FAST.max_delay for s in fake_time.sleeps)
    # Retry n draws from [min, min * 2 ** (n - 1)]: the first delay is exactly the minimum.
    assert fake_time.sleeps[0] == FAST.min_delay
    for n, slept in enumerate(fake_time.sleeps, start=1):
        assert slept <= min(FAST.max_delay, FAST.min_delay * 2 ** (n - 1))
    assert [p.attempt for p in polls] == list(range(1, 10))
    assert [type(p.export) for p in polls] == [ExportPending] * 8 + [ExportCompleted]
    assert [p.next_delay for p in polls] == [*fake_time.sleeps, None]
    assert all(p.error is None and p.export_id == EXPORT_ID for p in polls)


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(api: ScriptedApi, fake_time: FakeTime, status: int) -> None:
    api.add(fail(status, retry_after="7"), ok("completed"))
    polls: list[Poll] = []
    wait(api, fake_time, on_poll=polls.append)
    assert fake_time.sleeps == [7.0]
    assert api.times[1] - api.times[0] == 7.0
    assert polls[0].error == f"HTTP {status}" and polls[0].export is None


def test_retry_after_as_http_date_is_honoured(api: ScriptedApi, fake_time: FakeTime) -> None:
    api.add(fail(429, retry_after="Wed, 21 Oct 2015 07:28:00 GMT"), ok("completed"))
    # A date in the past means "now": the waiter still waits its minimum delay.
    wait(api, fake_time)
    assert fake_time.sleeps == [FAST.min_delay]


def test_retry_after_zero_still_waits_the_minimum(api: ScriptedApi, fake_time: FakeTime) -> None:
    api.add(fail(429, retry_after="0"), ok("completed"))
    wait(api, fake_time)
    assert fake_time.sleeps == [FAST.min_delay]


def test_retry_after_beyond_deadline_gives_up_without_sleeping(api: ScriptedApi, fake_time: FakeTime) -> None:
    api.add(ok("pending"), fail(429, retry_after="120"))
    with pytest.raises(WaitTimeout) as caught:
        wait(api, fake_time, timeout=30)
    assert fake_time.sleeps == [FAST.min_delay]
    assert caught.value.last_status == "pending"
    assert caught.value.last_error == "HTTP 429"
    assert isinstance(caught.value.last_export, ExportPending)


@pytest.mark.parametrize(
    "failure",
    [
        fail(502),
        fail(503),
        fail(504),
        httpx.ConnectError("[Errno 113] No route to host"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.ReadTimeout("read timed out"),
        httpx.ReadError("connection reset by peer"),
        httpx.RemoteProtocolError("peer closed connection"),
    ],
    ids=["502", "503", "504", "connect", "connect-timeout", "read-timeout", "reset", "protocol"],
)
def test_transient_failures_are_retried(api: ScriptedApi, fake_time: FakeTime, failure: Any) -> None:
    api.add(failure, failure, ok("completed"))
    assert isinstance(wait(api, fake_time), ExportCompleted)
    assert len(api.requests) == 3


def test_transient_failures_are_retried_with_raise_on_unexpected_status(fake_time: FakeTime) -> None:
    from .conftest import ScriptedApi

    api = ScriptedApi(fake_time, [fail(502), ok("completed")])
    client = api.client(raise_on_unexpected_status=True)
    result = wait_for_export(
        client, EXPORT_ID, timeout=60, backoff=FAST, clock=fake_time.clock, sleep=fake_time.sleep
    )
    assert isinstance(result, ExportCompleted)


@pytest.mark.parametrize("status", [401, 404])
def test_permanent_errors_are_not_retried(api: ScriptedApi, fake_time: FakeTime, status: int) -> None:
    api.add(fail(status))
    with pytest.raises(ExportApiError) as caught:
        wait(api, fake_time)
    assert caught.value.status_code == status
    assert caught.value.problem is not None and caught.value.problem.status == status
    assert f"HTTP {status}" in str(caught.value)
    assert len(api.requests) == 1 and fake_time.sleeps == []
    assert TOKEN not in str(caught.value)


def test_undocumented_permanent_status_is_not_retried(api: ScriptedApi, fake_time: FakeTime) -> None:
    api.add(httpx.Response(500, text="boom"))
    with pytest.raises(ExportApiError) as caught:
        wait(api, fake_time)
    assert caught.value.status_code == 500 and caught.value.problem is None


def test_body_breaking_the_spec_raises(api: ScriptedApi, fake_time: FakeTime) -> None:
    body = export_body("completed")
    del body["expiresAt"]
    api.add(httpx.Response(200, json=body))
    with pytest.raises(ResponseValidationError) as caught:
        wait(api, fake_time)
    assert caught.value.status_code == 200


def test_deadline_is_never_overrun(api: ScriptedApi, fake_time: FakeTime) -> None:
    timeout = 20.0
    api.add(*[ok("pending") for _ in range(40)])
    start = fake_time.now
    with pytest.raises(WaitTimeout) as caught:
        wait(api, fake_time, timeout=timeout)
    api.script.clear()
    assert fake_time.now - start <= timeout
    assert all(t - start <= timeout for t in api.times)
    # The last poll happens at the deadline itself: the final sleep is cut to the time left.
    assert api.times[-1] - start == pytest.approx(timeout)
    assert caught.value.last_status == "pending"
    assert caught.value.attempts == len(api.requests)
    assert EXPORT_ID in str(caught.value) and "still pending" in str(caught.value)


def test_slow_requests_count_against_the_deadline(api: ScriptedApi, fake_time: FakeTime) -> None:
    api.request_cost = 4.0
    api.add(*[ok("pending") for _ in range(10)])
    start = fake_time.now
    with pytest.raises(WaitTimeout):
        wait(api, fake_time, timeout=20)
    api.script.clear()
    assert all(t - start <= 20 for t in api.times)
    assert sum(fake_time.sleeps) + 4.0 * (len(api.requests) - 1) <= 20


def test_clock_that_never_moves_still_ends(api: ScriptedApi) -> None:
    frozen = FakeTime()
    api.time = frozen
    api.add(*[ok("pending") for _ in range(20)])
    with pytest.raises(WaitTimeout):
        wait_for_export(
            api.client(),
            EXPORT_ID,
            timeout=10,
            backoff=Backoff(min_delay=1, max_delay=1),
            clock=lambda: 0.0,
            sleep=lambda _s: None,
        )
    assert len(api.requests) == 12  # floor(10 / 1) + 2
    api.script.clear()


@pytest.mark.parametrize("bad", [0, -1, float("inf"), float("nan")])
def test_bad_timeout_is_rejected(api: ScriptedApi, fake_time: FakeTime, bad: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        wait(api, fake_time, timeout=bad)


def test_empty_export_id_is_rejected(api: ScriptedApi) -> None:
    with pytest.raises(ValueError, match="export_id"):
        wait_for_export(api.client(), "", timeout=1)


def test_async_twin_follows_the_same_schedule(api: ScriptedApi, fake_time: FakeTime) -> None:
    api.add(fail(429, retry_after="3"), httpx.ReadTimeout("slow"), ok("pending"), ok("completed"))
    polls: list[Poll] = []

    async def run() -> Any:
        async with api.client() as client:
            return await wait_for_export_async(
                client,
                EXPORT_ID,
                timeout=60,
                backoff=FAST,
                on_poll=polls.append,
                clock=fake_time.clock,
                sleep=fake_time.async_sleep,
                rng=random.Random(1),
            )

    result = asyncio.run(run())
    assert isinstance(result, ExportCompleted)
    assert fake_time.sleeps[0] == 3.0
    assert all(FAST.min_delay <= s <= FAST.max_delay for s in fake_time.sleeps[1:])
    assert [p.error for p in polls] == ["HTTP 429", "timeout (ReadTimeout)", None, None]


def test_async_twin_times_out(api: ScriptedApi, fake_time: FakeTime) -> None:
    api.add(*[ok("pending") for _ in range(30)])

    async def run() -> Any:
        return await wait_for_export_async(
            api.client(),
            EXPORT_ID,
            timeout=10,
            backoff=FAST,
            clock=fake_time.clock,
            sleep=fake_time.async_sleep,
        )

    start = fake_time.now
    with pytest.raises(WaitTimeout):
        asyncio.run(run())
    api.script.clear()
    assert fake_time.now - start <= 10


def _chained(cause: BaseException, message: str) -> httpx.ConnectError:
    """A ConnectError as httpx raises it: the socket or ssl error is its cause."""
    try:
        raise httpx.ConnectError(message) from cause
    except httpx.ConnectError as exc:
        return exc


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (_chained(socket.gaierror(-2, "Name or service not known"), "[Errno -2] lookup failed"), "dns"),
        (_chained(ConnectionRefusedError(111, "Connection refused"), "[Errno 111]"), "refused"),
        (_chained(ssl.SSLCertVerificationError("certificate verify failed"), "handshake"), "tls"),
    ],
    ids=["dns", "refused", "tls"],
)
def test_what_will_not_heal_ends_the_wait_at_once(
    api: ScriptedApi, fake_time: FakeTime, failure: Exception, kind: str
) -> None:
    api.add(failure)
    with pytest.raises(TransportError) as caught:
        wait(api, fake_time, timeout=300)
    assert caught.value.kind == kind and caught.value.host == "api.test" and fake_time.sleeps == []
    assert str(caught.value).startswith(f"get_questionnaire_export on api.test: {kind}: ConnectError")
    assert caught.value.__cause__ is failure


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 520, 499])
def test_permanent_statuses_end_the_wait_at_once(api: ScriptedApi, fake_time: FakeTime, status: int) -> None:
    api.add(fail(status))
    with pytest.raises(ExportApiError) as caught:
        wait(api, fake_time, timeout=300)
    assert caught.value.status_code == status and fake_time.sleeps == []
    assert str(caught.value).startswith(f"getQuestionnaireExport on api.test: HTTP {status}")


def test_rejected_body_ends_the_wait_at_once(api: ScriptedApi, fake_time: FakeTime) -> None:
    api.add(ok("completed", downloadUrl="javascript:alert(1)"))
    with pytest.raises(ResponseValidationError) as caught:
        wait(api, fake_time, timeout=300)
    assert caught.value.field == "downloadUrl" and caught.value.status_code == 200
    assert (caught.value.operation, caught.value.host) == ("getQuestionnaireExport", "api.test")
    assert str(caught.value).startswith(
        "getQuestionnaireExport on api.test: HTTP 200: status=completed: field downloadUrl"
    )


def test_async_wait_fails_fast_too(api: ScriptedApi, fake_time: FakeTime) -> None:
    api.add(_chained(socket.gaierror(-2, "Name or service not known"), "lookup failed"))

    async def run() -> Any:
        return await wait_for_export_async(
            api.client(), EXPORT_ID, timeout=300, clock=fake_time.clock, sleep=fake_time.async_sleep
        )

    with pytest.raises(TransportError) as caught:
        asyncio.run(run())
    assert caught.value.kind == "dns" and fake_time.sleeps == []


def test_wait_timeout_names_operation_host_and_last_status(api: ScriptedApi, fake_time: FakeTime) -> None:
    api.add(ok("pending"), *[fail(503) for _ in range(10)])
    with pytest.raises(WaitTimeout) as caught:
        wait(api, fake_time, timeout=FAST.min_delay * 2.5)
    api.script.clear()
    error = caught.value
    assert (error.operation, error.host, error.last_status_code) == (
        "getQuestionnaireExport",
        "api.test",
        503,
    )
    assert str(error).startswith(
        f"getQuestionnaireExport on api.test: export {EXPORT_ID}: still pending after "
    )
    assert str(error).endswith("; last poll: HTTP 503")
