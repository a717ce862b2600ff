"""A small recorder for tests: an httpx transport that keeps every exchange as a `Recorded`.

Why a transport: the helpers' real flows (`create_export`, `wait_for_export`, `download_export`) take
an httpx client, so wrapping its transport records exactly what went over the wire, downloads included.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import httpx

from conformance.traffic.recorded import Recorded


class RecordingTransport(httpx.BaseTransport):
    """Forwards to a real transport and appends each answered exchange to `entries`."""

    def __init__(self, inner: httpx.BaseTransport | None = None) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.entries: list[Recorded] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started, clock = datetime.now(UTC), time.monotonic()
        content = request.read()
        response = self.inner.handle_request(request)
        try:
            raw = b"".join(response.iter_raw())  # the test servers never compress: raw is the body
        finally:
            response.close()
        with self._lock:
            self.entries.append(
                Recorded(
                    index=len(self.entries),
                    started=started,
                    method=request.method,
                    url=str(request.url),
                    request_headers=tuple(request.headers.multi_items()),
                    request_body=content if content or request.method == "POST" else None,
                    status=response.status_code,
                    response_headers=tuple(response.headers.multi_items()),
                    response_body=raw,
                    time_ms=(time.monotonic() - clock) * 1000,
                )
            )
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self.inner.close()
