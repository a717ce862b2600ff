"""`--report-json`: the machine-readable verdict (documented in docs/conformance.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .model import Report
from .redact import Redactor


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "conforming": report.conforming,
        "target": report.target,
        "profile": report.profile,
        "seed": report.seed,
        "requests": report.requests,
        "requestsByRule": dict(sorted(report.requests_by_rule.items())),
        "elapsedSeconds": round(report.elapsed, 3),
        "rules": [
            {
                "id": r.rule.id,
                "description": r.rule.description,
                "outcome": r.outcome.value,
                "requests": r.requests,
                "checked": r.checks,
                "findings": len(r.findings),
            }
            for r in report.results
        ],
        "findings": [finding.as_dict() for finding in report.findings],
        "notes": report.notes,
    }


def write_json(report: Report, path: Path, redactor: Redactor) -> None:
    data = redactor.deep(report_dict(report))
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
