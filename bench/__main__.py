"""``python -m bench`` (``make bench``): run every part and print one table of ratios.

Exit code 0 whenever the table was printed (a missed target is a finding, reported in the table, not a
crash); 2 on bad usage. A part that fails prints its rows as ``not run: <why>``; messages are scrubbed
of the run's bearer token.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from questionnaire_exports_client.redact import Redactor

from . import generation, machine, parsing, pipeline, server_load, validation, waiting
from .scale import FULL, QUICK, Scale
from .table import Row, not_run, render, to_json

Runner = Callable[[Scale, str], list[Row]]

#: part number -> (row names, runner); every runner takes the scale and the run's bearer token.
PARTS: dict[str, tuple[tuple[str, ...], Runner]] = {
    "1": (parsing.ROWS, lambda scale, token: parsing.run(scale)),
    "2": (validation.ROWS, validation.run),
    "3": (pipeline.ROWS, pipeline.run),
    "4": (waiting.ROWS, lambda scale, token: waiting.run(scale)),
    "5": (server_load.ROWS, server_load.run),
    "6": (generation.ROWS, lambda scale, token: generation.run(scale)),
}


def _why(exc: BaseException, token: str) -> str:
    text = Redactor([token]).text(f"{type(exc).__name__}: {exc}").splitlines()
    first = text[0] if text else type(exc).__name__
    return first if len(first) <= 160 else first[:157] + "..."


def run_parts(parts: Sequence[str], scale: Scale, token: str, progress: TextIO) -> list[Row]:
    """Every row of the chosen parts, in order; a failing part yields its rows as not run."""
    rows: list[Row] = []
    for part in parts:
        names, runner = PARTS[part]
        start = time.monotonic()
        progress.write(f"part {part} ...\n")
        progress.flush()
        try:
            got = runner(scale, token)
        except Exception as exc:  # one broken part must not hide the others' figures
            why = _why(exc, token)
            got = [not_run(name, why) for name in names]
        missing = [name for name in names if name not in {row.name for row in got}]
        rows.extend(got + [not_run(name, "the part produced no such row") for name in missing])
        progress.write(f"part {part} done in {time.monotonic() - start:.1f} s\n")
    return rows


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmarks as ratios against baselines."
    )
    parser.add_argument("--quick", action="store_true", help="tiny bounded form of every part (smoke test)")
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"comma-separated parts (default {','.join(PARTS)})"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the rows as JSON")
    return parser


def main(argv: Sequence[str] | None = None, *, token: str | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown or not parts:
        parser.error(
            f"unknown part(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(PARTS)}"
        )
    token = token or "bench-" + secrets.token_urlsafe(24)
    start = time.monotonic()
    rows = run_parts(parts, QUICK if args.quick else FULL, token, sys.stderr)
    out.write(machine.describe() + "\n\n")
    out.write(render(rows) + "\n\n")
    out.write(
        f"{len(rows)} rows in {time.monotonic() - start:.0f} s; ratio = measured / baseline, both measured in"
        " this run. CPU-bound rows: best of interleaved repeats; HTTP rows: median.\n"
    )
    if args.json:
        args.json.write_text(to_json(rows) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
