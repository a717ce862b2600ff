"""The ASGI application: routes, auth, rate limiting, validation and the export/download handlers.

Why Starlette: the contract is hand-written in ``openapi.yaml``; a thin toolkit lets the server follow it
instead of deriving a second, competing contract from code. Response bodies are assembled from the spec's
variant field lists (``contract``), so a field the spec forbids for a status cannot leak into a response.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import contract

from . import signing
from .access_log import AccessLogMiddleware
from .auth import TokenAuthenticator, bearer_token
from .body import BodyRefused, read_body
from .clock import to_millis
from .config import ServerConfig
from .exporter import file_extension
from .oauth import TokenEndpoint, TokenRegistry
from .problems import problem
from .ratelimit import RateLimiter
from .representation import DownloadLink, response_body
from .seed import QUESTIONNAIRES
from .statuses import COMPLETED
from .store import ExportRecord, Store
from .validation import InvalidBody, parse_create_request
from .webhooks import WebhookDispatcher
from .worker import ExportWorker

logger = logging.getLogger("reference_server.app")

API_PREFIX = "/v1"
EXPORTS_PATH = API_PREFIX + "/customer-trust/questionnaires/exports"
FILES_PREFIX = "/files"
#: How long each shutdown step may take before it is left behind.
_SHUTDOWN_STEP_S = 5.0


class Runtime:
    """The per-app moving parts: database, worker and webhook dispatcher, started once per event loop."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.store = Store(config.database)
        self.oauth = TokenRegistry(config.oauth_clients, config.token_lifetime, config.clock)
        self.auth = TokenAuthenticator(config.tokens, self.oauth)
        self.token_endpoint = TokenEndpoint(self.oauth, config)
        self.limiter = (
            RateLimiter(config.rate_limit, config.monotonic) if config.rate_limit is not None else None
        )
        self.worker: ExportWorker | None = None
        self.dispatcher: WebhookDispatcher | None = None
        self._dispatch_task: asyncio.Task[None] | None = None

    def ensure_started(self) -> ExportWorker:
        """Start worker and dispatcher on the running loop if no lifespan did (in-process use)."""
        if self.worker is None:
            config = self.config
            if config.webhook_url is not None and config.webhook_secret is not None:
                self.dispatcher = WebhookDispatcher(
                    self.store,
                    config.webhook_url,
                    config.webhook_secret,
                    retry_scale=config.webhook_retry_scale,
                    timeout=config.webhook_timeout,
                )
                self._dispatch_task = asyncio.create_task(self.dispatcher.run())
            self.worker = ExportWorker(
                self.store,
                config.clock,
                config.export_delay,
                webhooks_enabled=self.dispatcher is not None,
                on_event=self.dispatcher.notify if self.dispatcher is not None else lambda: None,
            )
            resumed = self.worker.resume()
            database = config.database
            logger.info(
                "database %s: resumed %d pending export(s)",
                database if database is not None else "in memory",
                resumed,
            )
        return self.worker

    async def shutdown(self) -> None:
        """Stop deliveries and jobs (jobs stay pending and resume on the next start), close the db.

        Bounded (``_SHUTDOWN_STEP_S``): the tasks are cancelled and waited for with ``asyncio.wait``, which
        does not wait past its timeout for a task that ignores its cancellation, so a stop always ends.
        """
        tasks: list[asyncio.Task[None]] = []
        if self._dispatch_task is not None:
            self._dispatch_task.cancel()
            tasks.append(self._dispatch_task)
        if self.worker is not None:
            tasks += self.worker.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=_SHUTDOWN_STEP_S)
            if pending:
                logger.warning(
                    "shutdown: %d task(s) did not stop within %g s", len(pending), _SHUTDOWN_STEP_S
                )
        self.store.close()


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _now(request: Request) -> datetime:
    now: datetime = request.state.now
    return now


def _unauthorized(presented: bool) -> Response:
    """``401``; RFC 6750 section 3.1: a token that was sent but is not (or no longer) valid is named so."""
    challenge = 'Bearer error="invalid_token"' if presented else "Bearer"
    return problem(401, "Missing or invalid bearer token.", headers={"WWW-Authenticate": challenge})


def _guard(request: Request) -> str | Response:
    """The caller's owner key, or the ``401``/``429`` response to send instead."""
    runtime = _runtime(request)
    authorization = request.headers.get("authorization")
    owner = runtime.auth.authenticate(authorization)
    if owner is None:
        return _unauthorized(bearer_token(authorization) is not None)
    if runtime.limiter is not None:
        retry_after = runtime.limiter.hit(owner)
        if retry_after is not None:
            return problem(
                429,
                f"Rate limit exceeded; retry after {retry_after} seconds.",
                headers={"Retry-After": str(retry_after)},
            )
    return owner


def _origin(request: Request) -> str:
    """Where download links point: ``--public-url`` when set, else ``http://`` plus the local address of the
    socket that received the request. Never the ``Host`` or ``X-Forwarded-*`` headers: a link must not
    depend on what the client claims."""
    public_url = _runtime(request).config.public_url
    if public_url is not None:
        return public_url
    server = request.scope.get("server")
    if not server:
        return "http://127.0.0.1"
    host, port = server[0], server[1]
    host = f"[{host}]" if ":" in str(host) else str(host)
    return f"http://{host}" if port is None else f"http://{host}:{port}"


def _link_extension(record: ExportRecord) -> str:
    questionnaire = QUESTIONNAIRES.get(record.questionnaire_id)
    if questionnaire is None:  # pragma: no cover - a completed export's questionnaire exists
        return "bin"
    return file_extension(questionnaire, record.format)


def export_body(record: ExportRecord, request: Request) -> dict[str, Any]:
    """The response body of ``record`` (``representation``), with a fresh signed link once completed."""
    config = _runtime(request).config
    link = None
    if record.status == COMPLETED:
        expires = int(_now(request).timestamp()) + config.link_ttl_seconds
        name = f"{record.id}.{_link_extension(record)}"
        signature = signing.sign(config.signing_secret, name, expires)
        url = f"{_origin(request)}{FILES_PREFIX}/{quote(name)}?expires={expires}&signature={signature}"
        link = DownloadLink(url, expires)
    return response_body(record, link)


async def create_export(request: Request) -> Response:
    """``POST /v1/customer-trust/questionnaires/exports``: validate, queue, answer ``202`` pending."""
    guard = _guard(request)
    if isinstance(guard, Response):
        return guard
    runtime = _runtime(request)
    try:
        document = parse_create_request(
            await read_body(request, runtime.config.max_body_bytes, runtime.config.body_timeout)
        )
    except BodyRefused as exc:
        return problem(exc.status, exc.detail)
    except InvalidBody as exc:
        return problem(400, str(exc), invalid_params=exc.params)
    questionnaire_id: str = document["questionnaireId"]
    if questionnaire_id not in QUESTIONNAIRES:
        return problem(404, "No questionnaire with this id.")
    worker = runtime.ensure_started()
    record = runtime.store.create_export(
        guard, questionnaire_id, document["format"], to_millis(runtime.config.clock.now())
    )
    worker.submit(record)
    return JSONResponse(export_body(record, request), status_code=202)


async def get_export(request: Request) -> Response:
    """``GET /v1/customer-trust/questionnaires/exports/{id}``: the caller's export, else ``404``."""
    guard = _guard(request)
    if isinstance(guard, Response):
        return guard
    runtime = _runtime(request)
    runtime.ensure_started()
    record = runtime.store.get_export(request.path_params["id"], owner=guard)
    if record is None:
        return problem(404, "No export with this id.")
    return JSONResponse(export_body(record, request))


async def download(request: Request) -> Response:
    """``GET /files/{name}?expires=…&signature=…``: the export file; no bearer token, the link is the key."""
    runtime = _runtime(request)
    name: str = request.path_params["name"]
    query = request.query_params
    # Exactly one ``expires`` and one ``signature``: with two, which one a proxy or cache reads is a guess.
    expires, signature = (query.getlist(key) for key in ("expires", "signature"))
    check = signing.verify(
        runtime.config.signing_secret,
        name,
        expires[0] if len(expires) == 1 else None,
        signature[0] if len(signature) == 1 else None,
        runtime.config.clock.now().timestamp(),
    )
    if check == "expired":
        return problem(403, "This download link has expired; get the export again for a fresh link.")
    if check != "valid":
        return problem(403, "This download link is not valid.")
    file = runtime.store.get_file(name.rsplit(".", 1)[0])
    if file is None:
        return problem(404, "No file behind this link.")
    return Response(
        file.content,
        media_type=file.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{file.filename}"',
            "Cache-Control": "private, no-store",
        },
    )


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        return problem(404, "No resource at this path.", headers=headers)
    if exc.status_code == 405:
        allowed = headers.get("Allow", "")
        return problem(
            405, f"Method {request.method} is not allowed here; allowed: {allowed}.", headers=headers
        )
    return problem(exc.status_code, str(exc.detail), headers=headers)


def create_app(config: ServerConfig) -> Starlette:
    """The reference server as an ASGI app. Background work starts with the lifespan (or first request)."""
    runtime = Runtime(config)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        runtime.ensure_started()
        try:
            yield
        finally:
            await runtime.shutdown()

    routes = [
        Route(EXPORTS_PATH, create_export, methods=["POST"]),
        Route(EXPORTS_PATH + "/{id}", get_export, methods=["GET"]),
        Route(FILES_PREFIX + "/{name}", download, methods=["GET"]),
    ]
    if config.oauth_clients:  # on the origin, outside /v1, as oauth-token.yaml says
        routes.append(Route(contract.token_path(), runtime.token_endpoint.handle, methods=["POST"]))
    app = Starlette(
        routes=routes,
        middleware=[Middleware(AccessLogMiddleware, clock=config.clock)],
        exception_handlers={HTTPException: _http_exception},
        lifespan=lifespan,
    )
    # A trailing ``/`` is an unknown path (404 problem), not a redirect built from the request's ``Host``.
    app.router.redirect_slashes = False
    app.state.runtime = runtime
    return app
