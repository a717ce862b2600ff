"""Exit codes (0/1/2, one line, never a traceback), bounded time on dead or hanging targets, redaction."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import invoke, run_fake
from .fake_api import OK_QUESTIONNAIRE, TOKEN, RunningFake


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def hanging_port() -> Iterator[int]:
    """A listener that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(sock.getsockname()[1])
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    sock.close()


def _one_line_exit_2(code: int, output: str) -> None:
    assert code == 2
    assert "Traceback" not in output
    assert output.strip().splitlines()[-1].startswith("conformance: ")


def test_unreachable_target_exits_2_within_seconds() -> None:
    # A bound on behaviour, not a speed measurement: without the suite's timeouts this would hang until
    # pytest's own timeout; 5 s is five times the request timeout.
    started = time.monotonic()
    base = f"http://127.0.0.1:{_closed_port()}/v1"
    code, output = invoke(
        ["run", "--base-url", base, "--questionnaire-id", "q"], {"CONFORMANCE_TOKEN": TOKEN}
    )
    _one_line_exit_2(code, output)
    assert "cannot run" in output
    assert time.monotonic() - started < 5


def test_hanging_target_exits_2_within_the_request_timeout(hanging_port: int) -> None:
    started = time.monotonic()
    base = f"http://127.0.0.1:{hanging_port}/v1"
    argv = ["run", "--base-url", base, "--questionnaire-id", "q", "--request-timeout", "1"]
    code, output = invoke(argv, {"CONFORMANCE_TOKEN": TOKEN})
    _one_line_exit_2(code, output)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["run", "--base-url", "http://127.0.0.1:1/v1", "--questionnaire-id", "q"], {}, "CONFORMANCE_TOKEN"),
        (
            ["run", "--base-url", "ftp://x/v1", "--questionnaire-id", "q"],
            {"CONFORMANCE_TOKEN": "t"},
            "http(s)",
        ),
        (["run", "--base-url", "http://127.0.0.1:1/v1"], {"CONFORMANCE_TOKEN": "t"}, "--questionnaire-id"),
        (
            ["run", "--base-url", "http://127.0.0.1:1/v1", "--read-only"],
            {"CONFORMANCE_TOKEN": "t"},
            "--export-id",
        ),
        (["run", "--max-requests", "0"], {}, "must be positive"),
        (["run", "--token", "secret"], {}, "unrecognized arguments"),
        (["webhooks", "--listen", "127.0.0.1:0"], {}, "CONFORMANCE_WEBHOOK_SECRET"),
        ([], {}, "required"),
    ],
)
def test_bad_usage_exits_2_with_one_line(argv: list[str], env: dict[str, str], expected: str) -> None:
    code, output = invoke(argv, env)
    _one_line_exit_2(code, output)
    assert expected in output


def test_rejected_token_exits_2(fake: RunningFake) -> None:
    argv = ["run", "--base-url", fake.base_url, "--questionnaire-id", OK_QUESTIONNAIRE]
    code, output = invoke(argv, {"CONFORMANCE_TOKEN": "not-the-token-xyz"})
    _one_line_exit_2(code, output)
    assert "token was rejected" in output
    assert "not-the-token-xyz" not in output


def test_read_only_checks_given_exports_without_posting(fake: RunningFake, tmp_path: Path) -> None:
    seed_run = run_fake(fake, tmp_path, None, "--no-schemathesis")
    assert seed_run.code == 0, seed_run.output
    export_id = re.findall(r"created ([0-9a-f]{24})", seed_run.output)[0]
    before = len(fake.state.exports)
    run = run_fake(fake, tmp_path, None, "--read-only", "--export-id", export_id, "--no-schemathesis")
    assert run.code == 0, run.output
    assert len(fake.state.exports) == before
    outcomes = {rule["id"]: rule["outcome"] for rule in run.report["rules"]}
    assert outcomes["lifecycle"] == "passed" and outcomes["link"] == "passed"


def test_read_only_sends_no_post_even_from_schemathesis(fake: RunningFake, tmp_path: Path) -> None:
    seed_run = run_fake(fake, tmp_path, None, "--no-schemathesis")
    export_id = re.findall(r"created ([0-9a-f]{24})", seed_run.output)[0]
    posts = fake.state.posts
    run = run_fake(
        fake,
        tmp_path,
        None,
        "--read-only",
        "--export-id",
        export_id,
        "--profile",
        "full",
        "--max-requests",
        "80",
    )
    assert run.code == 0, run.output
    assert run.report["requestsByRule"].get("schemathesis", 0) > 0  # it did run, on GET only
    assert fake.state.posts == posts


def test_quick_profile_stays_within_100_requests_apart_from_polling(
    fake: RunningFake, tmp_path: Path
) -> None:
    run = run_fake(fake, tmp_path, None, "--profile", "quick")
    assert run.code == 0, run.output
    by_rule = run.report["requestsByRule"]
    # Exports here finish within a poll or two, so even with polling the whole verdict fits in 100.
    assert sum(by_rule.values()) <= 100, by_rule
    assert all(rule["outcome"] == "passed" for rule in run.report["rules"])


@pytest.mark.parametrize("fault", ["link_dead", "unknown_id_200", "completed_missing_expires_at", None])
def test_no_secret_in_any_output(fake: RunningFake, tmp_path: Path, fault: str | None) -> None:
    run = run_fake(fake, tmp_path, fault, "--profile", "quick")
    outputs = {"console": run.output, **run.files}
    assert set(outputs) == {"console", "json", "junit", "html"}
    for name, text in outputs.items():
        assert TOKEN not in text, name
        assert not re.search(r"signature=(?!REDACTED)", text), name
        assert not re.search(r"expires=\d", text), name
        assert not re.search(r"Bearer (?!REDACTED)\S", text), name
    if fault is not None:
        assert run.report["findings"], run.output
        finding = run.report["findings"][0]
        assert set(finding) == {"rule", "operation", "message", "request", "response"}


def test_json_report_shape_and_junit_cases(fake: RunningFake, tmp_path: Path) -> None:
    run = run_fake(fake, tmp_path, "link_dead", "--profile", "quick")
    assert run.code == 1
    report = run.report
    assert {"conforming", "findings", "rules", "requests"} <= set(report)
    assert report["conforming"] is False and isinstance(report["requests"], int)
    link_findings = [f for f in report["findings"] if f["rule"] == "link"]
    assert link_findings and link_findings[0]["response"]["status"] == 403
    assert link_findings[0]["request"]["url"].endswith("?REDACTED")
    assert run.files["junit"].count("<testcase ") == len(report["rules"])
    assert "<failure" in run.files["junit"]
    assert "<script" not in run.files["html"] and "http-equiv" not in run.files["html"]
