"""``running_server()``: the real app under uvicorn in a background thread, for tests and benchmarks.

Why a thread and not a subprocess: it starts in well under a second, shares the test's ``ManualClock``,
and many servers can come and go in one pytest process. Each server gets its own temporary database
unless ``db_path`` is given, and ``restart()`` reopens the same database the way a process restart would.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from starlette.applications import Starlette

import contract

from .app import Runtime, create_app
from .clock import Clock, SystemClock
from .config import RateLimit, ServerConfig
from .serving import ServingOptions, ThreadedServer, serve_in_thread

__all__ = ["ServerHandle", "running_server"]


class ServerHandle:
    """A server running in this process: ``base_url`` (ends in ``/v1``), ``tokens``, ``clock``, ``config``."""

    def __init__(self, config: ServerConfig, options: ServingOptions | None = None) -> None:
        self.config = config
        self.options = options
        self._port = 0
        self._served: ThreadedServer | None = None
        self._app: Starlette | None = None
        self.base_url = ""

    @property
    def tokens(self) -> tuple[str, ...]:
        """The accepted bearer tokens (first one is the default tenant)."""
        return self.config.tokens

    @property
    def token_url(self) -> str:
        """``http://127.0.0.1:PORT/oauth/token``: the token endpoint (answers only with ``oauth_clients``)."""
        return self.origin + contract.token_path()

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
        served = self._served
        return 0 if served is None else len(served.server.server_state.connections)

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._served is not None and self._served.running

    def start(self) -> None:
        """Start serving (on the previous port when restarting, if it is still free)."""
        if self.running:
            raise RuntimeError("server is already running")
        app = create_app(self.config)
        try:
            served = serve_in_thread(app, port=self._port, options=self.options, name="reference-server")
        except OSError:
            served = serve_in_thread(app, port=0, options=self.options, name="reference-server")
        except RuntimeError:
            raise RuntimeError("reference server did not start") from None
        self._served, self._app = served, app
        self._port = served.port
        self.base_url = served.base_url

    def stop(self) -> None:
        """Stop gracefully: in-flight jobs stay pending in the database. Idempotent."""
        served, self._served = self._served, None
        if served is not None:
            served.stop()

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
    monotonic: Callable[[], float] | None = None,
    oauth_clients: Sequence[tuple[str, str]] = (),
    token_lifetime: float = 3600.0,
    token_rate_limit: RateLimit | str = "5/60",
) -> Iterator[ServerHandle]:
    """Run the reference server on 127.0.0.1 (free port) for the ``with`` block; stop it afterwards.

    ``rate_limit`` is ``None`` (off), a ``RateLimit`` or ``"N/WINDOW_SECONDS"``; ``serving`` sets the
    connection limits and proxy trust (``ServingOptions``); ``monotonic`` replaces the rate limiters' clock.
    ``oauth_clients`` (``(id, secret)`` pairs) turns on ``POST /oauth/token`` (``handle.token_url``), its tokens
    lasting ``token_lifetime`` seconds on ``clock``, ``token_rate_limit`` per client; pass ``tokens=()`` for
    OAuth only. Without ``db_path`` (and without ``in_memory``) the database lives in a temporary directory
    removed on exit.
    """
    rule = RateLimit.parse(rate_limit) if isinstance(rate_limit, str) else rate_limit
    token_rule = RateLimit.parse(token_rate_limit) if isinstance(token_rate_limit, str) else token_rate_limit
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
            oauth_clients=tuple((client_id, secret) for client_id, secret in oauth_clients),
            token_lifetime=token_lifetime,
            token_rate_limit=token_rule,
        )
        if signing_secret is not None:
            config = dataclasses.replace(config, signing_secret=signing_secret)
        if monotonic is not None:
            config = dataclasses.replace(config, monotonic=monotonic)
        handle = ServerHandle(config, serving)
        handle.start()
        try:
            yield handle
        finally:
            handle.stop()
