"""Schemathesis as the engine for generic checks and phases, its findings mapped onto rule ids.

Why: Schemathesis already generates examples, coverage and fuzzing cases and runs a stateful phase; the
suite adds what it lacks (variants, time, links, polling) instead of reimplementing it. Runs are made
reproducible with a fixed seed, one worker and no example database, and bounded by a request allotment.
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import requests
import schemathesis
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from schemathesis.schemas import BaseSchema
from urllib3 import HTTPResponse
from urllib3._collections import HTTPHeaderDict

import contract

from .context import Context
from .rules import ERRORS_AUTH, LIFECYCLE, SCHEMA
from .transport import (
    ENGINE_BUCKET,
    AnswerTimedOut,
    BudgetExhausted,
    DeadlineExceeded,
    NotSent,
    ReadOnlyRefused,
    Sent,
    Target,
    TargetUnreachable,
    TokenUnavailable,
)

#: Requests Schemathesis sent are attributed to this bucket in the per-rule counts.
ST_BUCKET = ENGINE_BUCKET
#: Marks the errors of requests the suite refused to send, so they are not reported as Schemathesis errors.
NOT_SENT = "conformance: not sent:"
_HOP_BY_HOP = frozenset({"host", "content-length", "transfer-encoding", "connection", "keep-alive"})
_AUTH_CHECKS = frozenset(
    {
        "ignored_auth",
        "missing_required_header",
        "negative_data_rejection",
        "positive_data_acceptance",
        "unsupported_method",
        "object_level_authorization",
        "not_a_server_error",
    }
)
_LIFECYCLE_CHECKS = frozenset({"use_after_free", "ensure_resource_availability"})


def rule_for(check: str, status: int | None) -> str:
    """The rule id a Schemathesis check failure belongs to."""
    if check in _AUTH_CHECKS:
        return ERRORS_AUTH
    if check in _LIFECYCLE_CHECKS:
        return LIFECYCLE
    if check == "status_code_conformance":
        return LIFECYCLE if status is not None and status < 300 else ERRORS_AUTH
    if check == "content_type_conformance" and status is not None and status >= 400:
        return ERRORS_AUTH
    return SCHEMA


@dataclass
class _Route:
    """Where Schemathesis' requests go while it runs: through the suite's `Target`, up to `allotment`."""

    target: Target
    allotment: int
    sent: int = 0
    stopped: str | None = None
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


_ROUTE: _Route | None = None
_ORIGINAL_SEND = HTTPAdapter.send
_ORIGINAL_REDIRECT_TARGET = requests.Session.get_redirect_target


def _as_bytes(value: str | bytes) -> bytes:
    if isinstance(value, bytes):
        return value
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def _request_body(body: Any) -> bytes | None:
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        return bytes(body.read())
    return b"".join(_as_bytes(part) for part in body)


def _routed_send(
    adapter: HTTPAdapter, request: requests.PreparedRequest, *args: Any, **kwargs: Any
) -> requests.Response:
    """`HTTPAdapter.send` while Schemathesis runs: the request goes through `Target.engine_send`."""
    route = _ROUTE
    if route is None:
        return _ORIGINAL_SEND(adapter, request, *args, **kwargs)
    method = str(request.method or "GET")
    url = str(request.url)
    headers = [
        (_as_bytes(name), _as_bytes(value))
        for name, value in request.headers.items()
        if name.lower() not in _HOP_BY_HOP
    ]
    with route.lock:
        if route.stopped is None and route.sent >= route.allotment:
            route.stopped = f"Schemathesis' share of {route.allotment} requests spent"
        stopped = route.stopped
    if stopped is not None:
        raise requests.exceptions.ConnectionError(f"{NOT_SENT} {stopped}", request=request)
    try:
        sent = route.target.engine_send(method, url, headers, _request_body(request.body))
    except (BudgetExhausted, DeadlineExceeded, TokenUnavailable) as exc:
        with route.lock:
            route.stopped = route.stopped or str(exc)
        raise requests.exceptions.ConnectionError(f"{NOT_SENT} {exc}", request=request) from None
    except ReadOnlyRefused as exc:
        with route.lock:
            route.refused += 1
        raise requests.exceptions.ConnectionError(f"{NOT_SENT} {exc}", request=request) from None
    except NotSent as exc:
        raise requests.exceptions.InvalidHeader(f"{NOT_SENT} {exc}", request=request) from None
    except AnswerTimedOut as exc:
        raise requests.exceptions.ReadTimeout(str(exc), request=request) from None
    except TargetUnreachable as exc:
        raise requests.exceptions.ConnectionError(str(exc), request=request) from None
    finally:
        with route.lock:
            route.sent = route.target.tally.requests[ENGINE_BUCKET]
    if sent.cut:  # the suite reported the cut answer; a part of a body would only confuse the engine
        raise requests.exceptions.ChunkedEncodingError(f"{NOT_SENT} answer cut: {sent.cut}", request=request)
    if _too_deep(sent):  # Schemathesis' own JSON decoding would crash its worker thread
        route.target.finding(route.target.label(method, url), "the body is nested too deeply to decode", sent)
        raise requests.exceptions.ContentDecodingError(f"{NOT_SENT} body nested too deeply", request=request)
    return _to_requests(adapter, request, sent)


def _too_deep(sent: Sent) -> bool:
    media = sent.media_type
    if not (media.endswith("json") and sent.response.content):
        return False
    try:
        json.loads(sent.response.content)
    except RecursionError:
        return True
    except ValueError:
        return False
    return False


def _to_requests(adapter: HTTPAdapter, request: requests.PreparedRequest, sent: Sent) -> requests.Response:
    """The suite's bounded answer in the shape `requests` (and so Schemathesis) expects."""
    answer = sent.response
    content = answer.content
    reason = answer.extensions.get("reason_phrase", b"")
    raw = HTTPResponse(
        body=io.BytesIO(content),
        headers=HTTPHeaderDict(answer.headers.multi_items()),
        status=answer.status_code,
        version=11,
        reason=reason.decode("latin-1") if isinstance(reason, bytes) else str(reason),
        preload_content=False,
        decode_content=False,
        request_url=str(request.url),
    )
    response = requests.Response()
    response.status_code = answer.status_code
    response.headers = CaseInsensitiveDict(answer.headers)
    response.raw = raw
    response.reason = raw.reason or ""
    response.url = str(request.url)
    response.request = request
    response.connection = adapter
    response.encoding = get_encoding_from_headers(response.headers)
    response._content = content
    response._content_consumed = True
    return response


def _no_redirect(self: requests.Session, resp: requests.Response) -> str | None:
    return None  # a redirect is the answer under test; the suite never follows one


@contextlib.contextmanager
def routed(target: Target, allotment: int) -> Iterator[_Route]:
    """Send every `requests` request of this process through `target` while the block runs."""
    global _ROUTE
    route = _Route(target=target, allotment=allotment)
    _ROUTE = route
    previous_hook = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        # A crash inside one of Schemathesis' worker threads is a note, never a traceback on the console.
        name = args.exc_type.__name__ if args.exc_type else "error"
        target.tally.note(f"a Schemathesis worker stopped on {name}: {str(args.exc_value)[:120]}")

    threading.excepthook = hook
    HTTPAdapter.send = _routed_send  # type: ignore[method-assign,assignment]
    requests.Session.get_redirect_target = _no_redirect  # type: ignore[method-assign,assignment]
    try:
        yield route
    finally:
        _ROUTE = None
        threading.excepthook = previous_hook
        HTTPAdapter.send = _ORIGINAL_SEND  # type: ignore[method-assign]
        requests.Session.get_redirect_target = _ORIGINAL_REDIRECT_TARGET  # type: ignore[method-assign]


def build_config(ctx: Context, allotment: int) -> SchemathesisConfig:
    config = ctx.config
    phases: dict[str, Any] = {
        name: {"enabled": name in config.st_phases}
        for name in ("examples", "coverage", "fuzzing", "stateful")
    }
    raw: dict[str, Any] = {
        "seed": config.seed,
        "workers": 1,
        "base-url": config.base_url.rstrip("/"),
        # The token of this moment; `Target.engine_send` swaps in a refreshed one when it changes.
        "headers": {"Authorization": f"Bearer {ctx.target.tokens.current()}"},
        "generation": {"max-examples": config.st_max_examples, "database": "none"},
        "phases": phases,
        "request-timeout": config.request_timeout,
        "max-time": max(1, int(ctx.target.remaining_time())),
        "max-failures": max(1, allotment),
        "max-redirects": 0,
    }
    if config.read_only:  # its unsupported-method check sends POST, PUT, TRACE, OPTIONS ... to the path
        raw["checks"] = {"unsupported_method": {"enabled": False}}
    # No Schemathesis rate limit: its requests go through the suite's own limiter (`routed`).
    return SchemathesisConfig.from_dict(raw)


def _record(ctx: Context, recorder: Any) -> int:
    """Map the failed checks of one scenario onto findings; return how many requests it sent."""
    for case_id, checks in recorder.checks.items():
        for check in checks:
            info = check.failure_info
            if info is None:
                continue
            interaction = recorder.interactions.get(case_id)
            response = interaction.response if interaction is not None else None
            status = response.status_code if response is not None else None
            rule = rule_for(check.name, status)
            failure = info.failure
            first_line = (failure.message or "").strip().splitlines()[0:1]
            detail = f": {first_line[0][:200]}" if first_line else ""
            message = f"Schemathesis {check.name}: {failure.title}{detail}"
            operation = failure.operation or ""
            exchange = None
            if interaction is not None:
                exchange = _exchange(ctx, interaction)
            label = operation if operation else "schemathesis"
            if ctx.tally.fail(rule, label, ctx.redactor.text(message), exchange):
                ctx.progress(f"  FAIL [{rule}] {label}: {ctx.redactor.text(message)}")
    for case_id, interaction in recorder.interactions.items():
        _observe(ctx, recorder.cases[case_id].value if case_id in recorder.cases else None, interaction)
    return len(recorder.interactions)


def _observe(ctx: Context, case: Any, interaction: Any) -> None:
    """Run the suite's own per-response rules on one of Schemathesis' answers.

    Why: Schemathesis validates a ``oneOf`` without the discriminator ("... is not valid under any of the
    schemas"); passing its traffic through ``Context.observe`` adds the suite's messages that name the
    variant and the field, and the client and time rules, on every response it saw.
    """
    response = interaction.response
    if case is None or response is None or response.content_size > len(response.content):
        return
    label = f"{case.operation.method.upper()} {case.operation.path}"
    operation_id = next((op.operation_id for op in contract.operations().values() if op.label == label), None)
    if operation_id is None:
        return
    headers = [(name, value) for name, values in response.headers.items() for value in values]
    sent = Sent(
        response=httpx.Response(response.status_code, headers=headers, content=response.content),
        exchange=_exchange(ctx, interaction),
        received=datetime.fromtimestamp(interaction.timestamp, UTC),
    )
    ctx.observe(operation_id, sent)


def _exchange(ctx: Context, interaction: Any) -> Any:
    from .model import BODY_EXCERPT, Exchange

    red = ctx.redactor
    request = interaction.request
    response = interaction.response
    body = request.body.decode("utf-8", errors="replace")[:BODY_EXCERPT] if request.body else None
    content_type = None
    excerpt = ""
    if response is not None:
        values = response.headers.get("content-type") or response.headers.get("Content-Type") or []
        content_type = values[0] if values else None
        excerpt = response.content[:BODY_EXCERPT].decode("utf-8", errors="replace")
    return Exchange(
        method=request.method,
        url=red.url(request.uri),
        request_body=red.text(body) if body else None,
        status=response.status_code if response is not None else None,
        content_type=content_type,
        body=red.text(excerpt),
    )


def run_schemathesis(ctx: Context, allotment: int) -> int:
    """Run the configured phases within `allotment` requests; returns the requests it sent.

    Every request it makes goes through the suite's `Target` (`routed`): counted, rate limited, bounded
    in time and size, never redirected, GET/HEAD only under --read-only; past the allotment, the budget
    or the deadline nothing more is sent and the engine is stopped.
    """
    if allotment <= 0 or not ctx.config.st_phases:
        ctx.tally.note("Schemathesis skipped: no request budget left")
        return 0
    schema: BaseSchema = schemathesis.openapi.from_dict(
        contract.spec_document(), config=build_config(ctx, allotment)
    )
    if ctx.config.read_only:  # a read-only run sends no POST, Schemathesis' included
        schema = schema.include(method=["GET", "HEAD"])
    before = ctx.tally.requests[ST_BUCKET]
    phases_seen: set[str] = set()
    with routed(ctx.target, allotment) as route:
        stream = from_schema(schema).execute()
        for event in stream:
            if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
                _record(ctx, event.recorder)
            elif isinstance(event, events.PhaseStarted):
                name = event.phase.name.value
                if name in ctx.config.st_phases and name not in phases_seen:
                    phases_seen.add(name)
                    ctx.progress(f"  schemathesis phase {name}")
            elif isinstance(event, events.FatalError):
                text = str(event.exception)
                if NOT_SENT not in text:
                    ctx.tally.note(f"Schemathesis stopped: {ctx.redactor.text(text)[:200]}")
                break
            elif isinstance(event, events.NonFatalError):
                text = str(event.value)
                if NOT_SENT not in text:
                    ctx.tally.note(f"Schemathesis error: {ctx.redactor.text(text)[:200]}")
            if route.stopped is not None:
                stream.stop()
        if route.stopped is not None:
            ctx.tally.note(f"Schemathesis stopped early: {route.stopped}")
        if route.refused:
            ctx.tally.note(f"{route.refused} Schemathesis request(s) refused and not sent (--read-only)")
    return ctx.tally.requests[ST_BUCKET] - before
