"""Hostile peers on both sides: the proxy answers 502/504/413/408 problems within its bounds, notes each,
closes the client's connection when an answer breaks off after its head, and stops when the client leaves."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from questionnaire_exports_client.redact import Redactor

from conformance.proxy_log import ExchangeLog
from conformance.traffic.judge import MAX_SECRETS
from conformance.traffic.recorded import Recorded

from ..hostile import hostile_server
from .upstreams import PATIENCE, FakeJudge, Proxied, Seen, answer, fixed, proxying, raw_upstream

TOKEN = "proxy-test-token-4Kq9Zs"
_AUTH = {"Authorization": f"Bearer {TOKEN}"}
#: The proxy's --request-timeout against hostile peers (a bound, not a pace: a missed one fails at PATIENCE).
LIMIT = 0.3


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def _noted(proxy: Proxied[FakeJudge], status: int, words: str) -> None:
    assert any(f"answered {status} itself" in note and words in note for note in proxy.log.notes()), (
        proxy.log.notes()
    )
    assert any(words in line for line in proxy.lines), proxy.lines
    assert proxy.judge.observed == [] and proxy.log.entries == []  # the proxy's own answers are not judged


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_refused_connection_is_answered_502_and_noted_without_the_token() -> None:
    with proxying(f"http://127.0.0.1:{_closed_port()}/v1") as proxy:
        response = httpx.get(proxy.url + "/x?signature=abc", headers=_AUTH, timeout=PATIENCE)
    assert "connection refused" in _problem(response, 502)["detail"]
    _noted(proxy, 502, "connection refused")
    assert not any(TOKEN in line or "abc" in line for line in proxy.lines)
    assert proxy.redactor.text(f"Bearer {TOKEN}") == "Bearer REDACTED"


def test_a_plain_http_upstream_behind_https_is_a_502_tls_error() -> None:
    plain = answer(b"HTTP/1.1 400 Bad Request", [(b"Content-Length", b"0")], b"")
    with (
        raw_upstream(fixed(plain), read_first=False) as upstream,
        proxying(f"https://127.0.0.1:{upstream.port}/v1") as proxy,
    ):
        response = httpx.get(proxy.url + "/x", timeout=PATIENCE)
    assert "TLS" in _problem(response, 502)["detail"]
    _noted(proxy, 502, "TLS")


@contextlib.contextmanager
def _no_timely_head(behaviour: str) -> Iterator[str]:
    """An upstream that accepts and never answers, or trickles its head a byte at a time."""
    if behaviour == "trickle_headers":
        with hostile_server("trickle_headers") as hostile:
            yield hostile.base_url
        return
    release = threading.Event()

    def hang(_seen: Seen, _conn: socket.socket) -> None:
        release.wait(PATIENCE)

    with raw_upstream(hang) as silent:
        try:
            yield silent.url()
        finally:
            release.set()


@pytest.mark.parametrize("behaviour", ["hang", "trickle_headers"])
def test_an_upstream_without_a_timely_head_is_answered_504(behaviour: str) -> None:
    with _no_timely_head(behaviour) as upstream, proxying(upstream, request_timeout=LIMIT) as proxy:
        response = httpx.get(proxy.url + "/customer-trust/questionnaires/exports/x", timeout=PATIENCE)
    assert "timeout" in _problem(response, 504)["detail"]
    _noted(proxy, 504, f"within {LIMIT:g} s")


@pytest.mark.parametrize("mode", ["trickle_body", "endless_body"])
def test_an_api_answer_breaking_its_time_limit_closes_the_client_connection(mode: str) -> None:
    with (
        hostile_server(mode) as upstream,
        proxying(upstream.base_url, request_timeout=LIMIT, max_body_bytes=64 * 1024) as proxy,
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream("GET", proxy.url + "/x", timeout=PATIENCE) as r,
    ):
        assert r.status_code == 200  # the head was the upstream's, forwarded at once
        for _ in r.iter_raw():
            pass
    (recorded,) = proxy.judge.observed
    assert recorded.cut is not None and "broke off" in recorded.cut and f"{LIMIT:g} s" in recorded.cut
    assert len(recorded.response_body) <= 64 * 1024
    assert any("broke off" in note for note in proxy.log.notes())


def test_the_proxy_stops_reading_a_download_once_the_client_has_left() -> None:
    """An endless download: when the client disconnects the proxy closes the upstream connection too."""
    stopped = threading.Event()

    def endless(_seen: Seen, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n")
        block = b"x" * 65536
        try:
            for _ in range(100_000):  # 6.5 GB at most: far more than any buffer between here and the client
                conn.sendall(block)
        finally:
            stopped.set()

    with raw_upstream(endless) as upstream, proxying(upstream.url()) as proxy:
        with httpx.stream("GET", proxy.url.removesuffix("/v1") + "/files/endless", timeout=PATIENCE) as r:
            assert next(r.iter_raw())
        assert stopped.wait(PATIENCE)
    assert upstream.errors, "the upstream's sends should have failed once the proxy let go"
    (download,) = proxy.log.entries
    assert download.cut is not None and "the client went away" in download.cut


def test_an_oversized_request_body_is_answered_413_and_never_forwarded() -> None:
    ok = answer(b"HTTP/1.1 204 No Content", [], b"")
    with raw_upstream(fixed(ok)) as upstream, proxying(upstream.url(), max_request_bytes=1000) as proxy:
        declared = httpx.post(proxy.url + "/x", content=b"x" * 1001, timeout=PATIENCE)
        chunked = httpx.post(proxy.url + "/x", content=iter([b"x" * 600, b"x" * 600]), timeout=PATIENCE)
        fits = httpx.post(proxy.url + "/x", content=iter([b"x" * 500, b"x" * 500]), timeout=PATIENCE)
    _problem(declared, 413)
    _problem(chunked, 413)
    assert fits.status_code == 204
    assert [seen.body for seen in upstream.seen] == [b"x" * 1000]
    assert any("answered 413 itself 2 time(s)" in note for note in proxy.log.notes())


def test_a_request_body_trickled_past_the_limit_is_answered_408() -> None:
    ok = answer(b"HTTP/1.1 204 No Content", [], b"")
    with raw_upstream(fixed(ok)) as upstream, proxying(upstream.url(), request_timeout=LIMIT) as proxy:
        host, port = "127.0.0.1", httpx.URL(proxy.url).port
        with socket.create_connection((host, port), timeout=PATIENCE) as conn:
            conn.sendall(b"POST /v1/x HTTP/1.1\r\nHost: p\r\nContent-Length: 100\r\n\r\npartial")
            reply = conn.recv(65536)
    assert reply.startswith(b"HTTP/1.1 408 ") and b"application/problem+json" in reply
    assert upstream.seen == []


def test_a_client_leaving_mid_upload_is_never_forwarded_as_a_whole_request() -> None:
    """A chunked body cut off by the client's close: the proxy must not send upstream what came as if complete."""
    ok = answer(b"HTTP/1.1 204 No Content", [], b"")
    with raw_upstream(fixed(ok)) as upstream, proxying(upstream.url()) as proxy:
        port = httpx.URL(proxy.url).port
        with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as conn:
            conn.sendall(
                b"POST /v1/x HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
            )
        for _ in range(int(PATIENCE / 0.01)):  # until the proxy dealt with it one way or the other
            if upstream.seen or any("request body ended" in line for line in proxy.lines):
                break
            time.sleep(0.01)
        assert upstream.seen == []
        _noted(proxy, 400, "before its request body ended")


def test_recording_stops_at_max_exchanges_forwarding_goes_on() -> None:
    body = b'{"id": "x"}' * 10
    ok = answer(b"HTTP/1.1 200 OK", [(b"Content-Length", str(len(body)).encode())], body)
    with raw_upstream(fixed(ok)) as upstream, proxying(upstream.url(), max_exchanges=3) as proxy:
        answers = [httpx.get(proxy.url + f"/x/{n}", timeout=PATIENCE).content for n in range(5)]
    assert answers == [body] * 5 and len(upstream.seen) == 5
    assert [r.index for r in proxy.judge.observed] == [0, 1, 2]
    assert [r.response_body for r in proxy.log.entries] == [body] * 3
    assert any("2 exchange(s) after the first 3" in note for note in proxy.log.notes())


def _recorded(body: bytes) -> Recorded:
    return Recorded(
        index=-1, started=datetime.now(UTC), method="GET", url="http://127.0.0.1/v1/x",
        request_headers=(("host", "127.0.0.1"),), request_body=None, status=200,
        response_headers=(("content-type", "application/json"),), response_body=body,
    )  # fmt: skip


def test_the_har_keeps_whole_exchanges_then_headers_only_then_nothing_within_its_budget() -> None:
    heads = len("host127.0.0.1content-typeapplication/json")
    judge = FakeJudge()
    log = ExchangeLog(judge, Redactor(), lambda _line: None, keep=True, max_kept_bytes=100 + 2 * heads)

    async def record_all() -> None:
        for _ in range(3):
            await log.record(_recorded(b"x" * 100), api=True)

    asyncio.run(record_all())
    log.close()
    kept = log.entries
    assert [len(r.response_body) for r in kept] == [100, 0]
    assert kept[1].cut is not None and "budget of" in kept[1].cut
    assert len(judge.observed) == 3 and all(len(r.response_body) == 100 for r in judge.observed)
    assert any("1 exchange(s) left out of the HAR" in note for note in log.notes())


def test_credentials_are_learnt_up_to_a_bound() -> None:
    redactor = Redactor()
    log = ExchangeLog(FakeJudge(), redactor, lambda _line: None, keep=False)
    for n in range(MAX_SECRETS + 5):
        log.learn([(b"authorization", f"Bearer token-number-{n:05d}".encode())])
    log.close()
    assert redactor.text("token-number-00000") == "REDACTED"
    assert redactor.text(f"Bearer token-number-{MAX_SECRETS + 1:05d}") == "Bearer REDACTED"  # by pattern
    assert redactor.text(f"token-number-{MAX_SECRETS + 1:05d}") != "REDACTED"  # not learnt: bounded
    assert any(f"more than {MAX_SECRETS} distinct credentials" in note for note in log.notes())
