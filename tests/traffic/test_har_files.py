"""HAR files: `write_har` round-trips through `read_har`, hides every secret, and HAR files from other tools
(mitmproxy, a browser, Schemathesis) are read and judged."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from questionnaire_exports_client.redact import Redactor

import contract
from conformance.traffic.har import CREATOR, load_har, read_har, write_har
from conformance.traffic.recorded import Recorded

from .conftest import check_traffic
from .flows import Api

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "har-secret-token-Xy7Qp2Lm"

_SAFE = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 {}[],._-", max_size=60)
_MS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
_NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
_HEADERS = st.lists(st.tuples(_NAME.map(lambda n: "X-" + n), _SAFE), max_size=4)
_JSON = st.just(("Content-Type", "application/json"))


@st.composite
def recorded(draw: st.DrawFn) -> Recorded:
    textual = draw(st.booleans())
    body = draw(_SAFE).encode() if textual else draw(st.binary(max_size=120))
    headers = [*draw(_HEADERS), *([draw(_JSON)] if textual else [])]
    cut = draw(st.none() | _SAFE.filter(bool))
    return Recorded(
        index=0,
        started=draw(_MS),
        method=draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"])),
        url=f"https://{draw(_NAME)}.test/{draw(_SAFE.map(lambda p: p.replace(' ', '/')))}",
        request_headers=tuple(draw(_HEADERS)),
        request_body=draw(st.none() | st.binary(max_size=80)),
        status=draw(st.integers(100, 599)),
        response_headers=tuple(headers),
        response_body=body,
        cut=cut,
        time_ms=round(draw(st.floats(0, 1e6)), 3),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(recorded(), max_size=6))
def test_read_har_of_write_har_is_the_identity(tmp_path: Path, entries: list[Recorded]) -> None:
    entries = [replace(entry, index=n) for n, entry in enumerate(entries)]
    path = tmp_path / "round.har"
    write_har(path, entries, Redactor())
    assert read_har(path) == sorted(entries, key=lambda e: e.started)


def _secretive() -> Recorded:
    link = "https://storage.test/files/e1.csv?expires=99&signature=SIGNATURE-abcdef123456"
    body = json.dumps({"echo": SECRET, "downloadUrl": link}).encode()
    return Recorded(
        index=0,
        started=datetime(2025, 1, 8, 12, tzinfo=UTC),
        method="POST",
        url="https://api.test/v1/x?token=QUERY-TOKEN-123456&signature=SIGNATURE-abcdef123456",
        request_headers=(
            ("Authorization", f"Bearer {SECRET}"),
            ("Cookie", "session=COOKIE-VALUE-1"),
            ("Content-Type", "application/json"),
        ),
        request_body=json.dumps({"token": SECRET}).encode(),
        status=302,
        response_headers=(
            ("Content-Type", "application/json"),
            ("Set-Cookie", "session=COOKIE-VALUE-1"),
            ("Location", link),
        ),
        response_body=body,
    )


def test_written_har_holds_no_secret(tmp_path: Path) -> None:
    path = tmp_path / "secret.har"
    write_har(path, [_secretive()], Redactor([SECRET]))
    text = path.read_text()
    for secret in (SECRET, "SIGNATURE-abcdef123456", "QUERY-TOKEN-123456", "COOKIE-VALUE-1"):
        assert secret not in text
    entry = json.loads(text)["log"]["entries"][0]
    assert {"name": "Authorization", "value": "Bearer REDACTED"} in entry["request"]["headers"]
    assert entry["request"]["url"] == "https://api.test/v1/x?REDACTED"
    assert entry["response"]["redirectURL"] == "https://storage.test/files/e1.csv?REDACTED"


def test_written_har_is_har_1_2_with_every_required_field(tmp_path: Path) -> None:
    path = tmp_path / "shape.har"
    binary = replace(
        _secretive(),
        response_headers=(("Content-Type", "application/octet-stream"),),
        response_body=b"\xff\x00PK",
    )
    cut = replace(binary, response_body=b"", cut="download not recorded: 9 bytes")
    write_har(path, [binary, cut], Redactor())
    log = json.loads(path.read_text())["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == CREATOR
    first, second = log["entries"]
    assert {"startedDateTime", "time", "request", "response", "cache", "timings"} <= set(first)
    assert {
        "method",
        "url",
        "httpVersion",
        "headers",
        "queryString",
        "cookies",
        "headersSize",
        "bodySize",
        "postData",
    } <= set(first["request"])
    assert {
        "status",
        "statusText",
        "httpVersion",
        "headers",
        "cookies",
        "content",
        "redirectURL",
        "headersSize",
        "bodySize",
    } <= set(first["response"])
    assert first["response"]["content"] == {
        "size": 4,
        "mimeType": "application/octet-stream",
        "text": base64.b64encode(b"\xff\x00PK").decode(),
        "encoding": "base64",
    }
    assert second["response"]["content"]["comment"] == "cut: download not recorded: 9 bytes"
    assert read_har(path)[1].cut == "download not recorded: 9 bytes"


def test_a_request_content_type_only_in_post_data_is_read(tmp_path: Path) -> None:
    path = tmp_path / "mime.har"
    write_har(path, [_secretive()], Redactor())
    data = json.loads(path.read_text())
    request = data["log"]["entries"][0]["request"]
    request["headers"] = [h for h in request["headers"] if h["name"] != "Content-Type"]
    path.write_text(json.dumps(data))
    assert ("content-type", "application/json") in read_har(path)[0].request_headers


def test_entries_are_judged_in_time_order_with_their_file_index(tmp_path: Path) -> None:
    later = replace(_secretive(), started=datetime(2025, 1, 8, 13, tzinfo=UTC))
    path = tmp_path / "order.har"
    write_har(path, [later, _secretive(), _secretive()], Redactor())
    data = json.loads(path.read_text())
    data["log"]["entries"][1]["startedDateTime"] = "2025-01-08T14:00:00.000+02:00"  # 12:00 UTC
    path.write_text(json.dumps(data))
    assert [e.index for e in read_har(path)] == [1, 2, 0]


def test_a_mitmproxy_har_is_read_and_conforms(tmp_path: Path) -> None:
    """Recorded by `mitmdump --mode reverse:... --set hardump=...` in front of the reference server while
    `flows.client_session` ran through it (token and link signatures replaced by REDACTED)."""
    har = load_har(FIXTURES / "mitmproxy.har")
    assert har.creator.startswith("mitmproxy")
    checked = check_traffic(FIXTURES / "mitmproxy.har", into=tmp_path)
    assert checked.code == 0, checked.output
    assert set(checked.outcomes.values()) == {"passed"}, checked.outcomes


def test_a_browser_har_is_read_and_conforms(tmp_path: Path) -> None:
    """Chrome DevTools' shape: HTTP/2 pseudo-headers, base64 and compressed content, `+02:00` times, a
    CORS preflight, other hosts, an entry the browser blocked (status 0), a stale answer from its cache."""
    checked = check_traffic(FIXTURES / "browser.har", into=tmp_path)
    assert checked.code == 0, checked.output
    notes = checked.report["notes"]
    assert "skipped 1 HAR entries: no response (status 0: aborted or blocked by the browser)" in notes
    assert "skipped 1 HAR entries: answered from the browser's cache" in notes
    assert "ignored 3 entries outside the API's paths" in notes
    assert any("(OPTIONS x1)" in note for note in notes)
    assert checked.outcomes["lifecycle"] == checked.outcomes["link"] == "passed"
    assert checked.report["requests"] == 5


def test_a_schemathesis_har_is_read_and_conforms(reference: Api, tmp_path: Path) -> None:
    path = tmp_path / "schemathesis.har"
    _schemathesis(reference, path, "examples")
    checked = check_traffic(path)
    assert checked.code == 0, checked.output
    assert load_har(path).creator.startswith("harfile")
    assert checked.outcomes["schema"] == checked.outcomes["errors-auth"] == "passed"


@pytest.mark.slow
def test_a_schemathesis_har_of_the_coverage_phase_conforms(reference: Api, tmp_path: Path) -> None:
    path = tmp_path / "schemathesis.har"
    _schemathesis(reference, path, "examples,coverage")
    checked = check_traffic(path)
    assert checked.code == 0, checked.output


def _schemathesis(api: Api, path: Path, phases: str) -> None:
    """`schemathesis run ... --report har` against the reference server, bounded (a subprocess: in-process,
    pytest rewrites every Schemathesis module it imports, which costs more than a fresh interpreter)."""
    spec = path.with_name("openapi.json")  # the spec as `contract` gives it, for a tool that wants a file
    spec.write_text(json.dumps(contract.spec_document()), encoding="utf-8")
    argv = [
        *(sys.executable, "-m", "schemathesis.cli", "run", str(spec), "-u", api.base_url),
        *(
            "-H",
            f"Authorization: Bearer {api.token}",
            "--phases",
            phases,
            "-n",
            "2",
            "--seed",
            "1",
            "-w",
            "1",
        ),
        *("--report", "har", "--report-har-path", str(path)),
    ]
    done = subprocess.run(  # in a temporary folder: Schemathesis keeps a cache in its working directory
        argv,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
        cwd=path.parent,
    )
    assert done.returncode == 0, done.stdout[-2000:]
