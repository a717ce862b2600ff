"""One conformance run: probe and preflight, lifecycle (with time and link), errors/auth, then Schemathesis.

Why this order: the probe and preflight fail fast (exit 2, with a hint) on an unreachable or misconfigured
target or a rejected token; the hand-chosen requests come first so the quick profile gives a verdict on
every rule within budget, and Schemathesis gets what is left. A report is produced whatever happens.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from questionnaire_exports_client.redact import Redactor

import contract

from . import coverage, errors_auth, lifecycle, oauth_checks, preflight, st_engine
from .bounded_http import Fetched
from .config import RunConfig
from .context import Context, Progress
from .model import Report, Tally
from .oauth import MintedTokens
from .rules import SCHEMA
from .transport import (
    AnswerTimedOut,
    BudgetExhausted,
    CannotRun,
    DeadlineExceeded,
    StopRun,
    Target,
    TargetUnreachable,
    TokenUnavailable,
)

__all__ = ["CannotRun", "run_suite"]


def _steps(ctx: Context, tokens: MintedTokens | None) -> bool:
    """The rules' own steps and Schemathesis; True when they stopped early."""
    config, target, tally, progress = ctx.config, ctx.target, ctx.tally, ctx.progress
    try:
        if tokens is not None:
            tokens.start()
        probed = errors_auth.probe(ctx)
    except StopRun as exc:
        raise CannotRun(str(exc)) from exc
    if probed.status == 401:
        raise CannotRun(
            "the token was rejected up front (401 on the first request); check the token variable"
            if tokens is None
            else "the API rejected the minted token (401 on the first request); is --token-url the "
            "token endpoint of this API?"
        )
    try:
        preflight.check_probe(ctx, probed)
        progress("lifecycle, time, link, client, schema")
        lifecycle.run_lifecycle(ctx)
        progress("errors and auth")
        known = (
            ctx.created_ids[0] if ctx.created_ids else (config.export_ids[0] if config.export_ids else None)
        )
        errors_auth.run_errors_auth(ctx, probed, known)
        if tokens is not None:
            oauth_checks.run_token_checks(ctx, tokens)
        if config.schemathesis:
            allotment = (
                int(target.remaining() * config.st_share) if config.profile == "quick" else target.remaining()
            ) - oauth_checks.requests_after_schemathesis(tokens)
            progress(f"schemathesis ({', '.join(config.st_phases)}; up to {allotment} requests)")
            st_engine.run_schemathesis(ctx, allotment)
        if tokens is not None:
            oauth_checks.expired_token(ctx, tokens)
    except (BudgetExhausted, DeadlineExceeded, TokenUnavailable) as exc:
        tally.note(f"stopped early: {exc}")
        progress(f"  stopped early: {exc}")
        if tokens is not None and not tokens.held:
            tally.note("expired-token check not exercised: the run stopped early")
        return True
    except AnswerTimedOut as exc:
        ctx.fail(SCHEMA, contract.GET_OP, f"no answer in time: {exc}", None)
        tally.note(f"stopped early: {exc}")
        return True
    except TargetUnreachable as exc:
        raise CannotRun(f"target stopped answering: {exc}") from exc
    return False


def run_suite(
    config: RunConfig,
    progress: Progress,
    redactor: Redactor | None = None,
    *,
    on_exchange: Callable[[httpx.Request, Fetched, datetime, float], None] | None = None,
) -> Report:
    """Run every rule against `config.base_url`; a report always, with `error` set when no verdict is possible.

    `on_exchange` sees every answered request (`run --har-out` records them)."""
    redactor = redactor or Redactor()
    redactor.add(config.token)
    tally = Tally()
    target = Target(config, tally, redactor)
    target.progress = progress
    target.on_exchange = on_exchange
    ctx = Context(config=config, target=target, tally=tally, redactor=redactor, progress=progress)
    tokens = MintedTokens(ctx, config.oauth) if config.oauth is not None else None
    if tokens is not None:
        target.tokens = tokens
    started = time.monotonic()
    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    error: str | None = None
    progress(
        f"target {redactor.url(config.base_url)} (profile {config.profile}, budget {config.max_requests})"
    )
    try:
        stopped = _steps(ctx, tokens)
        coverage.finish(ctx, stopped)
    except CannotRun as exc:
        error = redactor.text(str(exc))
    except Exception as exc:  # still a report and one line; the message says it is the suite's fault
        error = redactor.text(f"internal error: {type(exc).__name__}: {exc}")[:300]
    finally:
        target.close()
    if tokens is not None:
        tally.note(
            f"{tokens.requests} token request(s) sent (at most {tokens.oauth.max_token_requests} a run)"
        )
    return Report(
        target=redactor.url(config.base_url),
        profile=config.profile,
        seed=config.seed,
        results=tally.results(),
        requests=target.used + target.polls,
        elapsed=time.monotonic() - started,
        notes=list(tally.notes),
        requests_by_rule=dict(tally.requests),
        error=error,
        coverage=coverage.table(ctx),
        started_at=started_at,
    )
