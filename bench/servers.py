"""Servers in their own processes, and the exports the HTTP benchmarks read.

Why subprocesses: a server sharing the benchmark's interpreter would share its GIL, so its latency
and throughput would be the benchmark's as much as its own. The bearer token travels in the
environment (never on a command line, where ``ps`` shows it), and server output is discarded so no
log line can carry a secret into the report.
"""

from __future__ import annotations

import contextlib
import os
import random
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from questionnaire_exports_client.lib import Backoff, parse_retry_after
from questionnaire_exports_client.lib.schedule import Schedule

import contract

ROOT = Path(__file__).resolve().parent.parent
_LISTENING = "listening on "
_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 10.0
TOKENS_ENV = "REFERENCE_SERVER_TOKENS"  # read by ``python -m reference_server``


def _read_listening_line(proc: subprocess.Popen[str], timeout_s: float) -> str:
    if proc.stdout is None:
        raise RuntimeError("server started without a stdout pipe")
    deadline = time.monotonic() + timeout_s
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0:
            if not selector.select(timeout=min(left, 0.5)):
                if proc.poll() is not None:
                    break
                continue
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith(_LISTENING):
                return line[len(_LISTENING) :].strip()
    raise RuntimeError(f"server did not print its address within {timeout_s:g} s (exit code {proc.poll()})")


@contextlib.contextmanager
def listening_process(
    args: Sequence[str], *, env: dict[str, str] | None = None, timeout_s: float = _START_TIMEOUT_S
) -> Iterator[str]:
    """Run ``python <args>`` until it prints ``listening on URL``; yield URL; stop the process after."""
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield _read_listening_line(proc, timeout_s)
    finally:
        proc.terminate()
        try:
            proc.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(_STOP_TIMEOUT_S)
        if proc.stdout is not None:
            proc.stdout.close()


@contextlib.contextmanager
def reference_server(token: str, *, export_delay: float) -> Iterator[str]:
    """The reference server as shipped (one worker, in memory, no rate limit) on a free loopback port.

    Yields its base URL.
    """
    args = ["-m", "reference_server", "--host", "127.0.0.1", "--port", "0", "--in-memory"]
    args += ["--rate-limit", "off", "--export-delay", f"{export_delay:g}"]
    with listening_process(args, env={TOKENS_ENV: token}) as url:
        yield url


def export_path(export_id: str) -> str:
    return contract.operation_path(contract.GET_OP, id=export_id)


@dataclass(frozen=True)
class Exports:
    """One export of each status on a server: ``{status: export id}``."""

    ids: dict[str, str]


def create_exports(
    client: httpx.Client, *, succeeding: str, failing: str, export_delay: float, timeout_s: float = 20.0
) -> Exports:
    """Create a pending, a completed and a failed export; waits (bounded) for the latter two to finish.

    The pending one is created last, after the others finished, so it is still pending when read
    (``export_delay`` must be long enough for the reads that follow).
    """
    ids: dict[str, str] = {}
    for wanted, questionnaire in (("completed", succeeding), ("failed", failing)):
        answer = client.post(
            contract.operation_path(contract.CREATE_OP), json=contract.example_create_body(questionnaire)
        )
        answer.raise_for_status()
        ids[wanted] = str(answer.json()["id"])
    # The client's own schedule (one deadline for both waits), at a fixed short step: a local server.
    step = max(0.001, min(0.05, export_delay))
    schedule = Schedule(timeout_s, Backoff(min_delay=step, max_delay=step), time.monotonic, random.Random(0))
    for wanted in ("completed", "failed"):
        while True:
            schedule.start_attempt()
            answer = client.get(export_path(ids[wanted]))
            status = answer.json().get("status")
            if status == wanted:
                break
            wait = schedule.next_delay(parse_retry_after(answer.headers.get("retry-after"), now=time.time()))
            if wait is None:
                raise RuntimeError(f"export did not reach {wanted} within {timeout_s:g} s (last {status!r})")
            time.sleep(wait)
    answer = client.post(
        contract.operation_path(contract.CREATE_OP), json=contract.example_create_body(succeeding)
    )
    answer.raise_for_status()
    ids["pending"] = str(answer.json()["id"])
    return Exports(ids)


def api_client(base_url: str, token: str) -> httpx.Client:
    """A keep-alive client for the API with the bearer token set."""
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0)
