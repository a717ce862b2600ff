"""Property test of the waiter: for any mix of answers, the schedule keeps its promises."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from questionnaire_exports_client.lib import Backoff, ExportApiError, WaitTimeout, wait_for_export
from questionnaire_exports_client.models import ExportCompleted, ExportFailed

from .conftest import FakeTime, ScriptedApi, export_body, fail, ok

EXPORT_ID = export_body("pending")["id"]

answers = st.lists(
    st.one_of(
        st.just(("pending", None)),
        st.sampled_from([("502", None), ("504", None), ("connect", None)]),
        st.tuples(st.sampled_from(["429", "503"]), st.integers(0, 40).map(str) | st.none()),
    ),
    max_size=30,
).map(lambda xs: [*xs, ("completed", None)])


def reply(kind: str, retry_after: str | None) -> Any:
    if kind in ("pending", "completed"):
        return ok(kind)
    if kind == "connect":
        return httpx.ReadError("connection reset by peer")
    return fail(int(kind), retry_after)


def check(
    script: list[tuple[str, str | None]],
    timeout: float,
    min_delay: float,
    max_delay: float,
    cost: float,
    seed: int,
) -> None:
    fake_time = FakeTime()
    api = ScriptedApi(fake_time, [reply(*answer) for answer in script], request_cost=cost)
    backoff = Backoff(min_delay=min_delay, max_delay=max_delay)
    start = fake_time.now
    try:
        result = wait_for_export(
            api.client(),
            EXPORT_ID,
            timeout=timeout,
            backoff=backoff,
            clock=fake_time.clock,
            sleep=fake_time.sleep,
            rng=random.Random(seed),
        )
        assert isinstance(result, ExportCompleted | ExportFailed)
        assert len(api.requests) == len(script)
    except WaitTimeout as exc:
        assert exc.attempts == len(api.requests) < len(script) + 1
    # No poll starts after the deadline, and no sleep ends after it.
    assert all(t - start <= timeout + 1e-9 for t in api.times)
    assert sum(fake_time.sleeps) <= timeout + 1e-9
    for index, slept in enumerate(fake_time.sleeps):
        kind, retry_after = script[index]
        if kind in ("429", "503") and retry_after is not None:
            assert slept == max(float(retry_after), min_delay)
        else:
            assert slept <= max_delay
            # Only the last sleep, cut to the deadline, may be shorter than the minimum.
            assert slept >= min_delay or index == len(fake_time.sleeps) - 1


PROPERTY = given(
    script=answers,
    timeout=st.floats(0.5, 120),
    min_delay=st.floats(0.05, 3),
    spread=st.floats(1, 20),
    cost=st.sampled_from([0.0, 0.3, 2.0]),
    seed=st.integers(0, 1000),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@PROPERTY
def test_schedule_promises_hold(
    script: list[tuple[str, str | None]],
    timeout: float,
    min_delay: float,
    spread: float,
    cost: float,
    seed: int,
) -> None:
    check(script, timeout, min_delay, min_delay * spread, cost, seed)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@PROPERTY
def test_schedule_promises_hold_long_run(
    script: list[tuple[str, str | None]],
    timeout: float,
    min_delay: float,
    spread: float,
    cost: float,
    seed: int,
) -> None:
    check(script, timeout, min_delay, min_delay * spread, cost, seed)


def test_permanent_error_in_the_middle_stops_at_once() -> None:
    fake_time = FakeTime()
    api = ScriptedApi(fake_time, [ok("pending"), fail(429, "1"), fail(404)])
    with pytest.raises(ExportApiError):
        wait_for_export(api.client(), EXPORT_ID, timeout=60, clock=fake_time.clock, sleep=fake_time.sleep)
    assert len(api.requests) == 3
