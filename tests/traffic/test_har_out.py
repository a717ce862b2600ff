"""`run --har-out`: the run's exchanges (its own, Schemathesis', downloads) written redacted, and read back
by `check-traffic` with the same verdict and the same rule as `run`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ..conformance.fake_api import FAILING_QUESTIONNAIRE, OK_QUESTIONNAIRE, TOKEN, RunningFake
from .conftest import check_traffic, invoke_cli

_SIGNATURE = re.compile(r"signature=(?!REDACTED)[0-9a-f]{8,}")


def _entries(path: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(path.read_text())["log"]["entries"]
    return entries


def test_a_run_of_the_reference_server_round_trips_conforming(tmp_path: Path) -> None:
    har = tmp_path / "run.har"
    code, output = invoke_cli(["run", "--profile", "quick", "--max-requests", "30", "--har-out", str(har)])
    assert code == 0, output
    text = har.read_text()
    entries = _entries(har)
    agents = {
        h["value"] for e in entries for h in e["request"]["headers"] if h["name"].lower() == "user-agent"
    }
    assert any(agent.startswith("schemathesis") for agent in agents), agents  # its traffic is recorded too
    comments = [e["response"]["content"].get("comment", "") for e in entries]
    assert any(
        re.fullmatch(r"cut: download not recorded: \d+ bytes, sha256 [0-9a-f]{64}", c) for c in comments
    )
    assert "embedded-" not in text and not _SIGNATURE.search(text)  # the run's token, the links' signatures
    checked = check_traffic(har)
    assert checked.code == 0, checked.output
    assert set(checked.outcomes.values()) == {"passed"}, checked.outcomes


def _run_fake(
    fake: RunningFake, tmp_path: Path, fault: str | None, *extra: str, token: str = TOKEN
) -> tuple[int, str, Path]:
    har = tmp_path / "run.har"
    fake.config.fault = fault
    try:
        code, output = invoke_cli(
            [
                *("run", "--base-url", fake.base_url, "--questionnaire-id", OK_QUESTIONNAIRE),
                *("--failing-questionnaire-id", FAILING_QUESTIONNAIRE, "--poll-timeout", "2"),
                *("--profile", "quick", "--max-requests", "40", "--har-out", str(har), *extra),
            ],
            {"CONFORMANCE_TOKEN": token},
        )
    finally:
        fake.config.fault = None
    return code, output, har


@pytest.mark.parametrize(
    ("fault", "rule"), [("expires_short", "time"), ("auth_missing_ignored", "errors-auth")]
)
def test_a_fault_run_finds_check_traffic_finds_with_the_same_rule(
    traffic_fake: RunningFake, tmp_path: Path, fault: str, rule: str
) -> None:
    code, output, har = _run_fake(traffic_fake, tmp_path, fault)
    assert code == 1 and f"FAIL [{rule}]" in output, output
    text = har.read_text()
    assert TOKEN not in text and not _SIGNATURE.search(text)
    checked = check_traffic(har)
    assert checked.code == 1 and checked.failed_rules == {rule}, checked.output


def test_a_run_that_cannot_go_on_still_writes_what_it_sent(traffic_fake: RunningFake, tmp_path: Path) -> None:
    code, output, har = _run_fake(traffic_fake, tmp_path, None, token="a-token-the-fake-rejects")
    assert code == 2 and "the token was rejected" in output, output
    entries = _entries(har)
    assert [e["response"]["status"] for e in entries] == [401]
    assert "a-token-the-fake-rejects" not in har.read_text()


def test_an_unwritable_har_out_is_exit_2(traffic_fake: RunningFake, tmp_path: Path) -> None:
    code, output, _ = _run_fake(traffic_fake, tmp_path, None, "--no-schemathesis", "--har-out", str(tmp_path))
    assert code == 2 and "conformance: cannot write HAR file:" in output, output
