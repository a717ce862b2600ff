"""The `time` rule: timestamps ordered and bounded by the response's `Date`; `expiresAt` per policy.

Why a skew: `Date` has whole seconds and clocks drift; the allowance is configurable (`--clock-skew`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import contract
from contract import discriminator


def parse_timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime; None when absent or malformed (the schema rule says why)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _after(moment: datetime, delta: timedelta) -> datetime:
    """`moment + delta`, the end of the calendar when that is beyond it (a `Date` of year 9999)."""
    try:
        return moment + delta
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


def check_times(body: Any, date: datetime, *, skew: float, policy: str, lifetime: timedelta) -> list[str]:
    """Messages for every time promise `body`, answered at `date`, breaks."""
    prop, mapping = discriminator()
    if not isinstance(body, dict) or not isinstance(body.get(prop), str) or body[prop] not in mapping:
        return []
    status = body[prop]
    allowance = timedelta(seconds=skew)
    out = []
    requested = parse_timestamp(body.get(contract.REQUESTED_AT))
    if requested is not None and requested > _after(date, allowance):
        out.append(
            f"{contract.REQUESTED_AT} {body[contract.REQUESTED_AT]} is after the response's Date {date.isoformat()}"
        )
    for name in contract.completion_fields(status):
        moment = parse_timestamp(body.get(name))
        if moment is None:
            continue
        if requested is not None and moment < requested:
            out.append(
                f"status={status}: {name} {body[name]} is before {contract.REQUESTED_AT} {body[contract.REQUESTED_AT]}"
            )
        if moment > _after(date, allowance):
            out.append(
                f"status={status}: {name} {body[name]} is after the response's Date {date.isoformat()}"
            )
    expires = parse_timestamp(body.get(contract.EXPIRES_AT))
    if expires is not None:
        if policy == "rolling":
            expected = _after(date, lifetime)
            if abs(expires - expected) > allowance + timedelta(seconds=1):
                out.append(
                    f"status={status}: {contract.EXPIRES_AT} {body[contract.EXPIRES_AT]} is not {lifetime} after the "
                    f"response's Date {date.isoformat()} (off by {expires - expected})"
                )
        elif not date < expires <= _after(date, lifetime + allowance):
            out.append(
                f"status={status}: {contract.EXPIRES_AT} {body[contract.EXPIRES_AT]} is not within (Date, Date + {lifetime}]"
            )
    return out
