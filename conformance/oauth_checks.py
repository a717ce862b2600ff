"""The `errors-auth` checks of a client-credentials run: a wrong secret, a superseded token, an expired token.

Why apart from `errors_auth.py`: they need the token source and spend token requests (the vendor allows 5 a
minute, shared with production), so they run only when the suite mints its own tokens; the revocation check,
which revokes, only with `--check-revocation`; the expiry check only when waiting a token out fits in what is
left of the run's deadline.
"""

from __future__ import annotations

import secrets

import contract

from .check_token import label
from .context import Context
from .errors_auth import expect_error
from .oauth import MintedTokens, token_error_code
from .rules import ERRORS_AUTH

#: The code for an unknown client or a wrong secret.
INVALID_CLIENT = token_error_code("invalid_client")
#: API requests the expired-token check sends after Schemathesis (kept out of its allotment).
EXPIRED_CHECK_REQUESTS = 1


def _unknown_export_path() -> str:
    return contract.operation_path(contract.GET_OP, id=f"conformance-unknown-{secrets.token_hex(6)}")


def requests_after_schemathesis(tokens: MintedTokens | None) -> int:
    """Requests Schemathesis' allotment leaves: the token requests refreshes may still spend (they count in
    the budget) and the expired-token check's GET after it."""
    if tokens is None:
        return 0
    return EXPIRED_CHECK_REQUESTS + max(0, tokens.oauth.max_token_requests - tokens.requests)


def run_token_checks(ctx: Context, tokens: MintedTokens) -> None:
    """The wrong-secret check, and the revocation check when asked for; after the other errors-auth steps."""
    wrong_secret(ctx, tokens)
    if tokens.oauth.check_revocation:
        revocation(ctx, tokens)


def wrong_secret(ctx: Context, tokens: MintedTokens) -> None:
    """A token request with a wrong secret must be refused with `401 invalid_client` (it revokes nothing)."""
    if not tokens.can_request():
        ctx.tally.note("wrong-secret check not exercised: the run's token requests are spent")
        return
    sent_at = tokens.clock()
    sent = tokens.request(f"conformance-wrong-secret-{secrets.token_hex(8)}")
    if sent.status == 429:
        ctx.tally.note("wrong-secret check not exercised: the token endpoint answered 429")
        return
    body = sent.json()
    error = body.get("error") if isinstance(body, dict) else None
    if sent.status != 401 or error != INVALID_CLIENT:
        got = f"{sent.status} {error if isinstance(error, str) else sent.media_type or '(no Content-Type)'}"
        ctx.fail(
            ERRORS_AUTH,
            label(),
            f"a token request with a wrong client secret answered {got}, expected 401 {INVALID_CLIENT}",
            sent,
        )
    if sent.status == 200:  # accepted: the server has just revoked the token the run was using
        tokens.adopt(sent, sent_at)


def revocation(ctx: Context, tokens: MintedTokens) -> None:
    """A newer token revokes the older one at once: GET with the older -> 401, with the newer -> not 401."""
    if not tokens.can_request():
        ctx.tally.note("revocation check not exercised: the run's token requests are spent")
        return
    older, newer = tokens.supersede()
    path = _unknown_export_path()
    sent = ctx.target.api(ERRORS_AUTH, "GET", path, bearer=older)
    ctx.observe(contract.GET_OP, sent)
    expect_error(ctx, contract.GET_OP, sent, 401, "GET with a superseded token (a newer one was minted)")
    sent = ctx.target.api(ERRORS_AUTH, "GET", path, bearer=newer)
    ctx.observe(contract.GET_OP, sent)
    expect_error(ctx, contract.GET_OP, sent, 404, "GET of an unknown export id with the newest token")


def expired_token(ctx: Context, tokens: MintedTokens) -> None:
    """Wait the current token out (refreshing stopped) and GET with it -> 401; the run's last request.

    Only when its remaining lifetime plus `--clock-skew` fits in what is left of the deadline (with one
    request's time to spare); otherwise a note says why it was not exercised.
    """
    minted = tokens.minted
    expires = minted.expires_at() if minted is not None else None
    if minted is None or expires is None:
        ctx.tally.note("expired-token check not exercised: the token answer had no usable expires_in")
        return
    if ctx.target.remaining() < EXPIRED_CHECK_REQUESTS:
        ctx.tally.note("expired-token check not exercised: the request budget is spent")
        return
    wait = max(0.0, expires - tokens.clock()) + ctx.config.clock_skew
    left = ctx.target.remaining_time() - ctx.config.request_timeout
    if wait > left:
        ctx.tally.note(
            f"expired-token check not exercised: tokens last {minted.lifetime} s, longer than the run's "
            f"remaining {max(0.0, left):.0f} s deadline"
        )
        return
    tokens.held = True
    ctx.progress(f"  waiting {wait:.1f} s for the token to expire (--clock-skew included)")
    tokens.sleep(wait)
    sent = ctx.target.api(ERRORS_AUTH, "GET", _unknown_export_path(), bearer=minted.token)
    ctx.observe(contract.GET_OP, sent)
    expect_error(ctx, contract.GET_OP, sent, 401, "GET with an expired token")
