"""A recorded exchange as the `Sent` every rule reads, so `Rules.observe` judges it unchanged."""

from __future__ import annotations

from datetime import timedelta

import httpx
from questionnaire_exports_client.redact import Redactor

from ..model import exchange_of
from ..transport import Sent
from .har import header, iso_time
from .recorded import Recorded

#: Framing headers that no longer describe the recorded body (a HAR holds it decoded and whole).
_FRAMING = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def _latin1(text: str) -> bytes:
    return text.encode("latin-1", errors="replace")


def to_sent(recorded: Recorded, redactor: Redactor) -> Sent:
    """The `httpx.Response` and redacted `Exchange` of one recorded entry (its index and time kept)."""
    headers = [
        (_latin1(name), _latin1(value))
        for name, value in recorded.response_headers
        if name.lower() not in _FRAMING
    ]
    response = httpx.Response(recorded.status, headers=headers, content=recorded.response_body)
    exchange = exchange_of(
        redactor,
        recorded.method,
        recorded.url,
        recorded.request_body,
        recorded.status,
        header(recorded.response_headers, "content-type"),
        recorded.response_body,
        size=len(recorded.response_body),
        entry=recorded.index,
        at=iso_time(recorded.started),
    )
    return Sent(
        response=response,
        exchange=exchange,
        received=recorded.started + timedelta(milliseconds=recorded.time_ms),
        size=len(recorded.response_body),
        cut=recorded.cut,
    )
