"""Part 4, waiting: polls and detection delay of ``wait_for_export`` on a simulated clock.

Exports finish after 2 s, 30 s, 5 min and 30 min. ``wait_for_export`` runs with its defaults through the
real generated client (an ``httpx.MockTransport`` answers from the simulated clock; nothing sleeps).
Baselines, simulated the same way: a fixed 15 s interval (AWS's most common waiter delay) and Smithy's
waiter defaults (minDelay 2 s, maxDelay 120 s, jittered exponential, as the Smithy spec states it).
Polls are the worst case over the jitter seeds (the target says "never more"); delays are medians.
"""

from __future__ import annotations

import json
import math
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from questionnaire_exports_client.client import AuthenticatedClient
from questionnaire_exports_client.lib import Backoff, wait_for_export

from contract import discriminator

from . import bodies
from .scale import Scale
from .table import Row, Target

DURATIONS_S = (2.0, 30.0, 300.0, 1800.0)
FIXED_INTERVAL_S = 15.0
SMITHY_MIN_S, SMITHY_MAX_S = 2.0, 120.0
VENDOR_LIMIT_PER_MIN = 100.0
_EXPORT_ID = "bench-simulated-export"
_MAX_POLLS = 10_000  # bound of the simulated baselines' loops


def _label(seconds: float) -> str:
    return f"{seconds:g} s" if seconds < 60 else f"{seconds / 60:g} min"


ROWS = (
    *(
        name
        for d in DURATIONS_S
        for name in (
            f"4 polls @ {_label(d)}: helper vs fixed 15 s",
            f"4 delay @ {_label(d)}: helper vs Smithy",
        )
    ),
    "4 peak rate: helper vs vendor limit",
)


@dataclass
class SimulatedApi:
    """A clock that moves only when slept on, and an API whose export completes at ``done_at``."""

    done_at: float
    now: float = 0.0
    polls: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.polls.append(self.now)
        status = _statuses()["completed" if self.now >= self.done_at else "pending"]
        return httpx.Response(200, content=status, headers={"content-type": "application/json"})


def _statuses() -> dict[str, bytes]:
    return {status: json.dumps(body).encode() for status, body in bodies.variant_examples().items()}


@dataclass(frozen=True)
class Outcome:
    polls: int
    delay: float  # seconds between completion and the poll that saw it
    peak_per_min: float


def _outcome(polls: list[float], done_at: float) -> Outcome:
    peak = max(sum(1 for t in polls if start <= t < start + 60.0) for start in polls)
    return Outcome(len(polls), polls[-1] - done_at, float(peak))


def helper_run(done_at: float, seed: int, backoff: Backoff | None = None) -> Outcome:
    """``wait_for_export`` (its defaults unless ``backoff`` is given) against an export done at ``done_at``."""
    api = SimulatedApi(done_at)
    client = AuthenticatedClient(base_url="http://simulated.invalid/v1", token="simulated")
    client.set_httpx_client(
        httpx.Client(base_url="http://simulated.invalid/v1", transport=httpx.MockTransport(api.handler))
    )
    tag, _ = discriminator()
    result = wait_for_export(
        client,
        _EXPORT_ID,
        timeout=done_at + 3600.0,
        backoff=backoff,
        clock=api.clock,
        sleep=api.sleep,
        rng=random.Random(seed),
    )
    if getattr(result, tag) != "completed":
        raise RuntimeError(f"simulated wait ended with {getattr(result, tag)!r}")
    return _outcome(api.polls, done_at)


def _simulate(done_at: float, next_delay: Callable[[int], float]) -> Outcome:
    polls, now = [0.0], 0.0
    for attempt in range(1, _MAX_POLLS):
        if now >= done_at:
            break
        now += next_delay(attempt)
        polls.append(now)
    return _outcome(polls, done_at)


def fixed_run(done_at: float) -> Outcome:
    return _simulate(done_at, lambda attempt: FIXED_INTERVAL_S)


def smithy_delay(attempt: int, rng: random.Random) -> float:
    """Smithy's waiter retry delay for retry ``attempt`` (1-based), before the max-wait-time clamp."""
    ceiling_attempt = math.log(SMITHY_MAX_S / SMITHY_MIN_S) / math.log(2) + 1
    delay = SMITHY_MAX_S if attempt > ceiling_attempt else SMITHY_MIN_S * 2 ** (attempt - 1)
    return rng.uniform(SMITHY_MIN_S, delay)


def smithy_run(done_at: float, seed: int) -> Outcome:
    rng = random.Random(seed)
    return _simulate(done_at, lambda attempt: smithy_delay(attempt, rng))


def _ratio(measured: float, baseline: float) -> float:
    """``measured / baseline``; a zero baseline (Smithy polled at the very moment) gives 1 or infinity."""
    if baseline > 0:
        return measured / baseline
    return 1.0 if measured <= 0 else math.inf


def run(scale: Scale) -> list[Row]:
    rows: list[Row] = []
    peak = 0.0
    for done_at in DURATIONS_S:
        seeds = range(scale.wait_seeds)
        helper = [helper_run(done_at, seed) for seed in seeds]
        smithy = [smithy_run(done_at, seed) for seed in seeds]
        fixed = fixed_run(done_at)
        peak = max(peak, *(o.peak_per_min for o in helper))
        worst = max(o.polls for o in helper)
        rows.append(
            Row(
                f"4 polls @ {_label(done_at)}: helper vs fixed 15 s",
                f"{worst} polls (max)",
                f"{fixed.polls} polls",
                worst / fixed.polls,
                Target("<=", 1.0),
            )
        )
        helper_delay = statistics.median(o.delay for o in helper)
        smithy_delay_s = statistics.median(o.delay for o in smithy)
        smithy_polls = statistics.median(o.polls for o in smithy)
        rows.append(
            Row(
                f"4 delay @ {_label(done_at)}: helper vs Smithy",
                f"{helper_delay:.1f} s (median)",
                f"{smithy_delay_s:.1f} s, {smithy_polls:g} polls",
                _ratio(helper_delay, smithy_delay_s),
                Target("<=", 1.0),
            )
        )
    rows.append(
        Row(
            ROWS[-1],
            f"{peak:g} req/min (max)",
            f"{VENDOR_LIMIT_PER_MIN:g} req/min",
            peak / VENDOR_LIMIT_PER_MIN,
            Target("<=", 1.0),
        )
    )
    return rows
