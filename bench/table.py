"""The one table ``make bench`` prints: benchmark, measured, baseline, ratio, target, met.

Why a fixed row list per part: a part that cannot run (its dependency has not landed, a server would
not start) still prints each of its rows as ``not run: <why>``, so a missing figure is never silent.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

_OPS: dict[str, Callable[[float, float], bool]] = {"<=": operator.le, ">=": operator.ge, "==": operator.eq}


@dataclass(frozen=True)
class Target:
    """A bound on a ratio, such as ``<= 2.0``."""

    op: str
    value: float

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"target operator must be one of {', '.join(_OPS)}, got {self.op!r}")

    def met(self, ratio: float) -> bool:
        return _OPS[self.op](ratio, self.value)

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"


@dataclass(frozen=True)
class Row:
    """One benchmark: what was measured, against which baseline, and whether the ratio meets its target."""

    name: str
    measured: str
    baseline: str
    ratio: float | None
    target: Target | None

    @property
    def met(self) -> str:
        """``yes``/``no`` against the target; ``n/a`` for information rows and rows that did not run."""
        if self.target is None or self.ratio is None:
            return "n/a"
        return "yes" if self.target.met(self.ratio) else "no"

    def cells(self) -> list[str]:
        ratio = "-" if self.ratio is None else f"{self.ratio:.3g}"
        return [self.name, self.measured, self.baseline, ratio, str(self.target or "-"), self.met]

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["target"] = str(self.target) if self.target else None
        data["met"] = self.met
        return data


def measured_row(
    name: str, measured: float, baseline: float, show: Callable[[float], str], target: Target | None
) -> Row:
    """A row whose ratio is ``measured / baseline``, both shown with ``show``."""
    if baseline <= 0:
        raise ValueError(f"{name}: baseline must be positive, got {baseline}")
    return Row(name, show(measured), show(baseline), measured / baseline, target)


def not_run(name: str, why: str, target: Target | None = None) -> Row:
    """A row for a benchmark that could not run, saying why."""
    return Row(name, f"not run: {why}", "-", None, target)


HEADERS = ("benchmark", "measured", "baseline", "ratio", "target", "met")


def render(rows: Sequence[Row]) -> str:
    """The table as aligned plain text (also valid Markdown)."""
    body = [list(HEADERS), *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in body) for i in range(len(HEADERS))]
    lines = [
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) + " |" for line in body
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def to_json(rows: Sequence[Row]) -> str:
    return json.dumps([row.as_dict() for row in rows], indent=2, ensure_ascii=False)
