"""Shared fixtures: a reference server and a faulty-server fake for recording, and check-traffic in-process."""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from questionnaire_exports_client.redact import Redactor

from conformance.cli import run_cli
from conformance.traffic.har import write_har
from conformance.traffic.recorded import Recorded
from reference_server import seed, testing

from ..conformance.conftest import CliRun
from ..conformance.fake_api import (
    FAILING_QUESTIONNAIRE,
    OK_QUESTIONNAIRE,
    TOKEN,
    FakeConfig,
    RunningFake,
    running_fake,
)
from .flows import Api

REFERENCE_TOKEN = "traffic-reference-token-4kQ9zV"


#: A `check-traffic` run, read like a `run` one.
Checked = CliRun


def check_traffic(har: Path, *extra: str, into: Path | None = None) -> Checked:
    """`conformance check-traffic` in-process, all three reports written into `into` (default: a folder of
    this call's own, never beside the file: fixtures stay untouched and parallel workers cannot collide)."""
    with tempfile.TemporaryDirectory(prefix="check-traffic-") as scratch:
        folder = into or Path(scratch)
        paths = {name: folder / f"{har.stem}.report.{name}" for name in ("json", "xml", "html")}
        argv = [
            "check-traffic",
            str(har),
            "--report-json",
            str(paths["json"]),
            "--junit",
            str(paths["xml"]),
            "--report-html",
            str(paths["html"]),
            *extra,
        ]
        code, output = invoke_cli(argv)
        files = {name: path.read_text(encoding="utf-8") for name, path in paths.items() if path.exists()}
    return Checked(code, output, json.loads(files["json"]) if "json" in files else {}, files)


def invoke_cli(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    """The conformance CLI in-process: exit code and everything it printed."""
    out = io.StringIO()
    code = run_cli(argv, env=env or {}, out=out)
    return code, out.getvalue()


def check_entries(tmp: Path, entries: list[Recorded], *extra: str, secrets: tuple[str, ...] = ()) -> Checked:
    """Write `entries` as a HAR file (redacted as `run --har-out` writes it), then check it."""
    har = tmp / "traffic.har"
    write_har(har, entries, Redactor(secrets))
    return check_traffic(har, *extra)


@pytest.fixture(scope="session")
def reference() -> Iterator[Api]:
    with testing.running_server(tokens=(REFERENCE_TOKEN,), export_delay=0.05, in_memory=True) as handle:
        yield Api(
            base_url=str(handle.base_url),
            token=REFERENCE_TOKEN,
            questionnaire_id=str(seed.SPREADSHEET_QUESTIONNAIRE_ID),
            failing_questionnaire_id=str(seed.FAILING_QUESTIONNAIRE_ID),
        )


@pytest.fixture(scope="session")
def traffic_fake() -> Iterator[RunningFake]:
    """The catalogue's fake, one per worker (its `fault` and `export_delay` are switched per test)."""
    with running_fake(FakeConfig()) as server:
        yield server


def fake_api(fake: RunningFake) -> Api:
    return Api(fake.base_url, TOKEN, OK_QUESTIONNAIRE, FAILING_QUESTIONNAIRE)
