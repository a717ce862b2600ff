"""The rules across exchanges, on hand-made traffic: each holds, each breaks with one finding naming its
entries, and what the traffic cannot judge is noted instead of passed."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from questionnaire_exports_client.redact import Redactor

import contract
from conformance.model import Report
from conformance.traffic.judge import TrafficConfig, TrafficJudge, locate
from conformance.traffic.recorded import Recorded

from .entries import BASE, TOKEN, Traffic, export, iso


def judge(traffic: Traffic, config: TrafficConfig | None = None) -> tuple[Report, list[str]]:
    lines: list[str] = []
    judged = TrafficJudge(config or TrafficConfig(), Redactor(), lines.append)
    for recorded in traffic.entries:
        judged.observe(recorded)
    return judged.report("unit", 0.0), lines


def outcomes(report: Report) -> dict[str, str]:
    return {r.rule.id: r.outcome.value for r in report.results}


def one_finding(report: Report, rule: str) -> Any:
    assert [f.rule for f in report.findings] == [rule], [(f.rule, f.message) for f in report.findings]
    return report.findings[0]


def message_of(traffic: Traffic, rule: str) -> str:
    """The message of the one finding `traffic` gives, which must be of `rule`."""
    return str(one_finding(judge(traffic)[0], rule).message)


def a_lifecycle() -> Traffic:
    traffic = Traffic()
    traffic.create("e1")
    traffic.get("e1")
    traffic.get("e1", "completed")
    traffic.get("e1", "completed")
    return traffic


def test_a_whole_lifecycle_passes_every_rule_it_exercises() -> None:
    report, lines = judge(a_lifecycle())
    assert report.conforming and lines == []
    assert outcomes(report) == {
        "schema": "passed",
        "client": "passed",
        "lifecycle": "passed",
        "time": "passed",
        "link": "passed",
        "errors-auth": "not-exercised",  # no error in this traffic: not exercised, not passed
    }


def test_a_terminal_state_that_changes_is_one_lifecycle_finding_with_its_entries() -> None:
    traffic = a_lifecycle()
    for _ in range(3):
        traffic.get("e1", "pending")
        traffic.get("e1", "completed")
    report, lines = judge(traffic)
    finding = one_finding(report, "lifecycle")
    assert finding.entry == 4 and finding.at == iso(traffic.entries[4].started)
    assert finding.message == (
        "terminal export e1 changed status from 'completed' to 'pending' (3 exchanges: entries 4, 6, 8)"
    )
    assert lines == [
        "  FAIL [lifecycle] GET /customer-trust/questionnaires/exports/{id} (entry 4, 12:00:04Z): terminal export "
        "e1 changed status from 'completed' to 'pending'"
    ]


@pytest.mark.parametrize(("pause", "findings"), [(0.0, 0), (2.5, 1)])
def test_a_slow_terminal_answer_is_not_later_than_a_request_sent_while_it_was_on_its_way(
    pause: float, findings: int
) -> None:
    """A GET answered `completed` after 2 s, and one sent 1 s after it answered `pending` at once: no order
    between them (the server may have answered the slow one last). Sent after the slow answer arrived: a fault."""
    traffic = Traffic()
    traffic.create("e1")
    slow = traffic.get("e1", "completed")
    traffic.entries[-1] = replace(slow, time_ms=2000.0)
    traffic.offset = pause
    traffic.get("e1", "pending")
    report, _ = judge(traffic)
    assert [f.rule for f in report.findings] == ["lifecycle"] * findings


def test_a_field_fixed_at_creation_that_changes_is_lifecycle() -> None:
    traffic = Traffic()
    traffic.create("e1")
    traffic.get("e1", requestedAt=iso(traffic.now))
    finding = one_finding(judge(traffic)[0], "lifecycle")
    assert "requestedAt was" in finding.message


def test_a_later_get_with_a_shorter_lived_link_is_link() -> None:
    traffic = a_lifecycle()
    earlier = export("e1", "completed", "csv", traffic.now)
    traffic.add("GET", contract.operation_path(contract.GET_OP, id="e1"), 200, earlier)
    traffic.get("e1", "completed", expiresAt=earlier["expiresAt"].replace("12:", "11:", 1))
    report, _ = judge(traffic, TrafficConfig(expiry_policy="fixed"))
    assert one_finding(report, "link").message.startswith("a later GET gave a link expiring earlier")


def test_the_same_fault_in_several_exports_is_one_finding() -> None:
    traffic = Traffic()
    for n in range(5):
        traffic.create(f"e{n}", echo="original")
    expected = "format not echoed: asked 'csv', got 'original' (5 exchanges: entries 0, 1, 2, 3, 4)"
    assert message_of(traffic, "lifecycle") == expected


def test_a_body_the_schema_fails_is_not_also_a_lifecycle_change() -> None:
    traffic = a_lifecycle()
    traffic.get("e1", "completed", completedAt="yesterday")
    report, _ = judge(traffic)
    assert {f.rule for f in report.findings} == {"schema", "client"}


def test_an_id_answered_404_then_200_without_a_create_is_errors_auth() -> None:
    traffic = Traffic()
    traffic.missing("e9")
    traffic.get("e9")
    finding = one_finding(judge(traffic)[0], "errors-auth")
    assert (
        finding.message
        == "export e9 answered 404 (entry 0) and later 200, with no POST creating it in between"
    )
    assert finding.entry == 1


def test_a_404_then_a_create_of_that_id_then_200_is_fine() -> None:
    traffic = Traffic()
    traffic.missing("e1")
    traffic.create("e1")
    traffic.get("e1")
    report, _ = judge(traffic)
    assert report.conforming and outcomes(report)["errors-auth"] == "passed"


def test_a_tokenless_request_answered_2xx_is_errors_auth_once_the_traffic_shows_tokens() -> None:
    traffic = Traffic()
    traffic.create("e1")
    traffic.get("e1", token=False)
    assert (
        message_of(traffic, "errors-auth") == "GET without an Authorization header answered 200, expected 401"
    )


def test_a_tokenless_2xx_held_back_until_tokens_show_keeps_its_reproduction_not_its_body() -> None:
    """Held answers are judged when the first credential shows; they keep the redacted excerpt, and the
    judge holds no body for them (a proxy running for days holds small records only)."""
    traffic = Traffic()
    traffic.get("held-1", token=False)
    judged = TrafficJudge(TrafficConfig(), Redactor(), lambda _line: None)
    judged.observe(traffic.entries[0])
    ((_, _, _, held),) = judged._tokenless
    assert held.response.content == b""
    traffic.create("e2")
    judged.observe(traffic.entries[1])
    (finding,) = judged.report("unit", 0.0).findings
    assert finding.rule == "errors-auth"
    assert finding.entry == 0
    assert "held-1" in finding.response["body"]


def test_a_har_without_any_credentials_is_noted_not_failed() -> None:
    """A browser's sanitized export drops every Authorization header: no request looks authenticated."""
    traffic = Traffic()
    traffic.get("e1", token=False)
    report, _ = judge(traffic)
    assert report.conforming
    assert any("no request carried an Authorization header" in note for note in report.notes)


def test_a_create_the_spec_forbids_answered_202_is_errors_auth_not_lifecycle() -> None:
    traffic = Traffic()
    path = contract.operations()[contract.CREATE_OP].path
    body = {"id": "e1", "status": "pending", "format": "original", "requestedAt": iso(traffic.now)}
    traffic.add("POST", path, 202, body, request={"questionnaireId": "q", "format": "pdf"})
    traffic.add("POST", path, 202, body, request=contract.create_body("q", "csv"), request_media="text/plain")
    report, _ = judge(traffic)
    assert sorted(f.message.split(" answered")[0] for f in report.findings) == [
        "POST with Content-Type text/plain",
        "POST with a body the spec forbids (field format: 'pdf' is not one of ['original', 'csv'])",
    ]
    assert {f.rule for f in report.findings} == {"errors-auth"}


def test_an_error_answer_that_is_not_problem_json_is_errors_auth() -> None:
    traffic = Traffic()
    traffic.add(
        "GET",
        contract.operation_path(contract.GET_OP, id="x"),
        404,
        {"error": "no"},
        media="application/json",
    )
    expected = "an error answered 404 with Content-Type application/json, expected application/problem+json"
    assert message_of(traffic, "errors-auth") == expected


def test_a_5xx_is_errors_auth() -> None:
    traffic = Traffic()
    traffic.add("GET", contract.operation_path(contract.GET_OP, id="x"), 503, raw=b"down", media="text/plain")
    assert message_of(traffic, "errors-auth") == "server error 503"


def test_an_http_link_off_loopback_is_link() -> None:
    traffic = a_lifecycle()
    body = export("e1", "completed", "csv", traffic.now)
    traffic.add(
        "GET",
        contract.operation_path(contract.GET_OP, id="e1"),
        200,
        {**body, "downloadUrl": body["downloadUrl"].replace("https", "http")},
    )
    assert one_finding(judge(traffic)[0], "link").message.startswith(
        "downloadUrl http://storage.example.test/"
    )


def test_a_cut_body_is_noted_and_not_judged() -> None:
    traffic = Traffic()
    recorded = traffic.add("GET", contract.operation_path(contract.GET_OP, id="x"), 200, raw=b'{"id": ')
    traffic.entries[0] = type(recorded)(**{**recorded.__dict__, "cut": "body not recorded in the HAR"})
    report, _ = judge(traffic)
    assert report.conforming and any("not judged: 1 answer" in note for note in report.notes)


def test_entries_outside_the_api_and_undocumented_methods_are_noted() -> None:
    traffic = a_lifecycle()
    traffic.add("GET", "", 200, raw=b"<html>", media="text/html", url="https://cdn.example.test/app.js")
    traffic.add(
        "GET", "", 200, raw=b"x", media="text/csv", url="https://storage.example.test/files/e1.csv?sig=1"
    )
    traffic.add("OPTIONS", contract.operations()[contract.CREATE_OP].path, 204)
    report, _ = judge(traffic)
    assert report.conforming and report.requests == 4
    assert "ignored 2 entries outside the API's paths" in report.notes
    assert any("(OPTIONS x1)" in note for note in report.notes)


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        (BASE + "/customer-trust/questionnaires/exports/abc", None, (BASE, contract.GET_OP, "abc")),
        (
            "https://h.test/api/v1/customer-trust/questionnaires/exports/a%20b?x=1",
            None,
            ("https://h.test/api/v1", contract.GET_OP, "a b"),
        ),
        (
            "https://h.test/customer-trust/questionnaires/exports/abc",
            None,
            ("https://h.test", contract.GET_OP, "abc"),
        ),
        (BASE + "/customer-trust/questionnaires/exports/abc", "https://other.test/v1", None),
        (BASE + "/customer-trust/questionnaires/exports/abc", BASE + "/", (BASE, contract.GET_OP, "abc")),
        ("https://api.example.test/v2/customer-trust/questionnaires/exports/abc", BASE, None),
        (BASE + "/customer-trust/questionnaires/exports/", None, None),  # GET of the collection: no operation
        ("https://h.test/files/abc.xlsx", None, None),
        ("not a url", None, None),
    ],
)
def test_locate_finds_the_base_and_the_operation(
    url: str, base: str | None, expected: tuple[str, str, str] | None
) -> None:
    found = locate("GET", url, base)
    if expected is None:
        assert found is None or found.operation_id is None
    else:
        assert found is not None and (found.base, found.operation_id, found.params.get("id")) == expected


def test_observe_is_thread_safe_and_agrees_with_one_thread() -> None:
    traffic = Traffic()
    for n in range(40):
        traffic.create(f"e{n}", echo="original" if n % 2 else None)
        traffic.get(f"e{n}", "completed")
    serial, _ = judge(traffic)
    lines: list[str] = []
    parallel = TrafficJudge(TrafficConfig(), Redactor(), lines.append)

    def feed(chunk: list[Recorded]) -> None:
        for recorded in chunk:
            parallel.observe(recorded)

    threads = [threading.Thread(target=feed, args=(traffic.entries[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    report = parallel.report("unit", 0.0)
    assert [f.rule for f in report.findings] == [f.rule for f in serial.findings] == ["lifecycle"]
    assert report.requests == serial.requests == 80


def test_credentials_in_the_traffic_never_reach_the_report() -> None:
    traffic = a_lifecycle()
    traffic.add("GET", contract.operation_path(contract.GET_OP, id="e1"), 200, {"echo": TOKEN})
    report, lines = judge(traffic)
    assert report.findings and TOKEN not in repr(report) and TOKEN not in "".join(lines)


_FIELDS = st.sampled_from(
    ["id", "status", "format", "requestedAt", "completedAt", "downloadUrl", "expiresAt", "x"]
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_FIELDS, inner, max_size=6),
    max_leaves=10,
)
_PATHS = st.sampled_from(["", "/abc", "/%ff%00", "/a/b"]).map(
    lambda tail: "https://h.test/v1" + contract.operations()[contract.CREATE_OP].path + tail
)
_HEADER = st.tuples(
    st.sampled_from(["Content-Type", "Date", "Authorization", "Content-Encoding"]), st.text(max_size=20)
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["GET", "POST"]),
            _PATHS,
            st.integers(100, 999),
            st.lists(_HEADER, max_size=3),
            st.none() | _JSON.map(lambda v: json.dumps(v).encode()),
            _JSON.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=30),
        ),
        max_size=6,
    )
)
def test_the_judge_never_raises_on_arbitrary_exchanges(
    items: list[tuple[str, str, int, list[tuple[str, str]], bytes | None, bytes]],
) -> None:
    """Whatever a recording holds (a list as `status`, a lying Content-Encoding, a 999), a verdict, no crash."""
    judged = TrafficJudge(TrafficConfig(), Redactor(), lambda _: None)
    for index, (method, url, status, headers, request, body) in enumerate(items):
        started = datetime(2025, 1, 8, tzinfo=UTC)
        judged.observe(
            Recorded(index, started, method, url, tuple(headers), request, status, tuple(headers), body)
        )
    assert judged.report("fuzz", 0.0).requests == judged.api_exchanges


def test_a_date_header_at_the_end_of_the_calendar_is_a_time_finding_not_a_crash() -> None:
    """`Date` + the skew or the link lifetime leaves the calendar: the link's expiry is judged off, no crash."""
    traffic = Traffic()
    answer = traffic.get("e1", "completed")
    date = "Fri, 31 Dec 9999 23:59:59 GMT"
    headers = tuple((name, date if name == "Date" else value) for name, value in answer.response_headers)
    traffic.entries[-1] = replace(answer, response_headers=headers)
    message = message_of(traffic, "time")
    assert message.startswith(f"status=completed: {contract.EXPIRES_AT} "), message
