"""Part 5, reference server: requests per second for GET status and POST create on one worker.

Server and load generator (``bench.loadgen``) each run in their own process on loopback, bounded in
requests and seconds. Baseline: ``bench.hello_server``, a bare Starlette app on the same serving stack,
loaded the same way. The load generator itself costs CPU on a 2-core machine, so these are lower
bounds of what the server can do; the ratio is what to read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import contract
from reference_server import seed

from . import servers
from .loadgen import TOKEN_ENV
from .scale import Scale
from .table import Row, measured_row

ROWS = (
    "5 GET status req/s: reference vs bare Starlette",
    "5 POST create req/s: reference vs bare Starlette",
)
CONCURRENCY = 8
_EXPORT_DELAY_S = 3600.0  # exports stay pending: the load measures the API, not the exporter


def run_load(method: str, url: str, body: bytes | None, token: str, scale: Scale) -> float:
    """Requests per second one ``bench.loadgen`` process achieved (2xx only; errors fail the run)."""
    args = [sys.executable, "-m", "bench.loadgen", "--method", method, "--url", url]
    args += ["--concurrency", str(CONCURRENCY), "--seconds", f"{scale.load_seconds:g}"]
    args += ["--max-requests", str(scale.load_requests)]
    if body is not None:
        args += ["--body", body.decode()]
    done = subprocess.run(
        args,
        cwd=servers.ROOT,
        env={**os.environ, TOKEN_ENV: token},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=scale.load_seconds + 60.0,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed (exit code {done.returncode})")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["errors"]:
        raise RuntimeError(f"{method} load saw non-2xx answers: {result['statuses']}")
    return float(result["requests"]) / float(result["elapsed"])


def _reference_rates(token: str, scale: Scale) -> tuple[float, float]:
    """(GET, POST) requests per second of the reference server as shipped."""
    with (
        servers.reference_server(token, export_delay=_EXPORT_DELAY_S) as base_url,
        servers.api_client(base_url, token) as client,
    ):
        body = json.dumps(contract.example_create_body(seed.SPREADSHEET_QUESTIONNAIRE_ID)).encode()
        created = client.post(
            contract.operation_path(contract.CREATE_OP),
            content=body,
            headers={"Content-Type": "application/json"},
        )
        created.raise_for_status()
        get_url = base_url + servers.export_path(str(created.json()["id"]))
        get_rps = run_load("GET", get_url, None, token, scale)
        post_rps = run_load(
            "POST", base_url + contract.operation_path(contract.CREATE_OP), body, token, scale
        )
    return get_rps, post_rps


def run(scale: Scale, token: str) -> list[Row]:
    ref_get, ref_post = _reference_rates(token, scale)
    body = json.dumps(contract.example_create_body(seed.SPREADSHEET_QUESTIONNAIRE_ID)).encode()
    with servers.listening_process(["-m", "bench.hello_server", "--port", "0"]) as base_url:
        hello_get = run_load("GET", base_url + servers.export_path("hello"), None, token, scale)
        hello_post = run_load(
            "POST", base_url + contract.operation_path(contract.CREATE_OP), body, token, scale
        )

    def show(rate: float) -> str:
        return f"{rate:.0f} req/s"

    return [
        measured_row(ROWS[0], ref_get, hello_get, show, None),
        measured_row(ROWS[1], ref_post, hello_post, show, None),
    ]
