"""Reading a request body under the server's bounds: a JSON ``Content-Type``, a byte limit and a deadline.

Why its own module: the export API and the token endpoint read bodies the same way (and then parse them
with ``validation.decode_json``); each maps a refusal onto the statuses its own document allows.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request

_JSON_MEDIA_TYPES = ("application/json",)


class BodyRefused(Exception):
    """A body refused before parsing: ``415`` (not JSON), ``413`` (over the limit), ``408`` (too slow)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The whole body, at most ``limit`` bytes within ``timeout`` seconds; raises ``BodyRefused``."""
    content_type = request.headers.get("content-type")
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in _JSON_MEDIA_TYPES and not media_type.endswith("+json"):
        got = f"got {media_type!r}" if media_type else "none was sent"
        raise BodyRefused(415, f"Content-Type must be application/json ({got}).")
    too_big = BodyRefused(413, f"The request body exceeds {limit} bytes.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and len(declared) < 20 and int(declared) > limit:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):  # a body trickled (or promised and never sent) is cut off
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_big
                chunks.append(chunk)
    except TimeoutError:
        raise BodyRefused(408, f"The request body did not arrive within {timeout:g} seconds.") from None
    return b"".join(chunks)
