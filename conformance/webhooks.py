"""`conformance webhooks`: receive deliveries, verify Svix signatures, validate payloads, cross-check with GET.

Why standardwebhooks: it implements the Svix scheme (HMAC-SHA256 over "id.timestamp.body", several
`v1,` signatures, 5-minute tolerance, constant-time comparison); this module maps `svix-*` headers onto
it instead of re-implementing the cryptography.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import httpx
import uvicorn
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contract import component_schema, status_variants, webhook_event_schemas

from . import check_schema, spec
from .bounded_http import bounded_client, failure_kind, fetch
from .check_time import parse_timestamp
from .model import Report, Tally
from .redact import Redactor
from .rules import WEBHOOK_RULE, WEBHOOKS

DEFAULT_MAX_BODY = 1024 * 1024
_EXPORT_KEY = "export"  # the docs name the event's export object `export` (`export.id`)


def classify(payload: Any) -> tuple[str | None, list[str]]:
    """(event type, problems): the event whose schema the payload matches, or the closest one's errors."""
    best: tuple[int, str, list[str]] | None = None
    for event, name in webhook_event_schemas().items():
        pointer = f"/components/schemas/{name}"
        problems = check_schema.validate_body(payload, pointer, component_schema(name))
        if not problems:
            return event, []
        if best is None or len(problems) < best[0]:
            best = (len(problems), event, problems)
    if best is None:
        return None, ["the spec declares no webhooks"]
    return None, [f"payload matches no webhook event (closest {best[1]}): {p}" for p in best[2]]


def _export_schema(event: str) -> dict[str, Any]:
    event_schema = component_schema(webhook_event_schemas()[event])
    ref = event_schema["properties"][_EXPORT_KEY]["$ref"]
    return component_schema(ref.rsplit("/", 1)[-1])


def expected_variant(event: str) -> str:
    """The REST status an event stands for: the variant sharing the event's own (completion) fields."""
    fields = set(_export_schema(event)["properties"])
    for status, variant in status_variants().items():
        if fields & variant.own_fields:
            return status
    raise RuntimeError(f"no status variant matches webhook event {event}")


@dataclass
class WebhookChecker:
    """Checks each delivery; thread-safe through `Tally`."""

    secret: str = field(repr=False)
    tally: Tally
    redactor: Redactor
    base_url: str | None = None
    token: str = field(default="", repr=False)
    request_timeout: float = 10.0
    received: int = 0
    seen_ids: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, message: str, delivery: str) -> None:
        self.tally.fail(WEBHOOKS, delivery, self.redactor.text(message), None)

    def too_large(self, headers: Mapping[str, str], limit: int) -> None:
        msg_id = {k.lower(): v for k, v in headers.items()}.get("svix-id", "")
        with self._lock:
            self.received += 1
        self.tally.exercise(WEBHOOKS)
        self.fail(
            f"delivery body larger than {limit} bytes (--max-body-bytes); answered 413",
            f"delivery {msg_id or '(no svix-id)'}",
        )

    def handle(self, headers: Mapping[str, str], body: bytes) -> int:
        """Check one delivery; the HTTP status to answer with."""
        lowered = {k.lower(): v for k, v in headers.items()}
        msg_id = lowered.get("svix-id", "")
        label = f"delivery {msg_id or '(no svix-id)'}"
        with self._lock:
            self.received += 1
            duplicate = msg_id in self.seen_ids
            self.seen_ids.add(msg_id)
        self.tally.exercise(WEBHOOKS)
        try:
            Webhook(self.secret).verify(
                body,
                {
                    "webhook-id": msg_id,
                    "webhook-timestamp": lowered.get("svix-timestamp", ""),
                    "webhook-signature": lowered.get("svix-signature", ""),
                },
            )
        except Exception as exc:  # any malformed header is a verification failure too
            self.fail(f"signature verification failed: {exc}", label)
            return 401
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            self.fail("payload is not JSON (or nested too deeply)", label)
            return 400
        event, problems = classify(payload)
        for problem in problems:
            self.fail(problem, label)
        if event is None:
            return 400
        if not duplicate and self.base_url:
            self.cross_check(event, payload, label)
        return 204

    def cross_check(self, event: str, payload: dict[str, Any], label: str) -> None:
        """GET `export.id`: the status the event stands for and the same values for every shared field."""
        export = payload[_EXPORT_KEY]
        path = spec.operation_path(spec.GET_OP, id=str(export["id"]))
        assert self.base_url is not None
        url = self.base_url.rstrip("/") + path
        try:
            with bounded_client(self.request_timeout) as client:
                request = client.build_request("GET", url, headers={"Authorization": f"Bearer {self.token}"})
                fetched = fetch(client, request, total=self.request_timeout, max_bytes=DEFAULT_MAX_BODY)
        except httpx.HTTPError as exc:
            self.fail(
                f"GET of export {export['id']} failed: {failure_kind(exc, urlsplit(url).netloc)}", label
            )
            return
        self.tally.count(WEBHOOKS)
        response = fetched.response
        if fetched.cut:
            self.fail(f"GET of export {export['id']}: answer cut: {fetched.cut}", label)
            return
        try:
            body = response.json()
        except (ValueError, RecursionError):
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            self.fail(f"GET of export {export['id']} answered {response.status_code}", label)
            return
        status = expected_variant(event)
        prop = next(iter(spec.immutable_fields() & {"status"}), "status")
        if body.get(prop) != status:
            self.fail(f"{event} for export {export['id']}, but GET says {prop} {body.get(prop)!r}", label)
            return
        shared = set(_export_schema(event)["properties"]) & status_variants()[status].allowed
        for name in sorted(shared):
            a, b = export.get(name), body.get(name)
            ta, tb = parse_timestamp(a), parse_timestamp(b)
            same = ta == tb if ta is not None and tb is not None else a == b
            if not same:
                self.fail(f"{event}: export.{name} is {a!r} but GET says {b!r}", label)


async def _read_capped(request: Request, limit: int) -> bytes | None:
    """The body, or None once it is larger than `limit` (never buffered beyond it)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass
class Listener:
    url: str
    checker: WebhookChecker
    server: uvicorn.Server
    thread: threading.Thread

    def wait(self, max_events: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.checker.received < max_events and time.monotonic() < deadline:
            time.sleep(0.05)


@contextlib.contextmanager
def listening(
    host: str, port: int, checker: WebhookChecker, max_body_bytes: int = DEFAULT_MAX_BODY
) -> Iterator[Listener]:
    """Serve the checker on host:port (0 = free port) in a background thread; bodies capped."""

    async def receive(request: Request) -> Response:
        body = await _read_capped(request, max_body_bytes)
        if body is None:
            checker.too_large(dict(request.headers), max_body_bytes)
            return Response(status_code=413)
        status = checker.handle(dict(request.headers), body)
        return Response(status_code=status)

    app = Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise OSError(f"cannot listen on {host}:{port}")
        time.sleep(0.01)
    bound = int(server.servers[0].sockets[0].getsockname()[1])
    try:
        yield Listener(url=f"http://{host}:{bound}/", checker=checker, server=server, thread=thread)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _split_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"--listen must be HOST:PORT, got {value!r}")
    return host or "127.0.0.1", int(port)


def command_webhooks(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    from .cli import EXIT_CANNOT_RUN, EXIT_OK, EXIT_VIOLATIONS, UsageError
    from .console import summary
    from .report_json import write_json

    secret = env.get(args.secret_env, "")
    if not secret:
        raise UsageError(f"set the webhook secret (whsec_...) in the environment variable {args.secret_env}")
    token = env.get(args.token_env, "")
    if args.base_url and not token:
        raise UsageError(f"--base-url needs the bearer token in the environment variable {args.token_env}")
    try:
        host, port = _split_listen(args.listen)
        Webhook(secret)
    except Exception as exc:
        raise UsageError(str(exc)) from exc
    redactor = Redactor([secret, token, secret.removeprefix("whsec_")])
    tally = Tally(rules=(WEBHOOK_RULE,))
    checker = WebhookChecker(
        secret=secret, tally=tally, redactor=redactor, base_url=args.base_url, token=token
    )
    started = time.monotonic()
    try:
        with listening(host, port, checker, args.max_body_bytes) as listener:
            out.write(
                f"listening on {listener.url} for up to {args.max_events} deliveries, {args.timeout:g} s\n"
            )
            out.flush()
            listener.wait(args.max_events, args.timeout)
    except OSError as exc:
        out.write(f"conformance: cannot run: {exc}\n")
        return EXIT_CANNOT_RUN
    report = Report(
        target=args.listen,
        profile="webhooks",
        seed=0,
        results=tally.results(),
        requests=checker.received,
        elapsed=time.monotonic() - started,
        requests_by_rule=dict(tally.requests),
    )
    for finding in report.findings:
        out.write(redactor.text(f"  FAIL [{finding.rule}] {finding.operation}: {finding.message}") + "\n")
    out.write(redactor.text(summary(report)) + "\n")
    if args.report_json:
        write_json(report, Path(args.report_json), redactor)
    if checker.received == 0:
        out.write(f"conformance: cannot run: no deliveries received within {args.timeout:g} s\n")
        return EXIT_CANNOT_RUN
    return EXIT_OK if report.conforming else EXIT_VIOLATIONS
