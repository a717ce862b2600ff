"""Shared fixtures: one fake API for the whole folder (faults switched per run) and an in-process CLI runner."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import run_cli

from .fake_api import FAILING_QUESTIONNAIRE, OK_QUESTIONNAIRE, TOKEN, FakeConfig, RunningFake, running_fake


@dataclass
class CliRun:
    """One CLI run (`run` or `check-traffic`): exit code, console output, the JSON report, every report's text."""

    code: int
    output: str
    report: dict[str, Any]
    files: dict[str, str]

    @property
    def failed_rules(self) -> set[str]:
        return {rule["id"] for rule in self.report.get("rules", []) if rule["outcome"] == "failed"}

    @property
    def outcomes(self) -> dict[str, str]:
        return {rule["id"]: rule["outcome"] for rule in self.report.get("rules", [])}


def invoke(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    out = io.StringIO()
    code = run_cli(argv, env=env if env is not None else {}, out=out)
    return code, out.getvalue()


@pytest.fixture(scope="session")
def fake() -> Iterator[RunningFake]:
    with running_fake(FakeConfig()) as server:
        yield server


def run_fake(fake: RunningFake, tmp: Path, fault: str | None, *extra: str) -> CliRun:
    """Run the suite in-process against the fake with `fault` switched on; all three reports written."""
    fake.config.fault = fault
    paths = {"json": tmp / "report.json", "junit": tmp / "junit.xml", "html": tmp / "report.html"}
    argv = [
        "run",
        "--base-url",
        fake.base_url,
        "--questionnaire-id",
        OK_QUESTIONNAIRE,
        "--failing-questionnaire-id",
        FAILING_QUESTIONNAIRE,
        "--poll-timeout",
        "2",
        "--report-json",
        str(paths["json"]),
        "--junit",
        str(paths["junit"]),
        "--report-html",
        str(paths["html"]),
        *extra,
    ]
    try:
        code, output = invoke(argv, {"CONFORMANCE_TOKEN": TOKEN})
    finally:
        fake.config.fault = None
    files = {name: path.read_text() for name, path in paths.items() if path.exists()}
    report = json.loads(files["json"]) if "json" in files else {}
    return CliRun(code=code, output=output, report=report, files=files)
