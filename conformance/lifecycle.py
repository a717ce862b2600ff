"""The `lifecycle` rule: create -> 202 pending -> bounded, backing-off poll -> terminal, and stable after.

Why poll here: Schemathesis' stateful phase does not wait, so it rarely sees `completed` or `failed`.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from questionnaire_exports_client.lib import Backoff, parse_retry_after
from questionnaire_exports_client.lib.schedule import Schedule

import contract
from contract import discriminator

from . import check_link
from .context import Context, Rules
from .rules import LIFECYCLE
from .transport import CannotRun, Sent

#: A schedule needs a positive window; with less left than this the first poll is also the last.
_MIN_POLL_WINDOW_S = 0.001


@dataclass
class Observation:
    body: dict[str, Any]
    sent: Sent


def _retry_after(sent: Sent) -> float | None:
    """The answer's ``Retry-After`` in seconds (both RFC 9110 forms, as the client reads it), or None."""
    return parse_retry_after(sent.response.headers.get("retry-after"), now=time.time())


def poll_backoff(loopback: bool) -> Backoff:
    """The poll's backoff: the client's schedule, quicker against a loopback target (a local server)."""
    return Backoff(min_delay=0.05, max_delay=2.0) if loopback else Backoff(min_delay=1.0, max_delay=10.0)


def get_export(ctx: Context, export_id: str, *, poll: bool) -> Observation | None:
    """One GET, observed; None when it did not answer 200 with an object."""
    path = contract.operation_path(contract.GET_OP, id=export_id)
    sent = ctx.target.api(LIFECYCLE, "GET", path, poll=poll)
    ctx.observe(contract.GET_OP, sent)
    body = sent.json()
    if sent.status == 429:
        return Observation(body={}, sent=sent)
    if sent.cut:
        return None  # the transport reported the cut answer (a `schema` finding)
    if sent.status != 200 or not isinstance(body, dict):
        what = "expected 200" if sent.status != 200 else "with a body that is not a JSON object"
        ctx.fail(
            LIFECYCLE, contract.GET_OP, f"GET of export {export_id} answered {sent.status}, {what}", sent
        )
        return None
    return observed_export(ctx, export_id, sent, body)


def observed_export(ctx: Rules, export_id: str, sent: Sent, body: dict[str, Any]) -> Observation | None:
    """A 200 answer for `export_id`: the id echoed; None when it carries no status."""
    prop, _ = discriminator()
    ctx.tally.exercise(LIFECYCLE)
    if body.get("id") != export_id:
        ctx.fail(
            LIFECYCLE, contract.GET_OP, f"GET of export {export_id} answered id {body.get('id')!r}", sent
        )
    if body.get(prop) is None:
        return None
    return Observation(body=body, sent=sent)


def poll_until_terminal(ctx: Context, export_id: str) -> Observation | None:
    """Poll with the client's backoff and ``Retry-After`` schedule, bounded in count and time."""
    config = ctx.config
    prop, _ = discriminator()
    terminal = contract.terminal_statuses()
    timeout = max(_MIN_POLL_WINDOW_S, min(config.poll_timeout, ctx.target.remaining_time()))
    schedule = Schedule(timeout, poll_backoff(config.loopback), time.monotonic, random.Random(config.seed))
    while True:
        schedule.start_attempt()
        seen = get_export(ctx, export_id, poll=True)
        if seen is None:
            return None
        if seen.body.get(prop) in terminal:
            return seen
        wait = schedule.next_delay(_retry_after(seen.sent))
        if wait is None:
            ctx.fail(
                LIFECYCLE,
                contract.GET_OP,
                f"export {export_id} still {seen.body.get(prop)!r} after {schedule.attempts} polls "
                f"({config.poll_timeout:g} s poll timeout)",
                seen.sent,
            )
            return None
        time.sleep(wait)


def check_stable(ctx: Rules, first: Observation, later: Observation) -> None:
    """A terminal export never changes status nor any immutable field.

    A changed status is the one finding: another variant has other fields, so they differ as a consequence.
    """
    prop, _ = discriminator()
    export_id = first.body.get("id")
    changed_status = first.body.get(prop) != later.body.get(prop)
    for name in [prop] if changed_status else sorted({prop} | contract.immutable_fields()):
        if first.body.get(name) != later.body.get(name):
            ctx.fail(
                LIFECYCLE,
                contract.GET_OP,
                f"terminal export {export_id} changed {name} from {first.body.get(name)!r} to "
                f"{later.body.get(name)!r}",
                later.sent,
            )


def follow(ctx: Context, export_id: str, *, expect: str | None, created: dict[str, Any] | None) -> None:
    """Poll an export to its end, check its final state twice, and its link when completed."""
    prop, _ = discriminator()
    first = poll_until_terminal(ctx, export_id)
    if first is None:
        return
    status = first.body.get(prop)
    ctx.progress(f"  export {export_id} -> {status}")
    if expect is not None and status != expect:
        ctx.fail(
            LIFECYCLE,
            contract.GET_OP,
            f"export {export_id} ended {status!r}, expected {expect!r}",
            first.sent,
        )
    if created is not None:
        check_unchanged(ctx, export_id, created, first)
    if contract.DOWNLOAD_URL in first.body:
        check_link.check_download(ctx, first.body)
    later = get_export(ctx, export_id, poll=False)
    if later is None or not later.body:
        return
    check_stable(ctx, first, later)
    if contract.DOWNLOAD_URL in first.body:
        check_link.check_fresh(ctx, first.body, later.body)


def check_unchanged(ctx: Rules, export_id: str, created: dict[str, Any], seen: Observation) -> None:
    """The fields fixed at creation (`id`, `format`, `requestedAt`...) are the same in a later answer."""
    prop, _ = discriminator()
    for name in sorted((contract.immutable_fields() - {prop}) & set(created)):
        if created.get(name) != seen.body.get(name):
            ctx.fail(
                LIFECYCLE,
                contract.GET_OP,
                f"export {export_id}: {name} was {created.get(name)!r} at creation, now "
                f"{seen.body.get(name)!r}",
                seen.sent,
            )


def create(
    ctx: Context, questionnaire_id: str, fmt: str, flag: str | None = None
) -> tuple[str, dict[str, Any]] | None:
    """POST an export: 202, the pending variant, the format echoed. Returns (id, body).

    With `flag` (the first export of a questionnaire the user named), a 404 means the id is wrong: the
    run cannot go on (exit 2), naming the id and the server's explanation.
    """
    if ctx.exports_created >= ctx.config.max_exports:
        ctx.tally.note(f"export cap of {ctx.config.max_exports} reached; skipped one create")
        return None
    ctx.exports_created += 1
    path = contract.operations()[contract.CREATE_OP].path
    sent = ctx.target.api(LIFECYCLE, "POST", path, json_body=contract.create_body(questionnaire_id, fmt))
    ctx.observe(contract.CREATE_OP, sent)
    ctx.tally.exercise(LIFECYCLE)
    body = sent.json()
    if flag is not None and sent.status == 404:
        from .preflight import problem_detail

        raise CannotRun(
            f"{flag} {questionnaire_id}: the server answered 404 ({problem_detail(sent)}); check the id"
        )
    if sent.cut:
        return None  # the transport reported the cut answer (a `schema` finding)
    export_id = check_create_answer(ctx, sent, body, fmt)
    if export_id is None or not isinstance(body, dict):
        return None
    ctx.created_ids.append(export_id)
    ctx.progress(f"  created {export_id} ({fmt}) -> {sent.status}")
    return export_id, body


def check_create_answer(ctx: Rules, sent: Sent, body: Any, fmt: str | None) -> str | None:
    """The answer to a valid create: 202, the pending variant, `fmt` echoed (None: the request's format is
    not known); returns its id when usable."""
    if sent.status not in (200, 202) or not isinstance(body, dict):
        what = "expected 202" if sent.status not in (200, 202) else "with a body that is not a JSON object"
        ctx.fail(LIFECYCLE, contract.CREATE_OP, f"POST answered {sent.status}, {what}", sent)
        return None
    if sent.status != 202:
        ctx.fail(LIFECYCLE, contract.CREATE_OP, f"POST answered {sent.status}, expected 202", sent)
    prop, _ = discriminator()
    if body.get(prop) != contract.pending_status():
        ctx.fail(
            LIFECYCLE,
            contract.CREATE_OP,
            f"POST answered {prop} {body.get(prop)!r}, expected {contract.pending_status()!r}",
            sent,
        )
    if fmt is not None and body.get("format") != fmt:
        ctx.fail(
            LIFECYCLE,
            contract.CREATE_OP,
            f"format not echoed: asked {fmt!r}, got {body.get('format')!r}",
            sent,
        )
    export_id = body.get("id")
    if not isinstance(export_id, str) or not export_id:
        ctx.fail(LIFECYCLE, contract.CREATE_OP, "POST answered no usable id", sent)
        return None
    return export_id


def run_lifecycle(ctx: Context) -> None:
    """Every format for the good questionnaire(s), then the failing one; or the given ids when read-only."""
    config = ctx.config
    if config.read_only:
        for export_id in config.export_ids:
            follow(ctx, export_id, expect=None, created=None)
        return
    formats = contract.enum_values("ExportFormat")
    assert config.questionnaire_id is not None
    # One export per questionnaire first: each id given is checked before the other exports are made.
    plans: list[tuple[str, str, str | None, str | None]] = [
        (config.questionnaire_id, formats[0], None, "--questionnaire-id")
    ]
    if config.document_questionnaire_id:
        plans.append((config.document_questionnaire_id, formats[0], None, "--document-questionnaire-id"))
    else:
        ctx.tally.note("no --document-questionnaire-id: a document (DOCX) export was not checked")
    if not config.failing_questionnaire_id:
        ctx.tally.note("no --failing-questionnaire-id: the failed variant is seen only if an export fails")
    if config.failing_questionnaire_id:
        plans.append(
            (
                config.failing_questionnaire_id,
                formats[0],
                contract.FAILED_STATUS,
                "--failing-questionnaire-id",
            )
        )
    plans += [(config.questionnaire_id, fmt, None, None) for fmt in formats[1:]]
    started = [(create(ctx, qid, fmt, flag), expect) for qid, fmt, expect, flag in plans]
    for made, expect in started:
        if made is not None:
            export_id, body = made
            good = [s for s in contract.terminal_statuses() if s != contract.FAILED_STATUS]
            follow(ctx, export_id, expect=expect or (good[0] if len(good) == 1 else None), created=body)
