"""Misconfiguration is "could not run" (exit 2) with a hint and reports; redaction, coverage, small things."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from questionnaire_exports_client.redact import Redactor

from conformance.bounded_http import failure_kind
from conformance.check_schema import validate_body
from conformance.model import Tally
from conformance.rules import WEBHOOK_RULE
from conformance.webhooks import WebhookChecker, listening
from contract import component_schema

from .conftest import invoke, run_fake
from .fake_api import FAILING_QUESTIONNAIRE, OK_QUESTIONNAIRE, TOKEN, WEBHOOK_SECRET, RunningFake
from .hostile import QUESTIONNAIRE, hostile_server
from .hostile import TOKEN as HOSTILE_TOKEN


def _reports(tmp: Path) -> list[str]:
    return [
        "--report-json", str(tmp / "r.json"), "--junit", str(tmp / "j.xml"), "--report-html", str(tmp / "r.html"),
    ]  # fmt: skip


def _exit_2_with_reports(code: int, output: str, tmp: Path) -> dict[str, Any]:
    assert code == 2, output
    assert "Traceback" not in output
    last = output.strip().splitlines()[-1]
    assert last.startswith("conformance: "), output
    report: dict[str, Any] = json.loads((tmp / "r.json").read_text())
    assert report["conforming"] is None
    assert report["error"] and report["error"] in last
    junit = (tmp / "j.xml").read_text()
    assert junit.count("<testcase ") == 1 and "<error " in junit
    assert "Could not run" in (tmp / "r.html").read_text()
    return report


def test_base_url_without_v1_is_a_misconfiguration(tmp_path: Path) -> None:
    from reference_server import seed, testing

    with testing.running_server(tokens=("ref-token-abcdef12",), in_memory=True) as server:
        base = str(server.base_url).removesuffix("/v1")
        argv = ["run", "--base-url", base, "--questionnaire-id", str(seed.SPREADSHEET_QUESTIONNAIRE_ID)]
        code, output = invoke([*argv, *_reports(tmp_path)], {"CONFORMANCE_TOKEN": "ref-token-abcdef12"})
    report = _exit_2_with_reports(code, output, tmp_path)
    assert report["error"] == (
        "the base URL does not look like the API (got 404 application/problem+json, the same answer as for a "
        "path that does not exist, with or without a token); does it end in /v1?"
    )
    assert report["requests"] == 3  # the probe and the two comparisons; nothing was created


@pytest.mark.parametrize(
    ("mode", "got"),
    [
        ("html_404", "404 text/html"),
        ("redirect_other_host", "302 redirecting to login.example.invalid"),
    ],
)
def test_html_page_or_login_redirect_is_a_misconfiguration(mode: str, got: str, tmp_path: Path) -> None:
    with hostile_server(mode) as server:
        argv = [
            "run",
            "--base-url",
            server.base_url,
            "--questionnaire-id",
            QUESTIONNAIRE,
            *_reports(tmp_path),
        ]
        code, output = invoke(argv, {"CONFORMANCE_TOKEN": HOSTILE_TOKEN})
        assert server.received() == 1
    report = _exit_2_with_reports(code, output, tmp_path)
    assert report["error"] == f"the base URL does not look like the API (got {got}); does it end in /v1?"


@pytest.mark.parametrize("flag", ["--questionnaire-id", "--failing-questionnaire-id"])
def test_unknown_questionnaire_exits_2_naming_it_and_the_detail(
    fake: RunningFake, tmp_path: Path, flag: str
) -> None:
    ids = {"--questionnaire-id": OK_QUESTIONNAIRE, "--failing-questionnaire-id": FAILING_QUESTIONNAIRE}
    ids[flag] = "65a5d6e2f1a2b3c4d5e6f000"
    argv = [
        "run",
        "--base-url",
        fake.base_url,
        *(x for pair in ids.items() for x in pair),
        *_reports(tmp_path),
    ]
    code, output = invoke(argv, {"CONFORMANCE_TOKEN": TOKEN})
    report = _exit_2_with_reports(code, output, tmp_path)
    assert report["error"] == (
        f"{flag} 65a5d6e2f1a2b3c4d5e6f000: the server answered 404 (No questionnaire with this id.); check the id"
    )


def test_connection_refused_names_its_kind_and_host(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    argv = [
        "run",
        "--base-url",
        f"http://127.0.0.1:{port}/v1",
        "--questionnaire-id",
        "q",
        *_reports(tmp_path),
    ]
    code, output = invoke(argv, {"CONFORMANCE_TOKEN": TOKEN})
    report = _exit_2_with_reports(code, output, tmp_path)
    assert report["error"].endswith(f"connection refused by 127.0.0.1:{port}")


def test_tls_to_a_plain_http_port_is_a_tls_error(fake: RunningFake, tmp_path: Path) -> None:
    base = fake.base_url.replace("http://", "https://")
    code, output = invoke(
        ["run", "--base-url", base, "--questionnaire-id", "q", *_reports(tmp_path)],
        {"CONFORMANCE_TOKEN": TOKEN},
    )
    report = _exit_2_with_reports(code, output, tmp_path)
    assert "TLS error with 127.0.0.1" in report["error"]


@pytest.mark.parametrize(
    ("cause", "kind"),
    [
        (socket.gaierror(-2, "Name or service not known"), "DNS resolution failed for api.example"),
        (ConnectionRefusedError(111, "Connection refused"), "connection refused by api.example"),
        (
            ssl.SSLCertVerificationError(1, "certificate verify failed"),
            "TLS verification failed for api.example",
        ),
    ],
)
def test_failure_kinds(cause: BaseException, kind: str) -> None:
    exc = httpx.ConnectError("boom")
    exc.__cause__ = cause
    assert failure_kind(exc, "api.example") == kind
    assert failure_kind(httpx.ReadTimeout("slow"), "api.example").startswith("timeout")


@pytest.mark.parametrize("token", ["", "tök", "two words"])
def test_empty_or_non_ascii_token_is_a_usage_error(token: str, tmp_path: Path) -> None:
    argv = ["run", "--base-url", "http://127.0.0.1:9/v1", "--questionnaire-id", "q", *_reports(tmp_path)]
    code, output = invoke(argv, {"CONFORMANCE_TOKEN": token})
    report = _exit_2_with_reports(code, output, tmp_path)
    assert "CONFORMANCE_TOKEN" in report["error"]


def test_short_token_never_mangles_rule_ids_or_urls(tmp_path: Path) -> None:
    from reference_server import seed, testing

    with testing.running_server(tokens=("t",), in_memory=True) as server:
        argv = [
            "run", "--base-url", str(server.base_url), "--questionnaire-id", str(seed.SPREADSHEET_QUESTIONNAIRE_ID),
            "--failing-questionnaire-id", str(seed.FAILING_QUESTIONNAIRE_ID), "--no-schemathesis", *_reports(tmp_path),
        ]  # fmt: skip
        code, output = invoke(argv, {"CONFORMANCE_TOKEN": "t"})
    assert code == 0, output
    assert "too short to redact safely" in output
    assert "errors-auth" in output and "REDACTED" not in output.replace("?REDACTED", "")
    report = json.loads((tmp_path / "r.json").read_text())
    assert {rule["id"] for rule in report["rules"]} >= {"errors-auth", "lifecycle", "client", "link"}
    assert report["target"] == str(server.base_url)


def test_redaction_is_exact_match() -> None:
    red = Redactor(["t"])
    assert red.text("errors-auth: Bearer t, token t ok") == "errors-auth: Bearer REDACTED, token REDACTED ok"
    long = Redactor([TOKEN])
    assert TOKEN not in long.text(f"x{TOKEN}y and {TOKEN}")


def test_validators_disagreeing_is_a_finding_never_a_silent_pass() -> None:
    body = {"id": "e1", "status": "pending", "format": "csv", "requestedAt": "2025-01-08T12:00:00Z\n"}
    messages = validate_body(
        body, "/components/schemas/QuestionnaireExport", component_schema("QuestionnaireExport")
    )
    assert len(messages) == 1 and messages[0].startswith("the validators disagree: jsonschema-rs rejects")


def test_coverage_in_the_report_and_required(fake: RunningFake, tmp_path: Path) -> None:
    run = run_fake(fake, tmp_path, None, "--profile", "quick")
    assert run.code == 0, run.output
    cov = run.report["coverage"]
    observed = {(r["operation"].split()[0], r["status"]): r["observed"] for r in cov["responses"]}
    assert all(observed[("POST", s)] for s in ("202", "400", "401", "404", "413", "415")), observed
    assert all(observed[("GET", s)] for s in ("200", "401", "404")), observed
    assert {v["status"]: v["observed"] > 0 for v in cov["variants"]} == {
        "pending": True,
        "completed": True,
        "failed": True,
    }
    assert "coverage (observed):" in run.output and "429" in run.output
    assert any("never observed" in note and "429" in note for note in run.report["notes"])
    # Without the failing questionnaire the `failed` variant is never seen: a note, a failure when required.
    argv = ["run", "--base-url", fake.base_url, "--questionnaire-id", OK_QUESTIONNAIRE, "--profile", "quick"]
    code, output = invoke([*argv, "--report-json", str(tmp_path / "c.json")], {"CONFORMANCE_TOKEN": TOKEN})
    assert code == 0 and "status variant(s) never observed: failed" in output, output
    code, output = invoke([*argv, "--require-coverage"], {"CONFORMANCE_TOKEN": TOKEN})
    assert code == 1 and "status variant failed never observed (--require-coverage)" in output, output


def test_notes_are_deduplicated() -> None:
    tally = Tally()
    for _ in range(15):
        tally.note("same note")
    assert tally.notes == ["same note"]


def test_quick_profile_prints_only_its_phases_and_reports_are_readable(
    fake: RunningFake, tmp_path: Path
) -> None:
    run = run_fake(fake, tmp_path, "unknown_id_200", "--profile", "quick")
    assert "schemathesis phase examples" in run.output
    for phase in ("coverage", "fuzzing", "stateful"):
        assert f"schemathesis phase {phase}" not in run.output
    html, junit = run.files["html"], run.files["junit"]
    assert "suite version 0.1.0" in html and "started 20" in html and "<th>checked</th>" in html
    assert (
        '\\"' not in html and "&quot;status&quot;: &quot;pending&quot;" in html
    )  # pretty JSON, not a string
    assert "{&#x27;method&#x27;" not in junit and "{'method'" not in junit  # no Python reprs
    assert "  request:  GET http://127.0.0.1" in junit


def test_help_shows_defaults_and_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--expiry-policy", "--document-questionnaire-id", "--no-schemathesis", "--max-body-bytes"):
        assert option in text
    assert "(default: 1048576)" in text and "(default: rolling)" in text
    docs = (Path(__file__).resolve().parents[2] / "docs" / "conformance.md").read_text()
    for option in (
        "--expiry-policy",
        "--document-questionnaire-id",
        "--no-schemathesis",
        "--require-coverage",
    ):
        assert option in docs


def test_read_only_rule_with_nothing_exercised_is_not_exercised(fake: RunningFake, tmp_path: Path) -> None:
    seed_run = run_fake(fake, tmp_path, None, "--no-schemathesis")
    failed_id = next(e.id for e in fake.state.exports.values() if e.fails)
    assert seed_run.code == 0
    run = run_fake(fake, tmp_path, None, "--read-only", "--export-id", failed_id, "--no-schemathesis")
    outcomes = {rule["id"]: rule["outcome"] for rule in run.report["rules"]}
    assert outcomes["link"] == "not-exercised" and outcomes["lifecycle"] == "passed", outcomes


def test_webhook_listener_caps_bodies() -> None:
    tally = Tally(rules=(WEBHOOK_RULE,))
    check = WebhookChecker(secret=WEBHOOK_SECRET, tally=tally, redactor=Redactor([WEBHOOK_SECRET]))
    with listening("127.0.0.1", 0, check, max_body_bytes=1024) as listener:
        big = httpx.post(listener.url, content=b"x" * 4096, headers={"content-type": "application/json"})

        def chunks() -> Iterator[bytes]:
            for _ in range(8):
                yield b"y" * 512

        streamed = httpx.post(listener.url, content=chunks())
    assert big.status_code == 413 and streamed.status_code == 413
    findings = tally.results()[0].findings
    assert findings and "larger than 1024 bytes" in findings[0].message
    assert threading.active_count() >= 1
