"""No client input makes the server answer 5xx: arbitrary methods, paths, headers and bodies, in process
(``httpx.ASGITransport``) and as raw bytes over loopback; an unexpected bug still answers a problem+json."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference_server.app import EXPORTS_PATH, create_app
from reference_server.config import ServerConfig
from reference_server.seed import QUESTIONNAIRES
from reference_server.testing import ServerHandle, running_server

from .server_test_helpers import assert_problem

TOKEN = "fuzz-token"
PROFILE = settings(
    max_examples=250, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
_PATHS = [EXPORTS_PATH, EXPORTS_PATH + "/", EXPORTS_PATH + "/abc", "/files/x.csv", "/", "/v1", ""]
_HEADER_NAMES = [
    "authorization",
    "content-type",
    "accept",
    "host",
    "x-forwarded-for",
    "x-forwarded-proto",
    "forwarded",
    "expect",
    "cookie",
    "x-anything",
]
_CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/merge-patch+json",
    "text/plain",
    "",
    "application/json; charset=latin-1",
]
_JSON_FRAGMENTS = [
    b'{"questionnaireId": "%s", "format": "csv"}' % next(iter(QUESTIONNAIRES)).encode(),
    b'{"questionnaireId": "x", "format": "csv", "format": "csv"}',
    b"NaN",
    b'{"a": Infinity}',
    b'"\\ud800"',
    b'{"\\udc00": 1}',
    b"1" * 5000,
    b"[" * 40 + b"]" * 40,
    b"\xed\xa0\x80",
    b"\xef\xbb\xbf{}",
]
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)
_bodies = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(_JSON_FRAGMENTS),
    _json_values.map(lambda value: json.dumps(value).encode()),
    st.tuples(st.sampled_from(_JSON_FRAGMENTS), st.binary(max_size=8)).map(lambda pair: pair[0] + pair[1]),
)
_header_values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40
)
_headers = st.dictionaries(
    st.sampled_from(_HEADER_NAMES),
    st.one_of(
        _header_values,
        st.sampled_from(_CONTENT_TYPES),
        st.just(f"Bearer {TOKEN}"),
        st.sampled_from(["Bearer", "bearer  x", "Basic Zm9vOmJhcg==", f"Bearer {TOKEN}\t"]),
    ),
    max_size=5,
)
_methods = st.one_of(
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
    st.from_regex(r"[A-Z]{1,10}", fullmatch=True),
)
_paths = st.one_of(
    st.sampled_from(_PATHS),
    st.tuples(st.sampled_from(_PATHS), st.text(max_size=30)).map(lambda p: p[0] + quote(p[1], safe="/")),
)
_queries = st.one_of(
    st.just(""),
    st.sampled_from(["expires=1&signature=x", "expires=01&expires=1", "signature=a&signature=b"]),
    st.text(max_size=30).map(lambda q: quote(q, safe="=&")),
)


def _check(status: int, headers: httpx.Headers, method: str) -> None:
    assert status < 500, status
    assert "date" in headers
    if status >= 400 and method != "HEAD":
        assert headers["content-type"].startswith("application/problem+json"), headers


@pytest.fixture(scope="module")
def in_process() -> Iterator[tuple[asyncio.AbstractEventLoop, httpx.AsyncClient]]:
    """The app in this process on one event loop (its worker runs while requests are served)."""
    app = create_app(ServerConfig(tokens=(TOKEN,), in_memory=True, export_delay=0.0))
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    try:
        yield loop, client
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(app.state.runtime.shutdown())
        loop.close()


@PROFILE
@given(method=_methods, path=_paths, query=_queries, headers=_headers, body=_bodies)
def test_in_process_nothing_answers_5xx(
    in_process: tuple[asyncio.AbstractEventLoop, httpx.AsyncClient],
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
) -> None:
    loop, client = in_process
    url = (path or "/") + (f"?{query}" if query else "")
    raw_headers = [(name.encode(), value.encode("latin-1")) for name, value in headers.items()]
    response = loop.run_until_complete(client.request(method, url, headers=raw_headers, content=body))
    _check(response.status_code, response.headers, method)


@pytest.fixture(scope="module")
def live() -> Iterator[ServerHandle]:
    with running_server(tokens=(TOKEN,), in_memory=True, export_delay=0.0) as server:
        yield server


def _one_line(raw: bytes) -> bytes:
    """``raw`` without CR and LF, so it stays inside one line of the request head."""
    return raw.replace(b"\r", b"").replace(b"\n", b"")


_STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3})")
_header_lines = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(_HEADER_NAMES), _header_values).map(
            lambda h: h[0].encode() + b": " + h[1].encode("latin-1")
        ),
        st.binary(min_size=1, max_size=40).map(_one_line).filter(bool),
    ),
    max_size=6,
)
_targets = st.one_of(
    _paths.map(str.encode),
    st.binary(min_size=1, max_size=40).map(lambda b: _one_line(b).replace(b" ", b"") or b"/"),
)


def _exchange(server: ServerHandle, request: bytes) -> bytes:
    """Send ``request`` on a fresh connection, read until the server closes it (bounded by a timeout)."""
    host, port = server.origin.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while len(received) < 1_000_000:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return received


def _check_raw(answer: bytes) -> None:
    head, _, _ = answer.partition(b"\r\n\r\n")
    match = _STATUS_LINE.match(head)
    assert match is not None, answer[:200]  # a complete request head always gets an answer
    lines = head.decode("latin-1").split("\r\n")[1:]
    pairs = [line.split(":", 1) for line in lines if ":" in line]
    headers = httpx.Headers([(name, value.strip()) for name, value in pairs])
    _check(int(match.group(1)), headers, "GET")


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.one_of(_methods.map(str.encode), st.binary(min_size=1, max_size=8).map(_one_line)),
    target=_targets,
    version=st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/9.9", b"http/1.1", b""]),
    header_lines=_header_lines,
    body=_bodies,
)
def test_over_loopback_nothing_answers_5xx(
    live: ServerHandle, method: bytes, target: bytes, version: bytes, header_lines: list[bytes], body: bytes
) -> None:
    clean = [line for line in header_lines if not line.lower().startswith((b"content-length", b"connection"))]
    head = b" ".join(part for part in (method, target, version) if part) + b"\r\n"
    head += b"".join(line + b"\r\n" for line in clean)
    head += b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    _check_raw(_exchange(live, head + body))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(garbage=st.binary(max_size=300))
def test_raw_garbage_over_loopback_answers_no_5xx(live: ServerHandle, garbage: bytes) -> None:
    answer = _exchange(live, garbage + b"\r\n\r\n")
    if answer:  # a blank head is just an idle connection the server may close without answering
        _check_raw(answer)


def test_an_unexpected_error_is_a_problem_with_date_and_logged_as_500(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(ServerConfig(tokens=(TOKEN,), in_memory=True))

    def boom(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("a bug in the store")

    monkeypatch.setattr(app.state.runtime.store, "get_export", boom)

    async def scenario() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get(EXPORTS_PATH + "/abc", headers={"Authorization": f"Bearer {TOKEN}"})
        await app.state.runtime.shutdown()
        return response

    with caplog.at_level("INFO"):
        response = asyncio.run(scenario())
    body = assert_problem(response, 500)
    assert "a bug in the store" not in body["detail"]  # internals stay in the server
    access = [json.loads(r.getMessage()) for r in caplog.records if r.name == "reference_server.access"]
    assert [entry["status"] for entry in access] == [500]
    assert any("unhandled RuntimeError" in r.getMessage() for r in caplog.records)
