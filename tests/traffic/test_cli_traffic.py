"""`conformance check-traffic`: exit codes, reports pointing at HAR entries, options, and no secret in any
output even when the HAR file holds them in clear (as a browser's export does)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from questionnaire_exports_client.redact import Redactor

import contract
from conformance.traffic.har import har_document, write_har

from .conftest import check_entries, check_traffic, invoke_cli
from .entries import TOKEN, Traffic, export
from .flows import Api, client_session
from .recorder import RecordingTransport


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clean_traffic_from_the_reference_server_conforms(reference: Api, tmp_path: Path, seed: int) -> None:
    transport = RecordingTransport()
    client_session(reference, transport, tmp_path, seed=seed)
    checked = check_entries(tmp_path, transport.entries, secrets=(reference.token,))
    assert checked.code == 0, checked.output
    assert set(checked.outcomes.values()) == {"passed"}, checked.outcomes
    assert re.search(r"^CONFORMING: 0 finding\(s\), \d+ requests", checked.output, re.M)


def _faulty(tmp_path: Path) -> Path:
    """A HAR file as a browser writes it: the token in clear, a link with its signature, one fault."""
    traffic = Traffic()
    traffic.create("e1")
    traffic.get("e1", "completed")
    traffic.get("e1", "completed", note=TOKEN)  # a field the spec does not allow, holding the token
    document = json.loads(json.dumps(har_document(traffic.entries, Redactor())))
    for written, recorded in zip(document["log"]["entries"], traffic.entries, strict=True):  # secrets back in
        written["request"]["headers"] = [{"name": k, "value": v} for k, v in recorded.request_headers]
        written["response"]["content"]["text"] = recorded.response_body.decode()
    path = tmp_path / "faulty.har"
    path.write_text(json.dumps(document))
    text = path.read_text()
    assert TOKEN in text and "signature=s3cr3t-sig" in text
    return path


def test_violations_exit_1_and_every_report_points_at_the_entry(tmp_path: Path) -> None:
    checked = check_traffic(_faulty(tmp_path))
    assert checked.code == 1, checked.output
    findings = checked.report["findings"]
    assert [(f["rule"], f["entry"], f["at"]) for f in findings] == [
        ("schema", 2, "2025-01-08T12:00:02.000Z"),
        ("client", 2, "2025-01-08T12:00:02.000Z"),
    ]
    where = "(entry 2, 12:00:02Z)"
    assert f"  FAIL [schema] GET /customer-trust/questionnaires/exports/{{id}} {where}: " in checked.output
    assert where in checked.files["xml"] and where in checked.files["html"]
    assert checked.report["requests"] == 3 and checked.report["profile"] == "traffic"
    assert {row["operation"] for row in checked.report["coverage"]["responses"]} == {
        op.label for op in contract.operations().values()
    }


def test_no_secret_of_the_har_reaches_any_output(tmp_path: Path) -> None:
    checked = check_traffic(_faulty(tmp_path))
    assert '"note": "REDACTED"' in checked.report["findings"][0]["response"]["body"]  # was there, now hidden
    for text in (checked.output, *checked.files.values()):
        assert TOKEN not in text and "s3cr3t-sig" not in text


def test_user_info_of_a_url_reaches_no_output(tmp_path: Path) -> None:
    """`https://user:password@host`: in the request URL of a faulty answer and in a URL its body holds."""
    password = "pw-Hq27xLm"
    traffic = Traffic(base="https://user:" + password + "@api.example.test/v1")
    traffic.create("e1")
    traffic.get("e1", note=f"see https://admin:{password}@db.example.test/x")
    checked = check_entries(tmp_path, traffic.entries)
    assert checked.code == 1 and checked.report["findings"], checked.output
    for text in (checked.output, *checked.files.values()):
        assert password not in text
    har = tmp_path / "written.har"
    write_har(har, traffic.entries, Redactor())
    assert password not in har.read_text()


def test_the_base_url_limits_what_is_judged(tmp_path: Path) -> None:
    traffic = Traffic()
    traffic.create("e1")
    other = Traffic(base="https://staging.example.test/v1")
    other.get("e2", "completed", completedAt="not a time")
    traffic.entries += [type(e)(**{**e.__dict__, "index": 1}) for e in other.entries]
    path = tmp_path / "two.har"
    write_har(path, traffic.entries, Redactor())
    assert check_traffic(path).code == 1
    checked = check_traffic(path, "--base-url", "https://api.example.test/v1")
    assert checked.code == 0 and "ignored 1 entries outside the API's paths" in checked.report["notes"]


def test_the_expiry_policy_is_the_users_choice(tmp_path: Path) -> None:
    traffic = Traffic()
    traffic.create("e1")
    fixed = export("e1", "completed", "csv", traffic.now)["expiresAt"]
    traffic.get("e1", "completed")
    traffic.offset = 3600.0
    traffic.get("e1", "completed", expiresAt=fixed)  # the same expiry an hour later: fixed, not rolling
    path = tmp_path / "fixed.har"
    write_har(path, traffic.entries, Redactor())
    assert check_traffic(path, "--expiry-policy", "fixed").code == 0
    rolling = check_traffic(path)
    assert rolling.code == 1 and rolling.failed_rules == {"time"}


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (("--clock-skew", "-1"), "--clock-skew must be >= 0"),
        (("--base-url", "ftp://x"), "--base-url must be an http(s) URL"),
        (("--max-har-bytes", "0"), "--max-har-bytes must be positive"),
        (("--expiry-policy", "sometimes"), "invalid choice"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(tmp_path: Path, option: tuple[str, str], message: str) -> None:
    checked = check_traffic(_faulty(tmp_path), *option)
    assert (
        checked.code == 2 and checked.output.startswith("conformance: error: ") and message in checked.output
    )
    assert len(checked.output.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["check-traffic", "run"])
def test_a_base_url_refused_never_shows_its_password(tmp_path: Path, command: str) -> None:
    target = [str(_faulty(tmp_path))] if command == "check-traffic" else []
    code, output = invoke_cli([command, *target, "--base-url", "ftp://user:pw-Zq81xW@example.com/v1"])
    assert code == 2 and "--base-url must be an http(s) URL" in output, output
    assert "pw-Zq81xW" not in output and "example.com/v1" in output, output


def test_unwritable_report_is_exit_2(tmp_path: Path) -> None:
    code, output = invoke_cli(["check-traffic", str(_faulty(tmp_path)), "--report-json", str(tmp_path)])
    assert code == 2 and "cannot write report" in output


def test_the_json_report_is_runs_format(tmp_path: Path) -> None:
    """The report is the same JSON as `run`'s: a CI step can read `conforming` from it."""
    checked = check_traffic(_faulty(tmp_path))
    assert json.loads(checked.files["json"])["conforming"] is False
