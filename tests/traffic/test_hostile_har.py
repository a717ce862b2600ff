"""Hostile and broken HAR files: each is refused with exit 2 and one readable line, never a traceback, and
a file over the size cap is refused before it is read (bounded memory)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from questionnaire_exports_client.redact import Redactor

from conformance.traffic.har import har_document, write_har

from ..conformance.hostile import measure_child_peak_mb
from .conftest import check_traffic, invoke_cli
from .entries import Traffic


def _har(entries: list[Any], version: str = "1.2") -> bytes:
    return json.dumps(
        {"log": {"version": version, "creator": {"name": "t", "version": "1"}, "entries": entries}}
    ).encode()


def _entry(url: str = "https://cdn.test/app.js", status: Any = 200, **extra: Any) -> dict[str, Any]:
    return {
        "startedDateTime": "2025-01-08T12:00:00.000Z",
        "time": -1,
        "request": {"method": "GET", "url": url, "headers": [], "bodySize": -1},
        "response": {"status": status, "headers": [], "content": {"size": -1, "mimeType": "text/plain"}},
        **extra,
    }


def _valid() -> bytes:
    traffic = Traffic()
    traffic.create("e1")
    traffic.get("e1")
    return json.dumps(har_document(traffic.entries, Redactor())).encode()


BROKEN: dict[str, tuple[Callable[[], bytes], tuple[str, ...], str]] = {
    "not_json": (lambda: b"{not json", (), "is not a HAR file: invalid JSON at line 1 column 2"),
    "not_utf8": (lambda: b'{"log": "\xff\xfe"}', (), "is not a HAR file: not UTF-8 text"),
    "nested_too_deep": (lambda: b"[" * 200_000 + b"]" * 200_000, (), "JSON nested too deeply"),
    "top_level_array": (lambda: b"[]", (), "no top-level log object"),
    "log_not_object": (lambda: b'{"log": 3}', (), "no top-level log object"),
    "wrong_version": (lambda: _har([], version="2.0"), (), "HAR version '2.0' is not supported"),
    "entries_missing": (lambda: b'{"log": {"version": "1.2"}}', (), "log.entries is missing or not a list"),
    "entries_not_list": (lambda: b'{"log": {"entries": {}}}', (), "log.entries is missing or not a list"),
    "no_entries": (lambda: _har([]), (), "no API exchange in broken.har (0 usable entries;"),
    "no_api_entries": (
        lambda: _har([_entry(), _entry("https://storage.test/files/x")]),
        (),
        "no API exchange",
    ),
    "only_aborted": (lambda: _har([_entry(status=0)]), (), "(0 usable entries, 1 skipped;"),
    "malformed_entries": (
        lambda: _har(
            [
                "entry",
                {},
                _entry(status="200"),
                _entry(status=99999),
                _entry(url="/relative"),
                {**_entry(), "startedDateTime": "yesterday"},
                {**_entry(), "request": {"method": "G E T", "url": "https://x.test/"}},
                _entry(response={"status": 200, "content": {"text": "%%%", "encoding": "base64"}}),
            ]
        ),
        (),
        "(0 usable entries, 8 skipped;",
    ),
    "over_the_size_cap": (
        _valid,
        ("--max-har-bytes", "100"),
        "is larger than 100 bytes (--max-har-bytes); not read",
    ),
    "over_the_entry_cap": (_valid, ("--max-entries", "1"), "has 2 entries, more than the limit of 1"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_har_file_is_one_line_and_exit_2(tmp_path: Path, case: str) -> None:
    make, extra, expected = BROKEN[case]
    path = tmp_path / "broken.har"
    path.write_bytes(make())
    checked = check_traffic(path, *extra)
    last = checked.output.strip().splitlines()[-1]
    assert checked.code == 2 and last.startswith("conformance: cannot run: ") and expected in last, (
        checked.output
    )
    assert "Traceback" not in checked.output and len(checked.output.strip().splitlines()) == 1
    assert expected in checked.report["error"] and checked.report["conforming"] is None


@pytest.mark.parametrize("name", ["missing.har", "."])
def test_a_path_that_cannot_be_read_is_one_line(tmp_path: Path, name: str) -> None:
    checked = check_traffic(tmp_path / name)
    assert checked.code == 2 and checked.output.startswith("conformance: cannot run: cannot read "), (
        checked.output
    )


def test_a_huge_file_is_refused_unread_in_bounded_memory(tmp_path: Path) -> None:
    """A 20 GB (sparse) file against the default 200 MB cap: refused from its size, never read."""
    path = tmp_path / "huge.har"
    with path.open("wb") as handle:
        handle.truncate(20 * 1024**3)
    argv = [sys.executable, "-m", "conformance", "check-traffic", str(path)]
    assert (
        measure_child_peak_mb(argv, limit=60) < 150
    )  # about 60 MB of imports; reading the cap would be 200 MB more


def test_a_body_over_the_cap_is_not_judged(tmp_path: Path) -> None:
    traffic = Traffic()
    traffic.create("e1")
    traffic.get("e1", errorMessage="x" * 5000)  # would break the schema if it were judged
    path = tmp_path / "big-body.har"
    write_har(path, traffic.entries, Redactor())
    checked = check_traffic(path, "--max-body-bytes", "1000")
    assert checked.code == 0, checked.output
    assert "not judged: 1 answer(s) whose body the recording does not hold whole" in checked.report["notes"]


def _valid_with(change: Callable[[dict[str, Any]], None]) -> bytes:
    """The valid traffic with its last (API) entry changed."""
    document = json.loads(_valid())
    change(document["log"]["entries"][-1])
    return json.dumps(document).encode()


def _set(*path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(entry: dict[str, Any]) -> None:
        for key in path[:-1]:
            entry = entry[key]
        entry[path[-1]] = value

    return change


#: API entries whose values no datetime or URL parser can hold: each skipped with a note, the rest judged.
OUT_OF_RANGE: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "time_huge": (_set("time", value=1e300), "time or startedDateTime out of range"),
    "time_infinite": (_set("time", value=float("inf")), "time or startedDateTime out of range"),
    "answered_after_the_end_of_time": (
        lambda entry: entry.update(startedDateTime="9999-12-31T23:59:59.999Z", time=42.5),
        "time or startedDateTime out of range",
    ),
    "started_before_year_1_in_utc": (
        _set("startedDateTime", value="0001-01-01T00:00:00+14:00"),
        "startedDateTime missing or malformed",
    ),
    "url_unclosed_ipv6": (
        _set("request", "url", value="http://[::1/v1/customer-trust/questionnaires/exports/e1"),
        "request.url missing or not an absolute http(s) URL",
    ),
}


@pytest.mark.parametrize("case", sorted(OUT_OF_RANGE))
def test_an_entry_out_of_range_is_skipped_not_an_internal_error(tmp_path: Path, case: str) -> None:
    change, why = OUT_OF_RANGE[case]
    path = tmp_path / "odd.har"
    path.write_bytes(_valid_with(change))
    checked = check_traffic(path)
    assert checked.code == 0 and "internal error" not in checked.output, checked.output
    assert f"skipped 1 HAR entries: {why}" in checked.report["notes"]


@pytest.mark.timeout(20)  # before the fix: blocked in open() for ever, waiting for a writer
def test_a_fifo_no_one_writes_to_is_one_line_not_a_hang(tmp_path: Path) -> None:
    path = tmp_path / "fifo.har"
    os.mkfifo(path)
    checked = check_traffic(path)
    assert checked.code == 2 and checked.output.startswith("conformance: cannot run: fifo.har is"), (
        checked.output
    )


_FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.har"))
#: Where a mutation lands in an entry: the fields the reader and the rules read.
_FIELDS = [
    ("time",), ("startedDateTime",), ("request", "method"), ("request", "url"), ("request", "headers"),
    ("request", "postData"), ("request", "bodySize"), ("response", "status"), ("response", "headers"),
    ("response", "content"), ("response", "content", "text"), ("response", "content", "size"),
    ("response", "content", "encoding"), ("response", "content", "mimeType"), ("response", "content", "comment"),
]  # fmt: skip
#: Values that broke a parser or the datetime arithmetic once, and their neighbours.
_EDGES: dict[str, Any] = {
    "none": None, "true": True, "minus_one": -1, "huge_int": 2**70, "huge_float": 1e300, "infinity": float("inf"),
    "empty": "", "list": [], "object": {}, "end_of_time": "9999-12-31T23:59:59.999Z",
    "before_year_1_in_utc": "0001-01-01T00:00:00+14:00", "unclosed_ipv6": "http://[::1/v1/x",
    "port_out_of_range": "https://h:99999/v1/x", "date_end_of_time": "Fri, 31 Dec 9999 23:59:59 GMT",
    "base64": "base64", "bad_base64": "@@", "cut": "cut: x", "non_ascii": "\u2603\x00\ud7ff",
}  # fmt: skip
_ODD = (
    st.sampled_from(list(_EDGES.values()))
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
)
_VALUES = st.recursive(
    _ODD,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["name", "value", "text"]), inner)
    ),
    max_leaves=6,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fixture=st.sampled_from(_FIXTURES),
    mutations=st.lists(
        st.tuples(st.integers(0, 50), st.sampled_from(_FIELDS), _VALUES), min_size=1, max_size=4
    ),
)
def test_a_mutated_real_har_file_is_a_verdict_never_an_internal_error(
    tmp_path: Path, fixture: Path, mutations: list[tuple[int, tuple[str, ...], Any]]
) -> None:
    document = json.loads(fixture.read_text(encoding="utf-8"))
    entries = document["log"]["entries"]
    for index, keys, value in mutations:
        target = entries[index % len(entries)]
        for key in keys[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        target[keys[-1]] = value
    path = tmp_path / "mutated.har"
    path.write_text(json.dumps(document), encoding="utf-8")
    code, output = invoke_cli(["check-traffic", str(path)])
    assert code in (0, 1, 2) and "internal error" not in output and "Traceback" not in output, output


def _mutated(field: tuple[str, ...], value: Any, entry: dict[str, Any]) -> dict[str, Any]:
    entry = json.loads(json.dumps(entry))
    target = entry
    for key in field[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    if field == ("response", "headers") or field == ("request", "headers"):
        kept = [item for item in target.get(field[-1], []) if str(item.get("name")).lower() != "date"]
        value = [{"name": "date", "value": value}, *kept]  # the Date rules read, in place of the real one
    target[field[-1]] = value
    return entry


@pytest.mark.parametrize("edge", sorted(_EDGES))
def test_every_field_of_every_real_entry_at_an_edge_value_is_a_verdict(tmp_path: Path, edge: str) -> None:
    """Each field of each entry of the fixtures set to the value, one entry per (entry, field): entries are
    read one by one, so a crash anywhere shows."""
    entries = [
        _mutated(field, _EDGES[edge], entry)
        for fixture in _FIXTURES
        for entry in json.loads(fixture.read_text(encoding="utf-8"))["log"]["entries"]
        for field in _FIELDS
    ]
    path = tmp_path / "edges.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}), encoding="utf-8")
    code, output = invoke_cli(["check-traffic", str(path)])
    assert code in (0, 1, 2) and "internal error" not in output and "Traceback" not in output, output
