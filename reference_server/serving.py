"""Running the app under uvicorn on a socket this process binds itself, with deliberate connection limits.

Why bind the socket first: with port 0 the real port is known before uvicorn starts, so the URL can be
printed or handed to tests without parsing logs, and uvicorn's own access log (which would print link
signatures) stays off.

Why a protocol subclass: uvicorn bounds the header size (``h11_max_incomplete_event_size``) and the idle
time after a response (``timeout_keep_alive``), but has no deadline for the headers of a request (the first
one on a connection, or one trickled a byte at a time) and no connection limit that does not answer ``503``
to well-behaved clients. ``_GuardedH11Protocol`` adds both: a connection must deliver complete request
headers within ``header_timeout`` of connecting (or of its previous response) or it is closed, and when
``max_connections`` are open the connection waiting longest for its headers is closed to make room. It
also answers unparseable requests with a problem+json (uvicorn's own answer is ``text/plain``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import resource
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, ClassVar

import h11
import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.h11_impl import H11Protocol

from .problems import problem

__all__ = [
    "START_TIMEOUT",
    "STOP_TIMEOUT",
    "NotifyingServer",
    "ServingOptions",
    "ThreadedServer",
    "base_url",
    "bind_socket",
    "protocol_class",
    "serve_in_thread",
    "uvicorn_server",
]

logger = logging.getLogger("reference_server.serving")


@dataclass(frozen=True)
class ServingOptions:
    """Connection-level bounds and proxy trust (all seconds / counts / bytes).

    ``forwarded_allow_ips`` None (the default) ignores ``X-Forwarded-*`` from everyone; otherwise only
    peers in that list (addresses or networks) may set the client address and scheme.
    """

    header_timeout: float = 10.0
    keep_alive_timeout: float = 5.0
    max_connections: int = 1000
    max_header_bytes: int = 16 * 1024
    forwarded_allow_ips: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.header_timeout <= 0 or self.keep_alive_timeout <= 0:
            raise ValueError("header and keep-alive timeouts must be > 0")
        if self.max_connections < 1:
            raise ValueError("max connections must be >= 1")
        if self.max_header_bytes < 1024:
            raise ValueError("max header bytes must be >= 1024")
        for entry in self.forwarded_allow_ips or ():
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"forwarded-allow-ips: {entry!r} is not an address or network") from None

    def effective_max_connections(self) -> int:
        """``max_connections``, lowered to half the process's file-descriptor limit (the rest: db, logs)."""
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return self.max_connections
        return max(1, min(self.max_connections, soft // 2))


def _raw_problem(status: int, detail: str) -> bytes:
    """A complete ``HTTP/1.1`` problem response that closes the connection (the same body as the app's)."""
    response = problem(status, detail, headers={"Connection": "close"})
    head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}".encode("ascii")]
    head += [name + b": " + value for name, value in response.raw_headers]
    head.append(b"date: " + formatdate(usegmt=True).encode("ascii"))
    return b"\r\n".join(head) + b"\r\n\r\n" + bytes(response.body)


class _GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus a header deadline, a connection limit and problem+json for bad HTTP."""

    options: ClassVar[ServingOptions]
    max_connections: ClassVar[int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._head = bytearray()
        #: Loop time since this connection waits for request headers; None while a request is in progress.
        self.awaiting_headers_since: float | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._await_headers()
        if len(self.connections) > self.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.awaiting_headers_since is not None and self.conn.their_state is h11.IDLE:
            # h11 bounds only a head still incomplete; one that arrives whole in a read is checked here.
            # (Not while the client still sends the body of a request already answered: that is no head.)
            self._head.extend(data)
            end = self._head.find(b"\r\n\r\n")
            if (len(self._head) if end < 0 else end + 4) > self.options.max_header_bytes:
                self._refuse(431, f"The request head exceeds {self.options.max_header_bytes} bytes.")
                return
        before = self.cycle
        super().data_received(data)  # h11 admits only visible ASCII in the target (uvicorn decodes it so)
        if self.cycle is not before:  # a complete request head arrived
            self._stop_header_timer()

    def on_response_complete(self) -> None:
        completed = self.cycle
        super().on_response_complete()
        if self.cycle is completed and not self.transport.is_closing():
            self._await_headers()  # no pipelined request was waiting: the next head must come in time

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, "The request is not valid HTTP/1.1.")

    def _refuse(self, status: int, detail: str) -> None:
        self._stop_header_timer()
        if not self.transport.is_closing():
            self.transport.write(_raw_problem(status, detail))
            self.transport.close()

    def _await_headers(self) -> None:
        self._stop_header_timer()
        self.awaiting_headers_since = self.loop.time()
        self._header_timer = self.loop.call_later(self.options.header_timeout, self._header_timeout)

    def _stop_header_timer(self) -> None:
        self.awaiting_headers_since = None
        self._head.clear()
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout(self) -> None:
        self._header_timer = None
        if self.awaiting_headers_since is not None and not self.transport.is_closing():
            self._close_idle()

    def _close_idle(self) -> None:
        self.awaiting_headers_since = None
        if self.conn.our_state is not h11.ERROR:
            with contextlib.suppress(h11.LocalProtocolError):
                self.conn.send(h11.ConnectionClosed())
        self.transport.close()

    def _make_room(self) -> None:
        """Over the limit: close the connection that has waited longest for its headers (maybe this one)."""
        waiting = [
            c
            for c in self.connections
            if isinstance(c, _GuardedH11Protocol)
            and c.awaiting_headers_since is not None
            and not c.transport.is_closing()
        ]
        if not waiting:
            self._close_idle()
            return
        oldest = min(waiting, key=lambda c: c.awaiting_headers_since or 0.0)
        logger.debug("connection limit %d reached: closing an idle connection", self.max_connections)
        oldest._close_idle()


def protocol_class(options: ServingOptions) -> type[asyncio.Protocol]:
    """The guarded h11 protocol bound to ``options``."""
    return type(
        "GuardedH11Protocol",
        (_GuardedH11Protocol,),
        {"options": options, "max_connections": options.effective_max_connections()},
    )


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``0`` picks a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this: without it, Nagle's algorithm and the client's delayed ACK
        # hold every keep-alive response for about 40 ms (measured: 44 ms -> 0.65 ms per GET).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(1024)
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


class NotifyingServer(uvicorn.Server):
    """``uvicorn.Server`` that calls ``on_startup_done`` once its startup has ended, listening or not.

    uvicorn only sets ``started``; this lets a caller wait on an event instead of polling the flag.
    """

    def __init__(self, config: uvicorn.Config, on_startup_done: Callable[[], None] | None = None) -> None:
        super().__init__(config)
        self.on_startup_done = on_startup_done

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            if self.on_startup_done is not None:
                self.on_startup_done()


def uvicorn_server(
    app: Starlette,
    *,
    graceful_timeout: int = 5,
    options: ServingOptions | None = None,
    on_startup_done: Callable[[], None] | None = None,
    date_header: bool = False,
) -> NotifyingServer:
    """A uvicorn server for ``app`` with its access log, ``Date`` and ``Server`` headers off.

    ``Date`` is added by the app from its own clock; logging is left to the caller's configuration.
    Forwarded headers are honoured only from ``options.forwarded_allow_ips`` (default: from nobody).
    ``on_startup_done`` is called once startup has ended (check ``started`` for the outcome);
    ``date_header`` lets uvicorn stamp ``Date`` (for apps that do not, unlike the reference app).
    """
    options = options if options is not None else ServingOptions()
    trusted: Sequence[str] | None = options.forwarded_allow_ips
    config = uvicorn.Config(
        app,
        http=protocol_class(options),
        log_config=None,
        access_log=False,
        date_header=date_header,
        server_header=False,
        lifespan="on",
        timeout_graceful_shutdown=graceful_timeout,
        timeout_keep_alive=max(1, round(options.keep_alive_timeout)),
        h11_max_incomplete_event_size=options.max_header_bytes,
        proxy_headers=trusted is not None,
        forwarded_allow_ips=list(trusted) if trusted else None,
    )
    return NotifyingServer(config, on_startup_done)


def base_url(sock: socket.socket) -> str:
    """``http://HOST:PORT/v1`` for a bound socket."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/v1"


START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


class ThreadedServer:
    """A uvicorn server serving in a daemon thread of this process on a socket bound beforehand.

    ``port`` is read from the bound socket (so port ``0`` gives the real one); ``stop()`` is idempotent
    and bounded: graceful first, then forced, each waiting at most ``STOP_TIMEOUT`` seconds.
    """

    def __init__(self, server: NotifyingServer, thread: threading.Thread, sock: socket.socket) -> None:
        self.server = server
        self.thread = thread
        self.socket = sock
        self.host: str = sock.getsockname()[0]
        self.port: int = sock.getsockname()[1]
        self.base_url = base_url(sock)
        #: ``http://HOST:PORT`` (``base_url`` without ``/v1``).
        self.origin = self.base_url.removesuffix("/v1")

    @property
    def running(self) -> bool:
        """Whether the server thread is still alive."""
        return self.thread.is_alive()

    def __enter__(self) -> ThreadedServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop serving (graceful, then forced after ``timeout``) and close the socket. Idempotent."""
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(timeout)
        self.socket.close()
        if self.thread.is_alive():
            raise RuntimeError(f"server on port {self.port} did not stop within {2 * timeout:g} s")


def serve_in_thread(
    app: Starlette,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    options: ServingOptions | None = None,
    graceful_timeout: int = 5,
    start_timeout: float = START_TIMEOUT,
    name: str = "uvicorn",
    date_header: bool = False,
) -> ThreadedServer:
    """Serve ``app`` on ``host:port`` (``0``: a free port) in a daemon thread; returns once it listens.

    The result is a context manager that stops the server on exit (``with serve_in_thread(app) as s:``);
    without ``with``, call ``stop()``.

    The server is ``uvicorn_server()``'s: the guarded protocol with ``options``, no access log. Raises
    ``OSError`` when the address cannot be bound, ``RuntimeError`` when startup fails or takes longer than
    ``start_timeout`` seconds (the thread is then stopped).
    """
    sock = bind_socket(host, port)
    done = threading.Event()
    server = uvicorn_server(
        app,
        graceful_timeout=graceful_timeout,
        options=options,
        on_startup_done=done.set,
        date_header=date_header,
    )

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except SystemExit:  # uvicorn's way to end a failed startup; the caller raises RuntimeError
            pass
        finally:
            done.set()  # startup may have failed before it could say so (an exception, a lifespan exit)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    served = ThreadedServer(server, thread, sock)
    if not done.wait(start_timeout) or not server.started:
        with contextlib.suppress(RuntimeError):
            served.stop()
        raise RuntimeError(f"server on {host}:{served.port} did not start")
    return served
