"""Schemathesis as the engine for generic checks and phases, its findings mapped onto rule ids.

Why: Schemathesis already generates examples, coverage and fuzzing cases and runs a stateful phase; the
suite adds what it lacks (variants, time, links, polling) instead of reimplementing it. Runs are made
reproducible with a fixed seed, one worker and no example database, and bounded by a request allotment.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from schemathesis.schemas import BaseSchema

from contract import SPEC_PATH

from . import spec
from .context import Context
from .rules import ERRORS_AUTH, LIFECYCLE, SCHEMA
from .transport import Sent

#: Requests Schemathesis' accounting is attributed to in the per-rule counts.
ST_BUCKET = "schemathesis"
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
        "headers": {"Authorization": f"Bearer {config.token}"},
        "generation": {"max-examples": config.st_max_examples, "database": "none"},
        "phases": phases,
        "request-timeout": config.request_timeout,
        "max-time": max(1, int(ctx.target.remaining_time())),
        "max-failures": max(1, allotment),
    }
    if config.rate_limit:
        raw["rate-limit"] = f"{max(1, int(config.rate_limit))}/m"
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
    operation_id = next((op.operation_id for op in spec.operations().values() if op.label == label), None)
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
    """Run the configured phases within `allotment` requests; returns the requests spent."""
    if allotment <= 0 or not ctx.config.st_phases:
        ctx.tally.notes.append("Schemathesis skipped: no request budget left")
        return 0
    schema: BaseSchema = schemathesis.openapi.from_path(str(SPEC_PATH), config=build_config(ctx, allotment))
    if ctx.config.read_only:  # a read-only run sends no POST, Schemathesis' included
        schema = schema.include(method="GET")
    stream = from_schema(schema).execute()
    spent = 0
    phases_seen: set[str] = set()
    for event in stream:
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            spent += _record(ctx, event.recorder)
            if spent >= allotment:
                stream.stop()
        elif isinstance(event, events.PhaseStarted) and event.phase.name.value not in phases_seen:
            phases_seen.add(event.phase.name.value)
            ctx.progress(f"  schemathesis phase {event.phase.name.value}")
        elif isinstance(event, events.FatalError):
            ctx.tally.notes.append(f"Schemathesis stopped: {ctx.redactor.text(str(event.exception))[:200]}")
            break
        elif isinstance(event, events.NonFatalError):
            ctx.tally.notes.append(f"Schemathesis error: {ctx.redactor.text(str(event.value))[:200]}")
    ctx.target.account(ST_BUCKET, spent)
    return spent
