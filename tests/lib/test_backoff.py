"""The backoff schedule's bounds and Retry-After parsing."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from questionnaire_exports_client.lib import Backoff, parse_retry_after


@given(
    min_delay=st.floats(0.01, 10),
    spread=st.floats(1, 50),
    multiplier=st.floats(1, 4),
    attempt=st.integers(1, 10_000),
    seed=st.integers(0, 2**32),
)
def test_delay_stays_within_bounds(
    min_delay: float, spread: float, multiplier: float, attempt: int, seed: int
) -> None:
    backoff = Backoff(min_delay=min_delay, max_delay=min_delay * spread, multiplier=multiplier)
    delay = backoff.delay(attempt, random.Random(seed))
    assert backoff.min_delay <= delay <= backoff.max_delay
    assert delay <= backoff.min_delay * multiplier ** min(attempt - 1, 64) * (1 + 1e-9)


def test_jitter_spreads_delays() -> None:
    backoff = Backoff(min_delay=1, max_delay=100)
    delays = {backoff.delay(6, random.Random(seed)) for seed in range(20)}
    assert len(delays) == 20 and max(delays) <= 32


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_delay": 0}, "min_delay"),
        ({"min_delay": 5, "max_delay": 1}, "min_delay"),
        ({"multiplier": 0.5}, "multiplier"),
        ({"max_delay": float("inf")}, "finite"),
    ],
)
def test_bad_bounds_are_rejected(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Backoff(**kwargs)


def test_attempt_must_be_positive() -> None:
    with pytest.raises(ValueError, match="attempt"):
        Backoff().delay(0, random.Random())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30", 30.0),
        (" 5 ", 5.0),
        ("0", 0.0),
        ("Thu, 01 Jan 1970 00:01:40 GMT", 60.0),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
        ("-3", None),
        ("soon", None),
        ("1.5", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=40.0) == expected
