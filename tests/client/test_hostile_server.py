"""Real sockets on 127.0.0.1: peers that break HTTP in the ways a network does, and what the client raises.

Each peer is a small thread answering raw bytes (or nothing); each case names the exception and kind the
client must raise. Complements the MockTransport properties with errors that only real transports produce.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest
from questionnaire_exports_client import (
    AuthenticatedClient,
    ResponseValidationError,
    TransportError,
    UnexpectedStatus,
)
from questionnaire_exports_client.api.exports import get_questionnaire_export
from questionnaire_exports_client.lib import wait_for_export

TOKEN = "tok-raw-socket-5c2b"
Behaviour = Callable[[socket.socket], None]


def answer(raw: bytes) -> Behaviour:
    def behave(connection: socket.socket) -> None:
        connection.recv(65536)
        connection.sendall(raw)

    return behave


def close_at_once(connection: socket.socket) -> None:
    connection.recv(65536)


def stay_silent(connection: socket.socket) -> None:
    connection.recv(65536)
    connection.recv(65536)  # until the client gives up and closes


def http(status_line: bytes, body: bytes, content_type: bytes = b"application/json") -> bytes:
    return (
        status_line
        + b"\r\ncontent-type: "
        + content_type
        + b"\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\nconnection: close\r\n\r\n"
        + body
    )


@pytest.fixture
def peer() -> Iterator[Callable[[Behaviour], int]]:
    """Start a one-behaviour TCP server on 127.0.0.1; returns its port."""
    sockets: list[socket.socket] = []
    threads: list[threading.Thread] = []
    stop = threading.Event()

    def start(behave: Behaviour) -> int:
        server = socket.create_server(("127.0.0.1", 0))
        server.settimeout(0.05)  # so the loop sees `stop` soon after the test ends
        sockets.append(server)

        def serve() -> None:
            handled = 0
            while handled < 8 and not stop.is_set():  # bounded: a few connections per test at most
                try:
                    connection, _ = server.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                handled += 1
                with connection, contextlib.suppress(OSError):
                    connection.settimeout(10)
                    behave(connection)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        threads.append(thread)
        return int(server.getsockname()[1])

    yield start
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
    for server in sockets:
        server.close()


def client(port: int, scheme: str = "http") -> AuthenticatedClient:
    return AuthenticatedClient(
        base_url=f"{scheme}://127.0.0.1:{port}/v1", token=TOKEN, timeout=httpx.Timeout(2.0)
    )


@pytest.mark.parametrize(
    ("behaviour", "kind"),
    [
        (answer(b"this is not HTTP\r\n\r\n"), "protocol"),
        (close_at_once, "protocol"),
        (stay_silent, "timeout"),
        (answer(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\nconnection: close\r\n\r\nshort"), "protocol"),
        (
            answer(
                http(b"HTTP/1.1 200 OK", b"\x1f\x8b not gzip", b"application/json\r\ncontent-encoding: gzip")
            ),
            "other",
        ),
    ],
    ids=["garbage", "closed", "silent", "cut-short", "bad-gzip"],
)
def test_broken_peers_are_transport_errors(
    peer: Callable[[Behaviour], int], behaviour: Behaviour, kind: str
) -> None:
    port = peer(behaviour)
    with client(port) as api, pytest.raises(TransportError) as caught:
        get_questionnaire_export.sync_detailed("id", client=api)
    assert caught.value.kind == kind and caught.value.host == "127.0.0.1"
    assert TOKEN not in str(caught.value)


def test_tls_to_a_plain_http_peer_is_a_tls_error_and_ends_the_wait(peer: Callable[[Behaviour], int]) -> None:
    port = peer(answer(http(b"HTTP/1.1 400 Bad Request", b"{}")))
    with client(port, "https") as api, pytest.raises(TransportError) as caught:
        wait_for_export(api, "id", timeout=300)
    assert caught.value.kind == "tls"


@pytest.mark.parametrize("status", [b"520 Origin Error", b"499 Client Closed Request", b"999 Whatever"])
def test_non_standard_status_over_the_wire(peer: Callable[[Behaviour], int], status: bytes) -> None:
    port = peer(answer(http(b"HTTP/1.1 " + status, b"<html>oops</html>", b"text/html")))
    with client(port) as api, pytest.raises(UnexpectedStatus) as caught:
        get_questionnaire_export.sync_detailed("id", client=api)
    assert caught.value.status_code == int(status.split()[0])


def test_deep_json_over_the_wire(peer: Callable[[Behaviour], int]) -> None:
    port = peer(answer(http(b"HTTP/1.1 200 OK", b"[" * 200_000 + b"]" * 200_000)))
    with client(port) as api, pytest.raises(ResponseValidationError, match="nested too deep"):
        get_questionnaire_export.sync_detailed("id", client=api)
