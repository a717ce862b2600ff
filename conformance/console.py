"""Live progress and the summary table on the console (redacted like every other output)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from questionnaire_exports_client.redact import Redactor

from .model import Report


def progress_printer(redactor: Redactor, stream: TextIO | None = None) -> Callable[[str], None]:
    def emit(line: str) -> None:
        out = stream or sys.stdout
        out.write(redactor.text(line) + "\n")
        out.flush()

    return emit


def summary(report: Report) -> str:
    width = max(len(r.rule.id) for r in report.results)
    lines = ["", f"{'rule':<{width}}  {'outcome':<13}  requests  checked  findings"]
    for r in report.results:
        lines.append(
            f"{r.rule.id:<{width}}  {r.outcome.value:<13}  {r.requests:>8}  {r.checks:>7}  {len(r.findings):>8}"
        )
    extra = {k: v for k, v in report.requests_by_rule.items() if k not in {r.rule.id for r in report.results}}
    for bucket, count in sorted(extra.items()):
        lines.append(f"{bucket:<{width}}  {'(engine)':<13}  {count:>8}")
    cov = report.coverage
    if cov:
        lines.append("")
        lines.append("coverage (observed):")
        for row in cov.get("responses", []):
            lines.append(f"  {row['operation']:<52} {row['status']:>4}  {row['observed']:>5}")
        for kind, key, name in (("variant", "status", "variants"), ("format", "format", "formats")):
            for row in cov.get(name, []):
                lines.append(f"  {kind + ' ' + str(row[key]):<52}       {row['observed']:>5}")
    for note in report.notes:
        lines.append(f"note: {note}")
    verdict = "CONFORMING" if report.conforming else "NOT CONFORMING"
    lines.append(
        f"{verdict}: {len(report.findings)} finding(s), {report.requests} requests, {report.elapsed:.1f} s"
    )
    return "\n".join(lines)
