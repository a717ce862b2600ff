"""The `errors-auth` rule: unknown id -> 404, missing/wrong token -> 401, invalid body -> 400, problem+json.

Why these few requests: each exercises one documented error once, so the quick profile can afford them.
"""

from __future__ import annotations

import secrets

from . import spec
from .context import Context
from .rules import ERRORS_AUTH
from .transport import Auth, Sent


def expect_error(ctx: Context, operation_id: str, sent: Sent, expected: int, what: str) -> None:
    """`sent` must answer `expected` with one of the documented (problem+json) media types."""
    ctx.tally.exercise(ERRORS_AUTH)
    if sent.status != expected:
        ctx.fail(ERRORS_AUTH, operation_id, f"{what} answered {sent.status}, expected {expected}", sent)
        return
    documented = spec.media_types(operation_id, expected) or []
    if documented and sent.media_type not in documented:
        ctx.fail(
            ERRORS_AUTH,
            operation_id,
            f"{what} answered {expected} with Content-Type {sent.media_type or '(none)'}, "
            f"expected {', '.join(documented)}",
            sent,
        )


def probe(ctx: Context) -> Sent:
    """The first request: an unknown id with the token. Also tells whether the target is usable."""
    path = spec.operation_path(spec.GET_OP, id=f"conformance-unknown-{secrets.token_hex(6)}")
    sent = ctx.target.api(ERRORS_AUTH, "GET", path)
    return sent


def run_errors_auth(ctx: Context, probed: Sent, known_id: str | None) -> None:
    ctx.observe(spec.GET_OP, probed)
    expect_error(ctx, spec.GET_OP, probed, 404, "GET of an unknown export id")
    get_path = spec.operation_path(spec.GET_OP, id=known_id or f"conformance-unknown-{secrets.token_hex(6)}")
    cases: list[tuple[Auth, str]] = [("none", "without a token"), ("wrong", "with a wrong token")]
    for auth, how in cases:
        sent = ctx.target.api(ERRORS_AUTH, "GET", get_path, auth=auth)
        ctx.observe(spec.GET_OP, sent)
        expect_error(ctx, spec.GET_OP, sent, 401, f"GET {how}")
    if ctx.config.read_only:
        return
    create_path = spec.operations()[spec.CREATE_OP].path
    qid = ctx.config.questionnaire_id or "conformance-questionnaire"
    fmt = spec.enum_values("ExportFormat")[0]
    invalid = spec.invalid_create_bodies(qid, fmt)
    for what, content in invalid:
        sent = ctx.target.api(ERRORS_AUTH, "POST", create_path, content=content)
        ctx.observe(spec.CREATE_OP, sent)
        if 200 <= sent.status < 300:
            ctx.exports_created += 1
        expect_error(ctx, spec.CREATE_OP, sent, 400, what)
    sent = ctx.target.api(ERRORS_AUTH, "POST", create_path, auth="none", json_body=spec.create_body(qid, fmt))
    ctx.observe(spec.CREATE_OP, sent)
    if 200 <= sent.status < 300:
        ctx.exports_created += 1
    expect_error(ctx, spec.CREATE_OP, sent, 401, "POST without a token")
