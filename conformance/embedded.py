"""The embedded default target: the reference server on a free loopback port.

Why: `make conformance` must work with nothing running; it starts the reference server, runs the suite
against it with a throw-away token, and stops it.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Embedded:
    base_url: str
    token: str
    questionnaire_id: str
    document_questionnaire_id: str | None
    failing_questionnaire_id: str | None


class EmbeddedUnavailable(Exception):
    pass


@contextlib.contextmanager
def embedded_server() -> Iterator[Embedded]:
    """Start `reference_server.testing.running_server` and yield what the suite needs to test it."""
    try:
        from reference_server import seed, testing
    except ImportError as exc:
        raise EmbeddedUnavailable(f"the embedded reference server is not available ({exc})") from exc
    token = "embedded-" + secrets.token_urlsafe(16)
    with (
        _quiet("uvicorn.error"),
        testing.running_server(tokens=(token,), export_delay=0.05, in_memory=True) as handle,
    ):
        yield Embedded(
            base_url=str(handle.base_url),
            token=token,
            questionnaire_id=str(seed.SPREADSHEET_QUESTIONNAIRE_ID),
            document_questionnaire_id=str(getattr(seed, "DOCUMENT_QUESTIONNAIRE_ID", "")) or None,
            failing_questionnaire_id=str(getattr(seed, "FAILING_QUESTIONNAIRE_ID", "")) or None,
        )


@contextlib.contextmanager
def serving(app: Any, host: str, port: int, name: str = "conformance-webhooks") -> Iterator[int]:
    """Serve an ASGI ``app`` of the suite's own (the webhook listener, the proxy) on ``host:port`` (``0``: a
    free port) in a thread named ``name``; yields the bound port. The one thread-serving helper is the reference server's
    (``reference_server.serving.serve_in_thread``: port read from the real socket, startup awaited, bounded
    stop, the guarded protocol against slow or oversized request heads); this module is the suite's one
    gateway to that package. Raises ``OSError`` when the address cannot be served."""
    from reference_server.serving import serve_in_thread

    try:
        served = serve_in_thread(app, host=host, port=port, name=name)
    except RuntimeError as exc:
        raise OSError(f"cannot listen on {host}:{port} ({exc})") from exc
    with _quiet("uvicorn.error"), served:
        yield served.port


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Keep the embedded server's own warnings (uvicorn's "Invalid HTTP request received." while fuzzing)
    out of the suite's output, which reports on the target, not on the process hosting it."""
    logger = logging.getLogger(name)
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)
