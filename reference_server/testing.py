"""``running_server()``: the real app under uvicorn in a background thread, for tests and benchmarks.

Why a thread and not a subprocess: it starts in well under a second, shares the test's ``ManualClock``,
and many servers can come and go in one pytest process. Each server gets its own temporary database
unless ``db_path`` is given, and ``restart()`` reopens the same database the way a process restart would.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from .app import Runtime, create_app
from .clock import Clock, SystemClock
from .config import RateLimit, ServerConfig
from .serving import ServingOptions, base_url, bind_socket, uvicorn_server

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0


class ServerHandle:
    """A server running in this process: ``base_url`` (ends in ``/v1``), ``tokens``, ``clock``, ``config``."""

    def __init__(self, config: ServerConfig, options: ServingOptions | None = None) -> None:
        self.config = config
        self.options = options
        self._port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._app: Starlette | None = None
        self.base_url = ""

    @property
    def tokens(self) -> tuple[str, ...]:
        """The accepted bearer tokens (first one is the default tenant)."""
        return self.config.tokens

    @property
    def clock(self) -> Clock:
        """The clock the server reads (a ``ManualClock`` if one was passed)."""
        return self.config.clock

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT`` (``base_url`` without ``/v1``)."""
        return self.base_url.removesuffix("/v1")

    @property
    def runtime(self) -> Runtime:
        """The running app's store, worker and dispatcher (for white-box checks in tests)."""
        if self._app is None:
            raise RuntimeError("server is not running")
        runtime: Runtime = self._app.state.runtime
        return runtime

    @property
    def open_connections(self) -> int:
        """HTTP connections the server currently holds open (0 when stopped)."""
        server = self._server
        return 0 if server is None else len(server.server_state.connections)

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start serving (on the previous port when restarting, if it is still free)."""
        if self.running:
            raise RuntimeError("server is already running")
        try:
            sock = bind_socket("127.0.0.1", self._port)
        except OSError:
            sock = bind_socket("127.0.0.1", 0)
        app = create_app(self.config)
        server = uvicorn_server(app, options=self.options)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="reference-server", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)
        if not server.started:
            server.should_exit = True
            thread.join(_STOP_TIMEOUT)
            sock.close()
            raise RuntimeError("reference server did not start")
        self._server, self._thread, self._socket, self._app = server, thread, sock, app
        self._port = sock.getsockname()[1]
        self.base_url = base_url(sock)

    def stop(self) -> None:
        """Stop gracefully: in-flight jobs stay pending in the database. Idempotent."""
        server, thread, sock = self._server, self._thread, self._socket
        self._server = self._thread = self._socket = None
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(_STOP_TIMEOUT)
            if thread.is_alive():
                server.force_exit = True
                thread.join(_STOP_TIMEOUT)
        if sock is not None:
            sock.close()

    def restart(self) -> None:
        """Stop, then start again on the same database (and port, when free)."""
        self.stop()
        self.start()


@contextlib.contextmanager
def running_server(
    *,
    tokens: Sequence[str] = ("test-token",),
    export_delay: float = 0.05,
    clock: Clock | None = None,
    rate_limit: RateLimit | str | None = None,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    webhook_retry_scale: float = 0.001,
    db_path: Path | None = None,
    in_memory: bool = False,
    signing_secret: bytes | None = None,
    webhook_timeout: float = 15.0,
    public_url: str | None = None,
    serving: ServingOptions | None = None,
) -> Iterator[ServerHandle]:
    """Run the reference server on 127.0.0.1 (free port) for the ``with`` block; stop it afterwards.

    ``rate_limit`` is ``None`` (off), a ``RateLimit`` or ``"N/WINDOW_SECONDS"``; ``serving`` sets the
    connection limits and proxy trust (``ServingOptions``). Without ``db_path`` (and
    without ``in_memory``) the database lives in a temporary directory removed on exit.
    """
    rule = RateLimit.parse(rate_limit) if isinstance(rate_limit, str) else rate_limit
    with tempfile.TemporaryDirectory(prefix="reference-server-") as tmp:
        database = db_path if db_path is not None or in_memory else Path(tmp) / "exports.sqlite3"
        config = ServerConfig(
            tokens=tuple(tokens),
            export_delay=export_delay,
            db_path=database,
            in_memory=in_memory,
            rate_limit=rule,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            webhook_retry_scale=webhook_retry_scale,
            webhook_timeout=webhook_timeout,
            public_url=public_url,
            clock=clock if clock is not None else SystemClock(),
        )
        if signing_secret is not None:
            config = dataclasses.replace(config, signing_secret=signing_secret)
        handle = ServerHandle(config, serving)
        handle.start()
        try:
            yield handle
        finally:
            handle.stop()
