"""Part 3, conformance pipeline: N GETs through the suite's request-validate-record path vs a bare loop.

The suite path is ``Target.api`` (budget, rate limiter, redacted reproduction) then
``Context.observe`` (every rule, findings recorded), exactly what each rule does per request. The bare
loop is an ``httpx.Client`` issuing the same N requests. Both run against the reference server as
shipped, interleaved, median of repeats. ``make conformance`` is timed as a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import servers
from .scale import Scale
from .suite_harness import live_suite
from .table import Row, Target, measured_row
from .timing import compare, human_ns

ROWS = (
    "3 suite vs bare httpx throughput",
    "3 bounded fetch vs plain httpx GET",
    "3 make conformance wall vs bare requests",
)
#: The new limits (total time per request, streamed body cap, no redirect) may cost at most a fifth.
LIMITS_TARGET = Target("<=", 1.2)
THROUGHPUT_TARGET = Target(">=", 0.5)
CONFORMANCE_TOKEN_ENV = "CONFORMANCE_TOKEN"


def _throughput(scale: Scale, token: str) -> tuple[float, float, float]:
    """(suite req/s, bare req/s, bare ns per request), medians of interleaved repeats."""
    with live_suite(token) as (suite, bare):
        paths = [servers.export_path(export_id) for export_id in suite.exports.ids.values()]
        ids = list(suite.exports.ids.values())
        n = scale.requests

        def bare_batch() -> None:
            for i in range(n):
                bare.get(paths[i % len(paths)]).raise_for_status()

        def suite_batch() -> None:
            for i in range(n):
                suite.suite_get(ids[i % len(ids)])

        times = compare(
            {"bare": bare_batch, "suite": suite_batch},
            number=1,
            repeats=max(2, scale.repeats // 3),
            budget_s=scale.budget_s * 2,
        )
        if suite.findings():
            raise RuntimeError(f"the suite flagged the reference server: {suite.findings()[:3]}")
    bare_ns = times["bare"].median_ns / n
    return 1e9 / (times["suite"].median_ns / n), 1e9 / bare_ns, bare_ns


def _limits_overhead(scale: Scale, token: str) -> tuple[float, float]:
    """(bounded fetch, plain GET) nanoseconds per request on the same server, same export ids.

    The bounded path is ``conformance.bounded_http.fetch`` (deadline-clipped sockets, streamed body under
    ``--max-body-bytes``); the plain one ``httpx.Client.get`` reading the whole body. Medians, interleaved.
    """
    from conformance.bounded_http import bounded_client, fetch

    with live_suite(token) as (suite, bare):
        paths = [servers.export_path(export_id) for export_id in suite.exports.ids.values()]
        headers = {"Authorization": f"Bearer {token}"}
        n = scale.requests
        with bounded_client(10.0, base_url=suite.base_url) as bounded:

            def plain_batch() -> None:
                for i in range(n):
                    bare.get(paths[i % len(paths)]).raise_for_status()

            def bounded_batch() -> None:
                for i in range(n):
                    request = bounded.build_request("GET", paths[i % len(paths)], headers=headers)
                    got = fetch(bounded, request, total=10.0, max_bytes=1024 * 1024)
                    if got.cut or got.response.status_code != 200:
                        raise RuntimeError(f"bounded fetch answered {got.response.status_code} ({got.cut})")

            times = compare(
                {"plain": plain_batch, "bounded": bounded_batch},
                number=1,
                repeats=max(2, scale.repeats // 3),
                budget_s=scale.budget_s * 2,
            )
    return times["bounded"].median_ns / n, times["plain"].median_ns / n


def conformance_wall(scale: Scale) -> tuple[float, int]:
    """Seconds of ``python -m conformance run`` on the embedded default, and the requests it sent.

    The quick scale adds ``--no-schemathesis`` so the smoke test stays within seconds.
    """
    with tempfile.TemporaryDirectory(prefix="bench-conformance-") as tmp:
        report = Path(tmp) / "report.json"
        args = [sys.executable, "-m", "conformance", "run", "--report-json", str(report)]
        if scale.quick:
            args.append("--no-schemathesis")
        start = time.perf_counter()
        done = subprocess.run(
            args,
            cwd=servers.ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=scale.subprocess_timeout_s,
            check=False,
        )
        wall = time.perf_counter() - start
        if done.returncode == 2 or not report.exists():
            raise RuntimeError(f"conformance run could not run (exit code {done.returncode})")
        requests = int(json.loads(report.read_text(encoding="utf-8"))["requests"])
    return wall, requests


def run(scale: Scale, token: str) -> list[Row]:
    suite_rps, bare_rps, bare_ns = _throughput(scale, token)
    rows = [measured_row(ROWS[0], suite_rps, bare_rps, lambda v: f"{v:.0f} req/s", THROUGHPUT_TARGET)]
    bounded_ns, plain_ns = _limits_overhead(scale, token)
    rows.append(measured_row(ROWS[1], bounded_ns, plain_ns, lambda v: f"{human_ns(v)}/req", LIMITS_TARGET))
    wall, requests = conformance_wall(scale)
    baseline_s = requests * bare_ns / 1e9
    rows.append(
        Row(
            ROWS[2],
            f"{wall:.1f} s, {requests} requests" + (" (no Schemathesis)" if scale.quick else ""),
            f"{human_ns(baseline_s * 1e9)} ({requests} bare GETs)",
            wall / baseline_s if baseline_s > 0 else None,
            None,
        )
    )
    return rows
