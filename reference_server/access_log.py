"""ASGI middleware: a structured access log without secrets, and a ``Date`` header from the app's clock.

Why own middleware: uvicorn's access log prints the full query string, which would leak the ``signature``
of pre-signed links, so it is switched off and this log replaces it. Request headers (``Authorization``)
are never logged at all. The ``Date`` header comes from the injectable clock so that ``expiresAt`` and
``Date`` agree even when tests move time.
"""

from __future__ import annotations

import json
import logging
import time
from email.utils import format_datetime

from questionnaire_exports_client.redact import redact_query
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .clock import Clock
from .problems import problem

logger = logging.getLogger("reference_server.access")
error_logger = logging.getLogger("reference_server.errors")


class AccessLogMiddleware:
    """Logs one JSON line per HTTP request and stamps ``Date`` (from ``clock``) on every response.

    The request's clock reading is put in ``scope["state"]["now"]`` so handlers compute link expiry from
    the same instant the ``Date`` header shows.
    """

    def __init__(self, app: ASGIApp, clock: Clock) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        now = self.clock.now().replace(microsecond=0)
        scope.setdefault("state", {})["now"] = now
        date_value = format_datetime(now, usegmt=True).encode("latin-1")
        started = time.perf_counter()
        status = 0

        async def send_with_date(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                headers.append((b"date", date_value))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_date)
        except Exception as exc:
            # Starlette's last-resort handler sits outside this middleware and would answer without
            # ``Date`` while this log said ``status 0``; answer the problem here and log the real status.
            error_logger.error(
                "unhandled %s on %s %s", type(exc).__name__, scope.get("method"), scope.get("path")
            )
            if status:  # the response had started: nothing valid can follow, let the server drop it
                raise
            await problem(500, "The server hit an unexpected error.")(scope, receive, send_with_date)
        finally:
            query = redact_query(scope.get("query_string", b"").decode("latin-1"))
            client = scope.get("client")
            logger.info(
                json.dumps(
                    {
                        "method": scope.get("method"),
                        "path": scope.get("path"),
                        "query": query,
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "client": client[0] if client else None,
                    },
                    ensure_ascii=True,
                )
            )
