"""The export statuses, read from the spec's status union (``contract``), never spelled out elsewhere.

Each role is found by the shape of its variant, so a renamed status in ``openapi.yaml`` renames it here
and a union the server cannot map fails at import: the initial status has only the fields every variant
shares, the successful one has the download link, the failed one the error message.
"""

from __future__ import annotations

from collections.abc import Callable

import contract

__all__ = ["COMPLETED", "FAILED", "PENDING", "STATUSES", "TAG", "TERMINAL"]


def _one(role: str, predicate: Callable[[contract.Variant], bool]) -> str:
    matches = [status for status, variant in contract.status_variants().items() if predicate(variant)]
    if len(matches) != 1:
        raise LookupError(f"the spec's status union has {len(matches)} variants for the {role} status, not 1")
    return matches[0]


#: The discriminator's property name (``status``).
TAG: str = contract.discriminator()[0]
#: Every status value, in the spec's order.
STATUSES: tuple[str, ...] = tuple(contract.status_variants())
PENDING: str = _one("initial", lambda v: not v.own_fields)
COMPLETED: str = _one("completed", lambda v: "downloadUrl" in v.allowed)
FAILED: str = _one("failed", lambda v: "errorMessage" in v.allowed)
TERMINAL: frozenset[str] = frozenset({COMPLETED, FAILED})
