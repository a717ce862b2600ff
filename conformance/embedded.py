"""The embedded default target: the reference server on a free loopback port.

Why: `make conformance` must work with nothing running; it starts the reference server, runs the suite
against it with a throw-away token, and stops it. With client credentials the server knows that one client
and gives tokens that live seconds, so the suite mints, refreshes and waits a token out within the run.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: Seconds the embedded server's tokens last with client credentials: short, so the expired-token check
#: waits at most this plus `--clock-skew` at the end of the run (a run refreshes a few times meanwhile).
EMBEDDED_TOKEN_LIFETIME = 2.0
#: Token requests an embedded run may send (the vendor's 5 a minute do not apply to this server).
EMBEDDED_TOKEN_REQUESTS = 30


@dataclass(frozen=True)
class Embedded:
    base_url: str
    token: str
    questionnaire_id: str
    document_questionnaire_id: str | None
    failing_questionnaire_id: str | None
    max_token_requests: int = 4


class EmbeddedUnavailable(Exception):
    pass


@contextlib.contextmanager
def embedded_server(oauth_client: tuple[str, str] | None = None) -> Iterator[Embedded]:
    """Start `reference_server.testing.running_server` and yield what the suite needs to test it.

    With `oauth_client` (id, secret) the server knows only that client and no static token."""
    try:
        from reference_server import seed, testing
        from reference_server.config import RateLimit
    except ImportError as exc:
        raise EmbeddedUnavailable(f"the embedded reference server is not available ({exc})") from exc
    token = "" if oauth_client else "embedded-" + secrets.token_urlsafe(16)
    auth: dict[str, Any] = {"tokens": (token,)}
    if oauth_client is not None:
        auth = {
            "tokens": (),
            "oauth_clients": (oauth_client,),
            "token_lifetime": EMBEDDED_TOKEN_LIFETIME,
            "token_rate_limit": RateLimit(EMBEDDED_TOKEN_REQUESTS, 60.0),
        }
    with (
        _quiet("uvicorn.error"),
        testing.running_server(export_delay=0.05, in_memory=True, **auth) as handle,
    ):
        yield Embedded(
            base_url=str(handle.base_url),
            token=token,
            max_token_requests=EMBEDDED_TOKEN_REQUESTS,
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
