"""The proxy forwards requests and answers unchanged: target, headers, bodies, encodings, redirects, chunks.

Every upstream here is a raw socket logging what it received byte for byte, and the client side that
matters is a raw socket too (httpx would normalise the target it sends and the body it reads).
"""

from __future__ import annotations

import gzip
import socket
import threading

import httpx

from .upstreams import PATIENCE, Seen, answer, fixed, proxying, raw_upstream

_JSON = (b"Content-Type", b"application/json")
_GET = b"GET /v1/x HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n"


def _port(url: str) -> int:
    return httpx.URL(url).port or 80


def _exchange(url: str, raw: bytes) -> bytes:
    """Send ``raw`` (asking for ``Connection: close``) to the proxy and read its whole answer."""
    with socket.create_connection(("127.0.0.1", _port(url)), timeout=PATIENCE) as conn:
        conn.sendall(raw)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    return data


def _split(raw: bytes) -> tuple[bytes, list[tuple[bytes, bytes]], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    headers = [(n.strip().lower(), v.strip()) for n, _, v in (line.partition(b":") for line in lines)]
    return status, headers, body


def test_the_target_and_the_request_body_arrive_byte_for_byte_with_host_rewritten() -> None:
    target = b'/v1/customer-trust/./questionnaires/../exports/a%2Fb;x=1?q=%7e&a+b=c%20d&odd={x}|^`"<>&dup=1&dup=2&e='
    body = bytes(range(256)) * 4
    raw_answer = answer(b"HTTP/1.1 200 OK", [_JSON, (b"Content-Length", b"2")], b"{}")
    with raw_upstream(fixed(raw_answer)) as upstream, proxying(upstream.url()) as proxy:
        request = (
            b"POST " + target + b" HTTP/1.1\r\nHost: proxy.example\r\nX-Custom: one\r\nX-Custom: two\r\n"
            b"Content-Type: application/octet-stream\r\nContent-Length: " + str(len(body)).encode() + b"\r\n"
            b"Connection: close\r\n\r\n" + body
        )
        got = _exchange(proxy.url, request)
    assert got.startswith(b"HTTP/1.1 200 ")
    (seen,) = upstream.seen
    assert seen.target == target
    assert seen.body == body
    headers = seen.headers()
    assert (b"host", f"127.0.0.1:{upstream.port}".encode()) in headers
    assert [v for n, v in headers if n == b"host"] == [f"127.0.0.1:{upstream.port}".encode()]
    assert [v for n, v in headers if n == b"x-custom"] == [b"one", b"two"]
    assert (b"content-length", str(len(body)).encode()) in headers
    assert not [n for n, _ in headers if n.startswith(b"x-forwarded") or n == b"forwarded"]


def test_hop_by_hop_request_headers_are_dropped_and_end_to_end_ones_kept() -> None:
    raw_answer = answer(b"HTTP/1.1 204 No Content", [], b"")
    with raw_upstream(fixed(raw_answer)) as upstream, proxying(upstream.url()) as proxy:
        _exchange(
            proxy.url,
            b"GET /v1/x HTTP/1.1\r\nHost: p\r\nConnection: close, X-Private\r\nX-Private: drop me\r\n"
            b"Keep-Alive: timeout=5\r\nTE: trailers\r\nTrailer: X-T\r\nProxy-Authorization: Basic eA==\r\n"
            b"X-Keep: kept\r\nAccept-Encoding: gzip\r\n\r\n",
        )
    names = {n for n, _ in upstream.seen[0].headers()}
    assert not names & {b"connection", b"x-private", b"keep-alive", b"te", b"trailer", b"proxy-authorization"}
    assert {b"x-keep", b"accept-encoding", b"host"} <= names
    assert b"user-agent" not in names  # the proxy adds nothing of its own


def test_the_answer_passes_unchanged_duplicates_and_gzip_included_hop_by_hop_dropped() -> None:
    payload = gzip.compress(b'{"id": "x", "status": "pending"}' * 50, mtime=0)
    headers = [
        _JSON,
        (b"Content-Encoding", b"gzip"),
        (b"Content-Length", str(len(payload)).encode()),
        (b"Set-Cookie", b"a=1; Path=/"),
        (b"Set-Cookie", b"b=2; Path=/"),
        (b"X-Upstream", b"yes"),
        (b"Keep-Alive", b"timeout=5"),
        (b"Connection", b"X-Hop"),
        (b"X-Hop", b"gone"),
    ]
    raw_answer = answer(b"HTTP/1.1 200 OK", headers, payload)
    with raw_upstream(fixed(raw_answer)) as upstream, proxying(upstream.url()) as proxy:
        got = _exchange(proxy.url, _GET.replace(b"\r\n\r\n", b"\r\nAccept-Encoding: gzip\r\n\r\n"))
        again = _exchange(proxy.url, _GET)
    status, received, body = _split(got)
    assert status == b"HTTP/1.1 200 OK"
    assert body == payload  # not decompressed
    assert [v for n, v in received if n == b"set-cookie"] == [b"a=1; Path=/", b"b=2; Path=/"]
    assert (b"content-encoding", b"gzip") in received
    assert (b"x-upstream", b"yes") in received
    assert not {n for n, _ in received} & {b"keep-alive", b"x-hop"}
    assert b"cookie" not in {n for n, _ in upstream.seen[1].headers()}
    assert len(proxy.app._client.cookies.jar) == 0  # the proxy collects no cookies of its own
    assert _split(again)[2] == payload
    (first, _) = proxy.judge.observed
    assert first.response_body == b'{"id": "x", "status": "pending"}' * 50  # the judge reads it decoded
    assert first.cut is None


def test_a_redirect_is_forwarded_not_followed() -> None:
    headers = [(b"Location", b"https://login.example.invalid/sso?next=/v1"), (b"Content-Length", b"0")]
    raw_answer = answer(b"HTTP/1.1 302 Found", headers, b"")
    with raw_upstream(fixed(raw_answer)) as upstream, proxying(upstream.url()) as proxy:
        status, received, _ = _split(_exchange(proxy.url, _GET))
    assert status.startswith(b"HTTP/1.1 302")
    assert (b"location", b"https://login.example.invalid/sso?next=/v1") in received
    assert len(upstream.seen) == 1


def test_the_client_gets_the_first_chunk_before_the_upstream_sends_the_last() -> None:
    """Proved with an event: the upstream sends its last chunk only once the client has read the first."""
    read_first = threading.Event()
    waited: list[bool] = []

    def respond(_seen: Seen, conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n5\r\nfirst\r\n"
        )
        waited.append(read_first.wait(PATIENCE))
        conn.sendall(b"4\r\nlast\r\n0\r\n\r\n")

    with raw_upstream(respond) as upstream, proxying(upstream.url()) as proxy:
        origin = proxy.url.removesuffix("/v1")
        with httpx.stream("GET", origin + "/files/big", timeout=PATIENCE) as response:
            chunks = response.iter_raw()
            first = next(chunks)
            read_first.set()
            rest = b"".join(chunks)
    assert first == b"first"
    assert rest == b"last"
    assert waited == [True]
    (download,) = proxy.log.entries
    assert download.response_body == b""
    assert download.cut is not None and "9 bytes, sha256 " in download.cut
    assert proxy.judge.observed == []  # outside the API: forwarded and counted, not judged
