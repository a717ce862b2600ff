"""One conformance run: probe, errors/auth, lifecycle (with time and link), then Schemathesis.

Why this order: the probe fails fast (exit 2) on an unreachable target or a rejected token; the
hand-chosen requests come first so the quick profile gives a verdict on every rule within budget, and
Schemathesis gets what is left.
"""

from __future__ import annotations

import time

from . import errors_auth, lifecycle, st_engine
from .config import RunConfig
from .context import Context, Progress
from .model import Report, Tally
from .redact import Redactor
from .transport import BudgetExhausted, DeadlineExceeded, StopRun, Target, TargetUnreachable


class CannotRun(Exception):
    """The target cannot be tested at all (exit code 2)."""


def run_suite(config: RunConfig, progress: Progress, redactor: Redactor | None = None) -> Report:
    """Run every rule against `config.base_url`; raises CannotRun when no verdict is possible."""
    redactor = redactor or Redactor()
    redactor.add(config.token)
    tally = Tally()
    target = Target(config, tally, redactor)
    ctx = Context(config=config, target=target, tally=tally, redactor=redactor, progress=progress)
    started = time.monotonic()
    try:
        progress(
            f"target {redactor.url(config.base_url)} (profile {config.profile}, budget {config.max_requests})"
        )
        try:
            probed = errors_auth.probe(ctx)
        except StopRun as exc:
            raise CannotRun(str(exc)) from exc
        if probed.status == 401:
            raise CannotRun(
                "the token was rejected up front (401 on the first request); check the token variable"
            )
        try:
            progress("lifecycle, time, link, client, schema")
            lifecycle.run_lifecycle(ctx)
            progress("errors and auth")
            known = (
                ctx.created_ids[0]
                if ctx.created_ids
                else (config.export_ids[0] if config.export_ids else None)
            )
            errors_auth.run_errors_auth(ctx, probed, known)
            if config.schemathesis:
                allotment = (
                    int(target.remaining() * config.st_share)
                    if config.profile == "quick"
                    else target.remaining()
                )
                progress(f"schemathesis ({', '.join(config.st_phases)}; up to {allotment} requests)")
                st_engine.run_schemathesis(ctx, allotment)
        except (BudgetExhausted, DeadlineExceeded) as exc:
            tally.notes.append(f"stopped early: {exc}")
            progress(f"  stopped early: {exc}")
        except TargetUnreachable as exc:
            raise CannotRun(f"target stopped answering: {exc}") from exc
    finally:
        target.close()
    return Report(
        target=redactor.url(config.base_url),
        profile=config.profile,
        seed=config.seed,
        results=tally.results(),
        requests=target.used + target.polls,
        elapsed=time.monotonic() - started,
        notes=list(tally.notes),
        requests_by_rule=dict(tally.requests),
    )
