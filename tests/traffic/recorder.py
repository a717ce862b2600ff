"""A small recorder for tests: an httpx transport that hands every exchange to `run --har-out`'s capture.

Why a transport: the helpers' real flows (`create_export`, `wait_for_export`, `download_export`) take
an httpx client, so wrapping its transport records exactly what went over the wire, downloads included,
and the same `RunCapture` that `run --har-out` uses turns it into `Recorded` entries.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx

from conformance.bounded_http import Fetched
from conformance.traffic.capture import RunCapture
from conformance.traffic.recorded import Recorded


class RecordingTransport(httpx.BaseTransport):
    """Forwards to a real transport and records each answered exchange."""

    def __init__(self, inner: httpx.BaseTransport | None = None) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.capture = RunCapture(max_body_bytes=16 * 1024 * 1024)

    @property
    def entries(self) -> list[Recorded]:
        return self.capture.entries()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started, clock = datetime.now(UTC), time.monotonic()
        request.read()
        response = self.inner.handle_request(request)
        try:
            raw = b"".join(response.iter_raw())  # the test servers never compress: raw is the body
        finally:
            response.close()
        answer = httpx.Response(response.status_code, headers=response.headers, content=raw, request=request)
        self.capture.add(
            request, Fetched(answer, size=len(raw), cut=None), started, (time.monotonic() - clock) * 1000
        )
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self.inner.close()
