"""The validating proxy's forwarding: an ASGI app that passes every request and every answer through unchanged.

Why raw ASGI and httpx raw streaming: a framework would parse, normalise or buffer what must pass byte for
byte. uvicorn hands over the raw request target and the header list (duplicates kept), httpcore's
``target`` extension sends that target unchanged, and ``aiter_raw`` yields the answer as it came off the
wire, never decompressed. Each answer is streamed chunk by chunk (uvicorn applies the client's
back-pressure); at most ``max_body_bytes`` of an API answer is kept for the judge, a download is only hashed
and counted. Only hop-by-hop headers (RFC 9110 §7.6.1) are dropped and ``Host`` names the upstream; no
``X-Forwarded-*`` is added (it could change the upstream's answers). The proxy answers by itself only when
the upstream gave no answer (502, 504) or the client's body is too large (413) or too slow (408).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

import contract

from .bounded_http import failure_kind
from .traffic.recorded import Recorded

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_BYTES = 1024 * 1024
#: RFC 9110 §7.6.1: meant for one connection, never forwarded (besides those `Connection` names, `Proxy-*`).
HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"transfer-encoding", b"upgrade"}
)
_PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Upstream:
    """Where the proxy forwards to: ``origin`` (scheme, host, port) and the API's path ``prefix`` (``/v1``)."""

    origin: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> Upstream:
        """``--upstream``: an absolute http(s) URL without user info, query or fragment; ValueError otherwise."""
        try:
            parts = urlsplit(url)
            _ = parts.port  # raises for a port that is no number
        except ValueError as exc:
            raise ValueError(f"--upstream is not a URL: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            shown = f"scheme {parts.scheme or '(none)'}, host {parts.hostname or '(none)'}"  # never user info
            raise ValueError(f"--upstream must be an http(s) URL with a host, got {shown}")
        if parts.username is not None or parts.query or parts.fragment or any(c.isspace() for c in url):
            raise ValueError("--upstream must have no user info, query, fragment or spaces")
        return cls(origin=f"{parts.scheme}://{parts.netloc}", prefix=parts.path.rstrip("/"))

    @property
    def base_url(self) -> str:
        """The API base the judge is told about (``origin`` + ``prefix``)."""
        return self.origin + self.prefix

    def is_api(self, path: bytes) -> bool:
        """Whether a request path lies under the API's prefix (everything else, downloads, is only counted)."""
        prefix = self.prefix.encode("ascii", "replace")
        return path == prefix or path.startswith(prefix + b"/") or (not prefix and path.startswith(b"/"))


@dataclass(frozen=True)
class ProxyConfig:
    upstream: Upstream
    #: Seconds: an API exchange in total; for a download its head, then each wait between chunks.
    request_timeout: float = DEFAULT_TIMEOUT
    max_request_bytes: int = DEFAULT_MAX_BYTES  # larger client bodies answer 413
    max_body_bytes: int = DEFAULT_MAX_BYTES  # API answer bytes kept for the judge (all are forwarded)


class ExchangeSink(Protocol):
    """Where finished exchanges and the proxy's own answers go (``proxy_log.ExchangeLog``)."""

    def learn(self, headers: Iterable[tuple[bytes, bytes]]) -> None:
        """Note the credentials in ``headers`` before anything about the exchange is printed or kept."""

    async def record(self, recorded: Recorded, api: bool) -> None:
        """One finished exchange (``index`` is assigned by the sink)."""

    def answered(self, status: int, detail: str, method: str, url: str) -> None:
        """The proxy answered ``status`` itself (no answer from upstream, or a refused request body)."""

    def broken(self, detail: str, method: str, url: str) -> None:
        """The upstream's answer broke off after its head was forwarded; the client's connection is closed."""


class UpstreamBrokeOff(Exception):
    """Raised out of the ASGI app to make uvicorn close the client's connection mid-answer (nothing else
    can tell the client the body is incomplete); ``quiet_aborts`` keeps it out of uvicorn's error log."""


def end_to_end(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` without the hop-by-hop ones: RFC 9110's list, ``Proxy-*`` and those ``Connection`` names."""
    items = list(headers)
    named = {
        token.strip().lower()
        for name, value in items
        if name.lower() == b"connection"
        for token in value.split(b",")
    }
    return [
        (name, value)
        for name, value in items
        if (lowered := name.lower()) not in HOP_BY_HOP
        and lowered not in named
        and not lowered.startswith(b"proxy-")
    ]


def problem(status: int, detail: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """An RFC 9457 problem answer (headers, body) for the proxy's own answers; the connection is closed."""
    body = json.dumps(
        {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    ).encode()
    headers = [
        (b"content-type", _PROBLEM.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    return headers, body


def decoded(raw: bytes, encoding: str, limit: int) -> tuple[bytes, str | None]:
    """The judge's view of a compressed API answer: at most ``limit`` decoded bytes (a small body can inflate
    a thousandfold), and why it is incomplete. The client always gets the raw bytes."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw, None
    if encoding not in ("gzip", "x-gzip", "deflate"):
        return b"", f"Content-Encoding {encoding!r} not decoded for validation"
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, detected
    try:
        body = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        return b"", f"Content-Encoding {encoding} body does not decode ({exc})"
    if len(body) > limit:
        return body[:limit], f"decoded body larger than {limit} bytes; not decoded further"
    return body, None


class _NoCookies(DefaultCookiePolicy):
    """The proxy forwards ``Set-Cookie``; it must not collect cookies itself (memory, and they are not its)."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False


@contextlib.contextmanager
def quiet_aborts() -> Iterator[None]:
    """Keep ``UpstreamBrokeOff`` (a deliberate close, already noted) out of uvicorn's error log."""

    def keep(record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], UpstreamBrokeOff))

    logger = logging.getLogger("uvicorn.error")
    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


class Proxy:
    """The ASGI app: forwards each request to ``config.upstream`` and hands each exchange to ``sink``."""

    def __init__(self, config: ProxyConfig, sink: ExchangeSink) -> None:
        self.config = config
        self.sink = sink
        self._host = urlsplit(config.upstream.origin).netloc
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(config.request_timeout),
            follow_redirects=False,
            cookies=CookieJar(policy=_NoCookies()),  # not httpx.Cookies(...): that copies into a default jar
        )

    async def aclose(self) -> None:
        """Close the upstream connections (at lifespan shutdown, in the serving loop)."""
        await self._client.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._exchange(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        for _ in range(2):  # startup, then shutdown
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _exchange(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("ascii")
        query: bytes = scope.get("query_string", b"")
        target = raw_path + (b"?" + query if query else b"")
        url = self.config.upstream.origin + target.decode("ascii", "replace")
        # Token requests live outside the API's prefix but are judged too (against oauth-token.yaml).
        api = self.config.upstream.is_api(raw_path) or raw_path == contract.token_path().encode("ascii")
        headers = [(n, v) for n, v in end_to_end(scope["headers"]) if n.lower() != b"host"]
        self.sink.learn(headers)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.request_timeout
        body, refusal = await self._request_body(receive, headers, deadline)
        if refusal is not None:
            await self._answer(send, *refusal, method, url)
            return
        started, clock = datetime.now(UTC), time.monotonic()
        try:
            request = httpx.Request(method, url, headers=headers, content=body, extensions={"target": target})
            async with asyncio.timeout_at(deadline):
                response = await self._client.send(request, stream=True)
        except TimeoutError:
            detail = f"timeout: no answer from {self._host} within {self.config.request_timeout:g} s"
            await self._answer(send, 504, detail, method, url)
            return
        except Exception as exc:  # whatever stopped the request (httpx's errors named by kind): no answer
            status = 504 if isinstance(exc, httpx.TimeoutException) else 502
            await self._answer(send, status, failure_kind(exc, self._host), method, url)
            return
        try:
            kept, cut, broken = await self._relay(response, receive, send, deadline if api else None, api)
        finally:
            await response.aclose()
        if broken:
            self.sink.broken(cut or "", method, url)
        request_headers = tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in request.headers.raw)
        if api:
            encoding = response.headers.get("content-encoding", "")
            kept, decode_cut = decoded(kept, encoding, self.config.max_body_bytes)
            cut = cut or decode_cut
        recorded = Recorded(
            index=-1,
            started=started,
            method=method,
            url=url,
            request_headers=request_headers,
            request_body=body if body else None,
            status=response.status_code,
            response_headers=tuple(
                (n.decode("latin-1"), v.decode("latin-1")) for n, v in response.headers.raw
            ),
            response_body=kept,
            cut=cut,
            time_ms=(time.monotonic() - clock) * 1000,
        )
        await self.sink.record(recorded, api)
        if broken:
            raise UpstreamBrokeOff(cut)

    async def _request_body(
        self, receive: Receive, headers: list[tuple[bytes, bytes]], deadline: float
    ) -> tuple[bytes, tuple[int, str] | None]:
        """The client's body, read whole (it is capped) before anything is sent upstream; or a refusal."""
        limit = self.config.max_request_bytes
        declared = next((v for n, v in headers if n.lower() == b"content-length"), b"").strip()
        too_large = (413, f"The request body is larger than {limit} bytes (the proxy's --max-request-bytes).")
        if declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
            return b"", too_large
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout_at(deadline):
                for _ in range(limit + 2):  # each message carries >= 1 byte, or ends the body
                    message = await receive()
                    if message["type"] == "http.disconnect":  # what came is no request: never forwarded
                        return b"", (400, "The client closed the connection before its request body ended.")
                    chunk: bytes = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        return b"", too_large
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            timeout = self.config.request_timeout
            return b"", (408, f"The request body did not arrive within {timeout:g} seconds.")
        return b"".join(chunks), None

    async def _relay(
        self, response: httpx.Response, receive: Receive, send: Send, deadline: float | None, api: bool
    ) -> tuple[bytes, str | None, bool]:
        """Stream the answer to the client unchanged: (bytes kept for the judge, why the record is incomplete,
        whether the upstream broke off, so that the client's connection must be closed).

        An API answer must end by ``deadline``; a download only needs each chunk within the read timeout.
        A download is hashed and counted, never kept. The client leaving stops the relay.
        """
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": end_to_end(response.headers.raw),
            }
        )
        gone = asyncio.Event()
        watcher = asyncio.create_task(self._watch_disconnect(receive, gone))
        limit = self.config.max_body_bytes
        kept = bytearray()
        digest = hashlib.sha256()
        size = 0
        cut: str | None = None
        broken = True
        try:
            async with asyncio.timeout_at(deadline):
                async for chunk in response.aiter_raw():
                    size += len(chunk)
                    if not api:
                        digest.update(chunk)
                    elif len(kept) < limit:
                        kept += chunk[: limit - len(kept)]
                    if gone.is_set():
                        cut = "the client went away before the answer ended"
                        break
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                else:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
            broken = False
        except TimeoutError:
            cut = f"{_BROKE_OFF}: not complete within {self.config.request_timeout:g} s (--request-timeout)"
        except httpx.HTTPError as exc:
            cut = f"{_BROKE_OFF}: {failure_kind(exc, self._host)}"
        finally:
            watcher.cancel()
        if cut is None and api and size > limit:
            cut = f"body larger than {limit} bytes; forwarded whole, kept only the first {limit}"
        if not api:
            unrecorded = f"download not recorded: {size} bytes, sha256 {digest.hexdigest()}"
            cut = unrecorded if cut is None else f"{cut}; {unrecorded}"
        return bytes(kept), cut, broken

    @staticmethod
    async def _watch_disconnect(receive: Receive, gone: asyncio.Event) -> None:
        """Set ``gone`` when the client disconnects (uvicorn's ``send`` would silently drop the data)."""
        for _ in range(1000):  # after the body only `http.disconnect` comes; stray messages are bounded
            message = await receive()
            if message["type"] == "http.disconnect":
                gone.set()
                return

    async def _answer(self, send: Send, status: int, detail: str, method: str, url: str) -> None:
        """The proxy's own answer (a problem), noted in the report."""
        self.sink.answered(status, detail, method, url)
        headers, body = problem(status, detail)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


_BROKE_OFF = "the upstream's answer broke off"
