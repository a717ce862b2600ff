"""Coverage: what the run observed, per operation x documented status, status variant and format.

Why: a CONFORMING verdict means little if the `failed` variant or a documented error was never seen; the
report says what was checked, notes what was not, and `--require-coverage` makes it a failure.
"""

from __future__ import annotations

from typing import Any

import contract
from contract import status_variants

from .context import Context, Rules
from .rules import ERRORS_AUTH, LIFECYCLE

#: Documented statuses the suite cannot provoke safely (it would have to flood the target).
UNPROVOKABLE = frozenset({"429"})


def table(ctx: Rules) -> dict[str, Any]:
    """The JSON report's `coverage`: every documented thing with how often it was observed."""
    tally = ctx.tally
    responses = [
        {
            "operation": op.label,
            "status": status,
            "observed": tally.responses[(op.operation_id, status)],
        }
        for op in contract.operations().values()
        for status in contract.documented_statuses(op.operation_id)
    ]
    variants = [{"status": value, "observed": tally.variants[value]} for value in status_variants()]
    formats = [
        {"format": value, "observed": tally.formats[value]} for value in contract.enum_values("ExportFormat")
    ]
    return {"responses": responses, "variants": variants, "formats": formats}


def _required(ctx: Context, operation_id: str, status: str) -> bool:
    """Whether the suite provokes this response itself (so never seeing it is a gap, not luck)."""
    if status in UNPROVOKABLE:
        return False
    return not (ctx.config.read_only and contract.operations()[operation_id].method != "GET")


def gaps(ctx: Rules) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """Documented responses, status variants and formats never observed."""
    cov = table(ctx)
    return (
        [row for row in cov["responses"] if not row["observed"]],
        [row["status"] for row in cov["variants"] if not row["observed"]],
        [row["format"] for row in cov["formats"] if not row["observed"]],
    )


def gap_notes(ctx: Rules) -> list[str]:
    """One note per kind of gap (the report says what was not checked)."""
    missing_responses, missing_variants, missing_formats = gaps(ctx)
    notes = []
    if missing_responses:
        listed = ", ".join(f"{row['operation']} {row['status']}" for row in missing_responses)
        notes.append(f"documented but never observed: {listed}")
    if missing_variants:
        notes.append(f"status variant(s) never observed: {', '.join(missing_variants)}")
    if missing_formats:
        notes.append(f"format(s) never observed: {', '.join(missing_formats)}")
    return notes


def finish(ctx: Context, stopped_early: bool) -> None:
    """Note everything documented but never observed; a failure under --require-coverage."""
    labels = {op.label: op.operation_id for op in contract.operations().values()}
    for note in gap_notes(ctx):
        ctx.tally.note(note)
    missing_responses, missing_variants, missing_formats = gaps(ctx)
    if not ctx.config.require_coverage:
        return
    why = " (the run stopped early)" if stopped_early else ""
    for row in missing_responses:
        operation_id = labels[row["operation"]]
        if _required(ctx, operation_id, row["status"]):
            rule = ERRORS_AUTH if row["status"].startswith(("4", "5")) else LIFECYCLE
            ctx.fail(
                rule,
                operation_id,
                f"documented response {row['status']} never observed (--require-coverage){why}",
                None,
            )
    for value in missing_variants:
        ctx.fail(
            LIFECYCLE,
            contract.GET_OP,
            f"status variant {value} never observed (--require-coverage){why}",
            None,
        )
    for value in missing_formats:
        ctx.fail(LIFECYCLE, contract.GET_OP, f"format {value} never observed (--require-coverage){why}", None)
