"""Hostile targets: every run ends within its bound, under the memory bound, with a valid report, no
traceback, no token anywhere, and exactly as many requests counted as the target received.

`make test` runs a bounded form (short deadline and request timeout); `-m slow` runs the issue's exact
command (`--deadline 30 --request-timeout 5 --max-requests 60 --max-polls 20 --profile quick`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from .hostile import MODES, QUESTIONNAIRE, TOKEN, ChildRun, hostile_server, measure_child_peak_mb, run_child

PEAK_RSS_MB = 300
MAX_REQUESTS, MAX_POLLS = 60, 20
CASES = [
    *((mode, "all") for mode in MODES),
    *(
        (mode, "get")
        for mode in (
            "trickle_body",
            "endless_body",
            "huge_length",
            "redirect_other_host",
            "deep_json",
            "not_utf8",
        )
    ),
    *((mode, "download") for mode in ("trickle_body", "endless_body", "huge_length", "redirect_loop")),
    *(
        (mode, "later")
        for mode in ("redirect_loop", "redirect_other_host", "trickle_headers", "endless_body")
    ),
]
#: The bounded form `make test` runs: each behaviour once where it is new (HTML and login-redirect
#: preflights are pinned in-process by test_safety.py); every case runs under `-m slow`.
_SLOW_ONLY = {
    ("html_404", "all"),
    ("redirect_other_host", "all"),
    ("not_utf8", "all"),
    ("huge_length", "get"),
    ("redirect_other_host", "get"),
    ("redirect_other_host", "later"),
    ("endless_body", "later"),
}
BOUNDED = [case for case in CASES if case not in _SLOW_ONLY]


def _check(
    mode: str, where: str, tmp_path: Path, deadline: float, request_timeout: float, profile: str = "quick"
) -> ChildRun:
    with hostile_server(mode, where) as server:
        argv = [
            "run", "--base-url", server.base_url, "--questionnaire-id", QUESTIONNAIRE,
            "--deadline", f"{deadline:g}", "--request-timeout", f"{request_timeout:g}",
            "--max-requests", str(MAX_REQUESTS), "--max-polls", str(MAX_POLLS), "--profile", profile,
        ]  # fmt: skip
        run = run_child(argv, tmp_path, limit=deadline + 15)
        received = server.received()
    assert run.code in (1, 2), run.output
    assert run.elapsed < deadline + 10, (run.elapsed, run.output)
    assert run.peak_rss_mb < PEAK_RSS_MB, run.peak_rss_mb
    assert "Traceback" not in run.output and "internal error" not in run.output, run.output
    assert run.report["conforming"] in (False, None), run.report
    if run.code == 2:
        assert run.report["conforming"] is None and run.report["error"], run.report
    for name, text in {"console": run.output, **run.files}.items():
        assert TOKEN not in text, name
        assert "s3cr3t" not in text, name
    assert received == run.report["requests"], (received, run.report["requests"], run.output)
    assert received <= MAX_REQUESTS + MAX_POLLS
    return run


@pytest.mark.parametrize(("mode", "where"), BOUNDED)
def test_hostile_target_is_bounded(mode: str, where: str, tmp_path: Path) -> None:
    _check(mode, where, tmp_path, deadline=4, request_timeout=1)


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "where"), CASES)
def test_hostile_target_done_when_command(mode: str, where: str, tmp_path: Path) -> None:
    _check(mode, where, tmp_path, deadline=30, request_timeout=5)


@pytest.mark.parametrize("mode", ["redirect_loop", "redirect_other_host"])
def test_full_profile_redirects_are_counted_and_never_followed(mode: str, tmp_path: Path) -> None:
    """Schemathesis' stateful and fuzzing phases meet redirects on every answer: none is followed, all are
    counted (the target received exactly the report's count, within the budget)."""
    run = _check(mode, "later", tmp_path, deadline=20, request_timeout=2, profile="full")
    host = "login.example.invalid" if mode == "redirect_other_host" else "127.0.0.1"
    messages = [f["message"] for f in run.report["findings"] if f["rule"] == "schema"]
    assert any(f"a redirect the spec does not document (Location host {host}" in m for m in messages), (
        messages
    )


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_read_only_sends_only_get_and_head(profile: str, tmp_path: Path) -> None:
    with hostile_server(None) as server:
        created = httpx.post(
            server.base_url + "/customer-trust/questionnaires/exports",
            json={"questionnaireId": QUESTIONNAIRE, "format": "csv"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        export_id = created.json()["id"]
        before = server.received()
        argv = [
            "run", "--base-url", server.base_url, "--read-only", "--export-id", export_id,
            "--profile", profile, "--max-requests", "80", "--deadline", "60",
        ]  # fmt: skip
        run = run_child(argv, tmp_path, limit=75)
        with server.lock:
            methods = {method for method, _ in server.log[before:]}
        received = server.received() - before
    assert run.code in (0, 1), run.output
    assert methods <= {"GET", "HEAD"}, methods
    assert received == run.report["requests"]
    assert run.report["requestsByRule"].get("schemathesis", 0) > 0, run.report  # it ran, on GET only


def test_rate_limit_holds_for_every_engine(tmp_path: Path) -> None:
    """At 1200/min (20/s), no one-second window of the target's log holds more than 20 (+2 for the window's
    edges), Schemathesis' share included; unlimited, the same run sends its ~40 requests in a burst."""
    with hostile_server(None) as server:
        argv = [
            "run", "--base-url", server.base_url, "--questionnaire-id", QUESTIONNAIRE,
            "--profile", "quick", "--rate-limit", "1200", "--max-requests", "60",
        ]  # fmt: skip
        run = run_child(argv, tmp_path, limit=60)
        with server.lock:
            arrivals = sorted(server.arrivals)
    assert run.code in (0, 1), run.output
    assert run.report["requestsByRule"].get("schemathesis", 0) > 0
    busiest = max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals)
    assert busiest <= 22, busiest
    assert len(arrivals) == run.report["requests"]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["trickle_body", "trickle_headers", "endless_body"])
def test_full_profile_deadline_holds_on_schemathesis_share(mode: str, tmp_path: Path) -> None:
    """All four Schemathesis phases against answers that trickle or never end: still within S + 10 s."""
    _check(mode, "later", tmp_path, deadline=30, request_timeout=5, profile="full")


@pytest.mark.parametrize(("megabytes", "expect_over"), [(0, False), (350, True)])
def test_peak_rss_is_the_childs_own(tmp_path: Path, megabytes: int, expect_over: bool) -> None:
    """The memory meter sees a child that grows past the bound, and does not charge a small child with
    the pytest worker's own size (which `wait4` would: Linux carries the parent's peak into the child)."""
    ballast = bytearray(PEAK_RSS_MB * 1024 * 1024)  # this process is bigger than the bound
    ballast[::4096] = b"\x01" * len(ballast[::4096])
    script = f"import time; b = bytearray({megabytes} << 20); b[::4096] = b'\\x01' * len(b[::4096]); time.sleep(0.2)"
    peak = measure_child_peak_mb([sys.executable, "-c", script], limit=30)
    assert (peak > PEAK_RSS_MB) is expect_over, peak
    del ballast
