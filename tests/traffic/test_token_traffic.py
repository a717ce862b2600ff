"""Token endpoint exchanges in recorded traffic are judged against `oauth-token.yaml` (`errors-auth`), with
the same check `run` applies to its own token requests, and their credentials never reach a report."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from questionnaire_exports_client.redact import Redactor

import contract
from conformance.traffic.judge import TrafficConfig, TrafficJudge

from .entries import BASE, Traffic
from .test_judge_rules import outcomes

ORIGIN = BASE.removesuffix("/v1")
SECRET = "vcs_recorded-secret-3Jd9"
ISSUED = "issued-token-Zq81-never-added"
GOOD: dict[str, Any] = {"access_token": ISSUED, "expires_in": 3600, "token_type": "Bearer"}
REQUEST = {"client_id": "vci_x", "client_secret": SECRET, "grant_type": "client_credentials"}


def _token_exchange(
    traffic: Traffic, status: int, body: Any, *, no_store: bool = True, url: str | None = None
) -> None:
    recorded = traffic.add(
        "POST",
        "",
        status,
        body,
        request=REQUEST,
        token=False,
        media="application/json",
        url=url or ORIGIN + contract.token_path(),
    )
    if no_store:
        headers = (*recorded.response_headers, ("Cache-Control", "no-store"))
        traffic.entries[-1] = replace(recorded, response_headers=headers)


def _judge(traffic: Traffic, base_url: str | None = None) -> tuple[Any, list[str], str]:
    lines: list[str] = []
    judge = TrafficJudge(TrafficConfig(base_url=base_url), Redactor(), lines.append)
    for recorded in traffic.entries:
        judge.observe(recorded)
    report = judge.report("unit", 0.0)
    everything = (
        json.dumps([f.as_dict() for f in report.findings]) + "\n".join(lines) + "\n".join(report.notes)
    )
    return report, lines, everything


def test_a_good_token_exchange_passes_errors_auth_and_is_noted() -> None:
    traffic = Traffic()
    _token_exchange(traffic, 200, GOOD)
    traffic.get("e1")
    report, _, _ = _judge(traffic)
    assert report.findings == []
    assert outcomes(report)["errors-auth"] == "passed"
    assert any("1 token endpoint exchange" in note for note in report.notes)


def test_a_token_answer_that_breaks_the_document_is_one_errors_auth_finding_with_its_entry() -> None:
    traffic = Traffic()
    _token_exchange(traffic, 200, {**GOOD, "expires_in": 0})
    traffic.get("e1")
    report, lines, everything = _judge(traffic)
    assert [f.rule for f in report.findings] == ["errors-auth"]
    (finding,) = report.findings
    assert finding.operation == f"POST {contract.token_path()}"
    assert finding.entry == 0
    assert "expires_in" in finding.message
    assert lines and "entry 0" in lines[0]
    assert SECRET not in everything and ISSUED not in everything  # never added, hidden all the same


def test_a_missing_no_store_header_is_a_finding() -> None:
    traffic = Traffic()
    _token_exchange(traffic, 200, GOOD, no_store=False)
    report, _, _ = _judge(traffic)
    (finding,) = report.findings
    assert "cache-control" in finding.message.lower()


def test_an_undocumented_error_body_is_a_finding() -> None:
    traffic = Traffic()
    _token_exchange(traffic, 401, {"error": "nope"})
    report, _, everything = _judge(traffic)
    assert [f.rule for f in report.findings] == ["errors-auth"]
    assert SECRET not in everything


def test_a_token_request_on_another_origin_than_the_given_base_is_ignored() -> None:
    traffic = Traffic()
    _token_exchange(
        traffic, 200, {**GOOD, "expires_in": 0}, url="https://elsewhere.test" + contract.token_path()
    )
    traffic.get("e1")
    report, _, _ = _judge(traffic, base_url=BASE)
    assert report.findings == []
    assert any("ignored 1 entries" in note for note in report.notes)
