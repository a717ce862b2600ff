"""Test peers for the proxy: a raw-socket upstream that logs every request byte for byte, and a fake judge.

Why raw sockets: transparency is about bytes (the request target, duplicate headers, a gzip body, hop-by-hop
headers, chunk boundaries), which a framework would normalise on one side or the other.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from questionnaire_exports_client.redact import Redactor

from conformance import embedded
from conformance.proxy import Proxy, ProxyConfig, Upstream, quiet_aborts
from conformance.proxy_log import ExchangeLog, Judge
from conformance.traffic.judge import TrafficConfig, TrafficJudge
from conformance.traffic.recorded import Recorded

#: How long a test peer waits for anything (a bound, never a pace).
PATIENCE = 10.0


@dataclass(frozen=True)
class Seen:
    """One request as the upstream received it: the head (request line and headers) and the body, raw."""

    head: bytes
    body: bytes

    @property
    def target(self) -> bytes:
        return self.head.split(b"\r\n", 1)[0].split(b" ")[1]

    def headers(self) -> list[tuple[bytes, bytes]]:
        lines = self.head.split(b"\r\n")[1:]
        return [
            (n.strip().lower(), v.strip()) for n, _, v in (line.partition(b":") for line in lines if line)
        ]


Respond = Callable[[Seen, socket.socket], None]


def answer(status_line: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    """A complete raw answer that closes the connection, ``headers`` exactly as given."""
    lines = [status_line, *(name + b": " + value for name, value in headers), b"Connection: close"]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def fixed(raw: bytes) -> Respond:
    def respond(_seen: Seen, conn: socket.socket) -> None:
        conn.sendall(raw)

    return respond


@dataclass
class RawUpstream:
    respond: Respond
    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    errors: list[BaseException] = field(default_factory=list)  # what `respond` met (a closed connection...)

    def url(self, prefix: str = "/v1") -> str:
        return f"http://127.0.0.1:{self.port}{prefix}"


def _read_request(conn: socket.socket) -> Seen | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk or len(data) > 1 << 20:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lengths = [v for n, v in Seen(head, b"").headers() if n == b"content-length"]
    length = int(lengths[0]) if lengths else 0
    while len(body) < length:
        chunk = conn.recv(min(65536, length - len(body)))
        if not chunk:
            break
        body += chunk
    return Seen(head, body)


@contextlib.contextmanager
def raw_upstream(respond: Respond, read_first: bool = True) -> Iterator[RawUpstream]:
    """Serve ``respond`` on 127.0.0.1 (free port), one request per connection, until the block ends;
    without ``read_first`` it answers as soon as a connection opens (a TLS handshake has no HTTP head)."""
    state = RawUpstream(respond)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.1)
    state.port = listener.getsockname()[1]

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(PATIENCE)
            try:
                seen = _read_request(conn) if read_first else Seen(b"", b"")
                if seen is not None:
                    state.seen.append(seen)
                    state.respond(seen, conn)
            except OSError as exc:
                state.errors.append(exc)

    def accept() -> None:
        while not state.stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        thread.join(PATIENCE)
        listener.close()


class FakeJudge:
    """Collects what the proxy hands to the judge (the glue is tested without the real rules)."""

    def __init__(self) -> None:
        self.observed: list[Recorded] = []

    def observe(self, recorded: Recorded) -> None:
        self.observed.append(recorded)


J = TypeVar("J", bound=Judge)


@dataclass
class Proxied(Generic[J]):
    url: str  # http://127.0.0.1:PORT + the upstream's prefix
    log: ExchangeLog
    judge: J
    redactor: Redactor
    lines: list[str]
    app: Proxy


@contextlib.contextmanager
def _serving(
    upstream: str, judge: J, redactor: Redactor, lines: list[str], **options: Any
) -> Iterator[Proxied[J]]:
    target = Upstream.parse(upstream)
    limits = {k: options.pop(k) for k in ("max_exchanges", "max_kept_bytes") if k in options}
    log = ExchangeLog(judge, redactor, lines.append, keep=options.pop("keep", True), **limits)
    proxy = Proxy(ProxyConfig(target, **options), log)
    with quiet_aborts(), embedded.serving(proxy, "127.0.0.1", 0, name="proxy") as port:
        yield Proxied(f"http://127.0.0.1:{port}{target.prefix}", log, judge, redactor, lines, proxy)
    log.close()


@contextlib.contextmanager
def proxying(upstream: str, **options: Any) -> Iterator[Proxied[FakeJudge]]:
    """The proxy app in a thread (the CLI's serving path) before ``upstream``, a fake judge behind it;
    the log is closed (everything handed over) when the block ends."""
    with _serving(upstream, FakeJudge(), Redactor(), [], **options) as proxied:
        yield proxied


@contextlib.contextmanager
def judging(upstream: str, **options: Any) -> Iterator[Proxied[TrafficJudge]]:
    """``proxying`` with the real judge, told the upstream's API base as the command tells it."""
    redactor, lines = Redactor(), list[str]()
    judge = TrafficJudge(TrafficConfig(base_url=Upstream.parse(upstream).base_url), redactor, lines.append)
    with _serving(upstream, judge, redactor, lines, **options) as proxied:
        yield proxied


class LateBound:
    """An ASGI app serving first and told its ``Proxy`` later: the reference server must know the proxy's
    URL (its links point there) before the proxy can know the reference server's."""

    def __init__(self) -> None:
        self.app: Proxy | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            for _ in range(2):
                message = await receive()
                if message["type"] == "lifespan.shutdown":
                    if self.app is not None:
                        await self.app.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
                await send({"type": "lifespan.startup.complete"})
        elif self.app is not None:
            await self.app(scope, receive, send)
