"""The `errors-auth` rule: unknown id or questionnaire -> 404, missing/wrong token -> 401, invalid body -> 400,
not JSON -> 415, too large -> 413, problem+json.

Why these few requests: each exercises one documented error once, so the quick profile can afford them.
"""

from __future__ import annotations

import json
import secrets

import contract

from .context import Context, Rules
from .rules import ERRORS_AUTH
from .transport import Auth, Sent

#: Bytes of padding in the oversized create request (413 is documented; the limit is the server's).
OVERSIZED_BODY = 1024 * 1024


def expect_error(
    ctx: Context, operation_id: str, sent: Sent, expected: int, what: str, *, also: tuple[int, ...] = ()
) -> None:
    """`sent` must answer `expected` (or one of `also`) with a documented (problem+json) media type."""
    ctx.tally.exercise(ERRORS_AUTH)
    if sent.status != expected and sent.status not in also:
        wanted = " or ".join(str(s) for s in (expected, *also))
        ctx.fail(ERRORS_AUTH, operation_id, f"{what} answered {sent.status}, expected {wanted}", sent)
        return
    check_problem_media(ctx, operation_id, sent, what)


def check_problem_media(ctx: Rules, operation_id: str, sent: Sent, what: str) -> None:
    """An error answer has a media type its status documents (problem+json)."""
    documented = contract.media_types(operation_id, sent.status) or []
    if documented and sent.media_type not in documented:
        ctx.fail(
            ERRORS_AUTH,
            operation_id,
            f"{what} answered {sent.status} with Content-Type {sent.media_type or '(none)'}, "
            f"expected {', '.join(documented)}",
            sent,
        )


def probe(ctx: Context) -> Sent:
    """The first request: an unknown id with the token. Also tells whether the target is usable."""
    path = contract.operation_path(contract.GET_OP, id=f"conformance-unknown-{secrets.token_hex(6)}")
    sent = ctx.target.api(ERRORS_AUTH, "GET", path)
    return sent


def run_errors_auth(ctx: Context, probed: Sent, known_id: str | None) -> None:
    ctx.observe(contract.GET_OP, probed)
    expect_error(ctx, contract.GET_OP, probed, 404, "GET of an unknown export id")
    get_path = contract.operation_path(
        contract.GET_OP, id=known_id or f"conformance-unknown-{secrets.token_hex(6)}"
    )
    cases: list[tuple[Auth, str]] = [("none", "without a token"), ("wrong", "with a wrong token")]
    for auth, how in cases:
        sent = ctx.target.api(ERRORS_AUTH, "GET", get_path, auth=auth)
        ctx.observe(contract.GET_OP, sent)
        expect_error(ctx, contract.GET_OP, sent, 401, f"GET {how}")
    if ctx.config.read_only:
        return
    create_path = contract.operations()[contract.CREATE_OP].path
    qid = ctx.config.questionnaire_id or "conformance-questionnaire"
    fmt = contract.enum_values("ExportFormat")[0]
    invalid = contract.invalid_create_bodies(qid, fmt)
    for what, content in invalid:
        sent = ctx.target.api(ERRORS_AUTH, "POST", create_path, content=content)
        _post_observed(ctx, sent)
        expect_error(ctx, contract.CREATE_OP, sent, 400, what)
    sent = ctx.target.api(
        ERRORS_AUTH, "POST", create_path, auth="none", json_body=contract.create_body(qid, fmt)
    )
    _post_observed(ctx, sent)
    expect_error(ctx, contract.CREATE_OP, sent, 401, "POST without a token")
    unknown = f"conformance-unknown-{secrets.token_hex(6)}"
    sent = ctx.target.api(ERRORS_AUTH, "POST", create_path, json_body=contract.create_body(unknown, fmt))
    _post_observed(ctx, sent)
    expect_error(ctx, contract.CREATE_OP, sent, 404, "POST for an unknown questionnaire")
    body = json.dumps(contract.create_body(qid, fmt)).encode()
    sent = ctx.target.api(ERRORS_AUTH, "POST", create_path, content=body, content_type="text/plain")
    _post_observed(ctx, sent)
    expect_error(ctx, contract.CREATE_OP, sent, 415, "POST with Content-Type text/plain")
    # Larger than API gateways accept; a server allowing more must still refuse the unknown key (400).
    padded = {**contract.create_body(qid, fmt), "conformancePadding": "x" * OVERSIZED_BODY}
    sent = ctx.target.api(ERRORS_AUTH, "POST", create_path, json_body=padded)
    _post_observed(ctx, sent)
    expect_error(ctx, contract.CREATE_OP, sent, 413, f"POST of a {OVERSIZED_BODY} byte body", also=(400,))


def _post_observed(ctx: Context, sent: Sent) -> None:
    ctx.observe(contract.CREATE_OP, sent)
    if 200 <= sent.status < 300:
        ctx.exports_created += 1
