"""`conformance webhooks`: receive deliveries, verify Svix signatures, validate payloads, cross-check with GET.

Signatures are checked by the client's `WebhookVerifier` (the project's one Svix verifier: HMAC-SHA256 over
"id.timestamp.body", several `v1,` signatures, 5-minute tolerance, constant-time, every header bounded
before it is parsed); a validly signed payload is then judged by the suite's own payload rules, which name
every problem rather than only the first.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from questionnaire_exports_client.lib import WebhookVerificationError, WebhookVerifier
from questionnaire_exports_client.redact import Redactor
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import contract
from contract import component_schema, status_variants, webhook_event_schemas

from . import check_schema, embedded
from .check_time import parse_timestamp
from .config import RunConfig
from .model import Tally
from .rules import WEBHOOKS
from .transport import StopRun, Target

DEFAULT_MAX_BODY = 1024 * 1024
#: The cross-check's own limits (a listener may run for hours): requests and seconds for all its GETs.
_CROSS_CHECK_BUDGET = 1_000_000
_CROSS_CHECK_DEADLINE_S = 7 * 24 * 3600.0
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
    return contract.resolve(event_schema["properties"][_EXPORT_KEY])


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
    #: Deliveries whose checks (signature, payload, cross-check GET) are all done; ``received`` counts
    #: a delivery when it arrives, ``checked`` once nothing more will be recorded for it.
    checked: int = 0
    seen_ids: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _done: threading.Condition = field(default_factory=threading.Condition)
    target: Target | None = field(default=None, repr=False)
    _verifier: WebhookVerifier = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._verifier = WebhookVerifier(self.secret)  # a bad secret fails here, not at the first delivery
        if self.base_url and self.target is None:
            # The cross-check GET goes through the suite's `Target` like every other request: bounded in
            # time and size, no redirect followed, GET only (read-only), counted under the webhooks rule.
            config = RunConfig(
                base_url=self.base_url,
                questionnaire_id=None,
                token=self.token,
                read_only=True,
                request_timeout=self.request_timeout,
                max_requests=_CROSS_CHECK_BUDGET,
                deadline=_CROSS_CHECK_DEADLINE_S,
                max_body_bytes=DEFAULT_MAX_BODY,
            )
            self.target = Target(config, self.tally, self.redactor)

    def close(self) -> None:
        """Close the cross-check's connections."""
        if self.target is not None:
            self.target.close()

    def wait_checked(self, count: int, timeout: float) -> bool:
        """Block until ``count`` deliveries are fully checked (or ``timeout`` seconds pass); True if they are."""
        with self._done:
            return self._done.wait_for(lambda: self.checked >= count, timeout)

    def _finished(self) -> None:
        with self._done:
            self.checked += 1
            self._done.notify_all()

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
        self._finished()

    def handle(self, headers: Mapping[str, str], body: bytes) -> int:
        """Check one delivery; the HTTP status to answer with."""
        try:
            return self._handle(headers, body)
        finally:
            self._finished()

    def _handle(self, headers: Mapping[str, str], body: bytes) -> int:
        lowered = {k.lower(): v for k, v in headers.items()}
        msg_id = lowered.get("svix-id", "")
        label = f"delivery {msg_id or '(no svix-id)'}"
        with self._lock:
            self.received += 1
            duplicate = msg_id in self.seen_ids
            self.seen_ids.add(msg_id)
        self.tally.exercise(WEBHOOKS)
        try:
            self._verifier.verify(body, {k: v for k, v in lowered.items() if k.startswith("svix-")})
        except WebhookVerificationError as exc:
            if exc.reason != "invalid-payload":  # a valid signature over a bad payload: judged below
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
        path = contract.operation_path(contract.GET_OP, id=str(export["id"]))
        assert self.target is not None
        try:
            sent = self.target.api(WEBHOOKS, "GET", path)
        except StopRun as exc:
            self.fail(f"GET of export {export['id']} failed: {exc}", label)
            return
        if sent.cut:
            self.fail(f"GET of export {export['id']}: answer cut: {sent.cut}", label)
            return
        body = sent.json()
        if sent.status != 200 or not isinstance(body, dict):
            self.fail(f"GET of export {export['id']} answered {sent.status}", label)
            return
        status = expected_variant(event)
        prop = next(iter(contract.immutable_fields() & {"status"}), "status")
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

    def wait(self, max_events: int, timeout: float) -> None:
        """Until ``max_events`` deliveries are fully checked, or ``timeout`` seconds pass."""
        self.checker.wait_checked(max_events, timeout)


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
    with embedded.serving(app, host, port) as bound:
        yield Listener(url=f"http://{host}:{bound}/", checker=checker)


def split_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` of ``--listen`` (an empty host means 127.0.0.1); ValueError when malformed."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"--listen must be HOST:PORT, got {value!r}")
    return host or "127.0.0.1", int(port)


def check_secret(secret: str) -> None:
    """Raise ``WebhookVerificationError`` when the webhook secret is not a usable ``whsec_`` key."""
    WebhookVerifier(secret)
