"""The table's verdicts and the timing loops' bounds (pure functions, no timing asserted)."""

from __future__ import annotations

import math

import pytest

from bench import loadgen, waiting
from bench.table import Row, Target, measured_row, render
from bench.timing import compare, human_ns, latencies


def test_target_verdicts() -> None:
    assert Target("<=", 2.0).met(2.0) and not Target("<=", 2.0).met(2.01)
    assert Target(">=", 0.5).met(0.5) and not Target(">=", 0.5).met(0.49)
    assert Row("r", "1", "2", math.inf, Target("<=", 1.0)).met == "no"
    assert Row("r", "1", "2", 0.5, None).met == "n/a"
    with pytest.raises(ValueError, match="operator"):
        Target("<", 1.0)


def test_measured_row_needs_a_positive_baseline() -> None:
    row = measured_row("r", 3.0, 1.5, lambda v: f"{v:g}", Target("<=", 2.0))
    assert (row.ratio, row.met) == (2.0, "yes")
    with pytest.raises(ValueError, match="baseline must be positive"):
        measured_row("r", 3.0, 0.0, str, None)


def test_render_aligns_every_row() -> None:
    lines = render(
        [Row("a", "1 s", "2 s", 0.5, Target("<=", 1.0)), Row("bb", "x", "y", None, None)]
    ).splitlines()
    assert len(lines) == 4 and len({len(line) for line in lines}) == 1
    assert lines[2].split("|")[-2].strip() == "yes"


def test_compare_stops_at_its_budget_but_keeps_every_candidate() -> None:
    calls = {"a": 0, "b": 0}

    def bump(name: str) -> None:
        calls[name] += 1

    result = compare({"a": lambda: bump("a"), "b": lambda: bump("b")}, number=3, repeats=1000, budget_s=0.0)
    assert {name: t.repeats for name, t in result.items()} == {"a": 1, "b": 1}
    assert calls == {"a": 4, "b": 4}  # one warm-up call, then one repeat of three calls
    assert len(latencies(lambda: None, count=50, budget_s=0.0)) == 1
    with pytest.raises(ValueError, match=">= 1"):
        compare({"a": lambda: None}, number=0, repeats=1, budget_s=1.0)


def test_human_units() -> None:
    assert [human_ns(v) for v in (812, 41_300, 2_400_000, 1_250_000_000)] == [
        "812 ns",
        "41.3 µs",
        "2.40 ms",
        "1.25 s",
    ]


def test_loadgen_rejects_bad_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        loadgen.main(
            ["--method", "GET", "--url", "http://127.0.0.1:9/", "--seconds", "0", "--max-requests", "1"]
        )
    assert exit_info.value.code == 2
    assert "must be positive" in capsys.readouterr().err


def test_smithy_delay_stays_within_its_bounds() -> None:
    import random

    rng = random.Random(1)
    delays = [waiting.smithy_delay(attempt, rng) for attempt in range(1, 40)]
    assert all(waiting.SMITHY_MIN_S <= d <= waiting.SMITHY_MAX_S for d in delays)
    assert max(delays[:1]) == waiting.SMITHY_MIN_S  # the first retry waits exactly minDelay


def test_simulated_fixed_interval_counts_polls() -> None:
    outcome = waiting.fixed_run(20.0)
    assert (outcome.polls, outcome.delay) == (3, 10.0)  # polls at 0, 15 and 30 s


def test_profile_client_names_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import profile_client

    assert profile_client.main(["--number", "1", "--repeats", "1"]) == 0
    printed = capsys.readouterr().out
    for label, _, _ in profile_client.steps():
        assert label in printed
    assert "_check_value(date-time) per field" in printed
