"""Bounded HTTP: a total time limit per request, a cap on the bytes kept, never a redirect followed.

Why a network backend: httpx' timeouts bound each read, so an answer trickled one byte a second never
times out. Every socket operation here waits at most until the request's own deadline (connect, headers
and body together), so a request ends within its limit whatever the peer does. Bodies are streamed:
at most `max_bytes` are kept, and a download is only hashed and counted.
"""

from __future__ import annotations

import hashlib
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx
from questionnaire_exports_client._transport import kind_of


class _Deadline(threading.local):
    at: float | None = None


_DEADLINE = _Deadline()


def _clip(timeout: float | None, exc: type[Exception]) -> float | None:
    """The per-operation timeout, shortened to what is left of the request's total limit."""
    at = _DEADLINE.at
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise exc("total time limit of the request reached")
    return left if timeout is None else min(timeout, left)


class _BoundedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clip(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clip(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, _clip(timeout, httpcore.ConnectTimeout))
        return _BoundedStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _BoundedBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, _clip(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _BoundedStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(
            path, _clip(timeout, httpcore.ConnectTimeout), socket_options
        )
        return _BoundedStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def bounded_client(timeout: float, base_url: str = "") -> httpx.Client:
    """An httpx client that never follows redirects and whose every socket wait honours `fetch`'s limit."""
    client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(timeout), follow_redirects=False)
    transports = [client._transport, *client._mounts.values()]  # proxies from the environment too
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        if pool is not None and hasattr(pool, "_network_backend"):
            pool._network_backend = _BoundedBackend()
    return client


@dataclass(frozen=True)
class Fetched:
    """An answer read within the limits: `content` holds at most the cap; `cut` says why it is incomplete."""

    response: httpx.Response
    size: int
    cut: str | None
    sha256: str | None = None


#: Errors raised before a request line could leave this process (a header httpx or h11 refuses to send).
NOT_SENT_ERRORS: tuple[type[Exception], ...] = (httpx.LocalProtocolError, httpx.UnsupportedProtocol)


def fetch(
    client: httpx.Client,
    request: httpx.Request,
    *,
    total: float,
    max_bytes: int,
    keep: bool = True,
) -> Fetched:
    """One request within `total` seconds; raises httpx errors only when no status line arrived in time.

    With `keep`, at most `max_bytes` of the body are kept (beyond that the answer is cut); without it the
    body is only hashed and counted, up to `max_bytes`. Build `request` with `client.build_request`.
    """
    _DEADLINE.at = time.monotonic() + total
    try:
        response = client.send(request, stream=True, follow_redirects=False)
        chunks: list[bytes] = []
        size = 0
        cut: str | None = None
        digest = hashlib.sha256()
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    cut = f"body larger than {max_bytes} bytes; not read further"
                    break
                if keep:
                    chunks.append(chunk)
                else:
                    digest.update(chunk)
        except httpx.TimeoutException:
            cut = f"answer not complete within {total:g} s (total time limit)"
        except (httpx.HTTPError, OSError) as exc:
            cut = f"body broken off ({type(exc).__name__})"
        finally:
            response.close()
    finally:
        _DEADLINE.at = None
    headers_out = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"]
    body = b"".join(chunks)
    rebuilt = httpx.Response(response.status_code, headers=headers_out, content=body, request=request)
    rebuilt.extensions["reason_phrase"] = response.extensions.get("reason_phrase", b"")
    return Fetched(response=rebuilt, size=size, cut=cut, sha256=None if keep or cut else digest.hexdigest())


def failure_kind(exc: BaseException, host: str) -> str:
    """Why no answer came, in words: DNS resolution, connection refused, TLS verification, timeout.

    The kind is the client's own classification (``questionnaire_exports_client._transport.kind_of``),
    so the suite and the client never disagree on why a request failed; only the words are the suite's.
    """
    if not isinstance(exc, httpx.HTTPError):
        return f"{type(exc).__name__} talking to {host}"
    kind = kind_of(exc)
    if kind in ("timeout", "connect-timeout"):
        return f"timeout: no answer from {host} in time"
    if kind == "dns":
        return f"DNS resolution failed for {host}"
    if kind == "refused":
        return f"connection refused by {host}"
    if kind == "tls":
        return f"TLS verification failed for {host}" if _verification(exc) else f"TLS error with {host}"
    return f"{type(exc).__name__} talking to {host}"


def _verification(exc: BaseException) -> bool:
    """Whether a TLS failure was the certificate's verification (not, say, a plain-HTTP peer)."""
    seen: BaseException | None = exc
    for _ in range(16):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
