"""Slow or many clients: slow-loris connections are closed while others are served, the connection limit
closes the longest-idle connection, and an oversized request head is a 431 problem."""

from __future__ import annotations

import contextlib
import re
import resource
import selectors
import socket
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from reference_server.serving import ServingOptions
from reference_server.testing import ServerHandle, running_server

from .server_test_helpers import EXPORTS, assert_problem, client_for

LORIS = 300
PARTIAL_HEAD = b"GET /v1/customer-trust/questionnaires/exports/x HTTP/1.1\r\nHost: a\r\nX-Slow: "


def _address(server: ServerHandle) -> tuple[str, int]:
    host, port = server.origin.removeprefix("http://").split(":")
    return host, int(port)


@pytest.fixture(autouse=True)
def enough_file_descriptors() -> None:
    """Both ends of every connection live in this process: make room (up to the hard limit) or skip."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 4 * LORIS + 256
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"needs {needed} file descriptors, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


@contextlib.contextmanager
def slow_loris(server: ServerHandle, count: int) -> Iterator[list[socket.socket]]:
    """``count`` connections that each send the start of a request head and then nothing."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.create_connection(_address(server), timeout=10)
            sock.sendall(PARTIAL_HEAD)
            socks.append(sock)
        yield socks
    finally:
        for sock in socks:
            sock.close()


def _until(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Poll ``condition`` (bounded); the bound is a safety net, not a measured time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _closed_by_server(socks: list[socket.socket], timeout: float = 30.0) -> set[int]:
    """Indexes of the sockets the server closed, waiting (bounded) until all are or the time is up."""
    closed: set[int] = set()
    with selectors.DefaultSelector() as selector:
        for index, sock in enumerate(socks):
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, index)
        deadline = time.monotonic() + timeout
        while len(closed) < len(socks) and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=0.5):
                index = key.data
                try:
                    data = socks[index].recv(4096)
                except (ConnectionResetError, BlockingIOError):
                    data = b""
                if not data:
                    closed.add(index)
                    selector.unregister(socks[index])
    return closed


def test_300_slow_loris_connections_do_not_stop_a_normal_client() -> None:
    options = ServingOptions(header_timeout=120.0)
    with running_server(in_memory=True, serving=options) as server, slow_loris(server, LORIS) as socks:
        assert _until(lambda: server.open_connections >= LORIS)
        with client_for(server) as http:
            assert_problem(http.get(f"{EXPORTS}/unknown"), 404)
            assert http.post(EXPORTS, json={"questionnaireId": "x", "format": "csv"}).status_code == 404
        assert server.open_connections >= LORIS  # all were still held while the client was answered
        assert len(socks) == LORIS


def test_slow_loris_and_trickling_connections_are_closed_at_the_header_deadline() -> None:
    options = ServingOptions(header_timeout=0.5)
    with running_server(in_memory=True, serving=options) as server, slow_loris(server, LORIS) as socks:
        trickler = socket.create_connection(_address(server), timeout=10)
        with trickler:
            trickler.sendall(b"GET / HTTP/1.1\r\n")
            trickled = 0
            with contextlib.suppress(OSError):  # a byte well within any per-read timeout, until cut off
                for _ in range(2000):
                    trickler.sendall(b"X")
                    trickled += 1
                    time.sleep(0.01)
            assert 0 < trickled < 2000  # the deadline counts from the connection, not from the last byte
        assert _closed_by_server(socks) == set(range(LORIS))
        assert _until(lambda: server.open_connections == 0)
        with client_for(server) as http:  # and the server still serves
            assert_problem(http.get(f"{EXPORTS}/unknown"), 404)


def test_an_idle_keep_alive_connection_is_closed() -> None:
    with running_server(in_memory=True, serving=ServingOptions(header_timeout=0.5)) as server:
        sock = socket.create_connection(_address(server), timeout=10)
        with sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 404 ")
            assert _closed_by_server([sock]) == {0}


def test_over_the_connection_limit_the_longest_idle_connection_is_closed() -> None:
    options = ServingOptions(max_connections=50, header_timeout=120.0)
    with running_server(in_memory=True, serving=options) as server, slow_loris(server, 60) as socks:
        assert _until(lambda: server.open_connections == 50)
        closed = _closed_by_server(socks[:10])  # the ten oldest made room for the ten newest
        assert closed == set(range(10))
        with client_for(server) as http:
            assert_problem(http.get(f"{EXPORTS}/unknown"), 404)
        assert server.open_connections <= 50
        assert _closed_by_server([socks[10]], timeout=5.0) == {0}  # the next oldest made room for it


def test_an_oversized_request_head_is_a_431_problem() -> None:
    with running_server(in_memory=True) as server:
        huge = httpx.get(server.origin + "/", headers={"X-Big": "a" * 20_000})
        body = assert_problem(huge, 431)
        assert "16384" in body["detail"]
        assert httpx.get(server.origin + "/", headers={"X-Big": "a" * 8_000}).status_code == 404


def test_the_rest_of_an_answered_body_is_not_taken_for_a_request_head() -> None:
    """A 413 goes out before the body is sent; the body that follows must not count as the next head."""
    with running_server(in_memory=True) as server:
        sock = socket.create_connection(_address(server), timeout=10)
        with sock:
            head = (
                f"POST /v1{EXPORTS} HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {server.tokens[0]}\r\n"
                "Content-Type: application/json\r\nContent-Length: 70000\r\n\r\n"
            )
            sock.sendall(head.encode() + b" ")
            first = sock.recv(65536)
            assert first.startswith(b"HTTP/1.1 413 "), first[:100]
            sock.sendall(b" " * 69_999 + b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            answers = first
            while chunk := sock.recv(65536):
                answers += chunk
        statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", answers)
        assert statuses == [b"413", b"404"], answers
