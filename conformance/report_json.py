"""`--report-json`: the machine-readable verdict (documented in docs/conformance.md)."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

from questionnaire_exports_client.redact import Redactor

from .model import Report


def suite_version() -> str:
    try:
        return metadata.version("questionnaire-exports")
    except metadata.PackageNotFoundError:
        return "unknown"


def report_dict(report: Report) -> dict[str, Any]:
    data: dict[str, Any] = {
        "conforming": report.conforming,
        "target": report.target,
        "profile": report.profile,
        "seed": report.seed,
        "suiteVersion": suite_version(),
        "startedAt": report.started_at,
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
        "coverage": report.coverage,
        "notes": report.notes,
    }
    if report.error is not None:
        data["error"] = report.error
    return data


def write_json(report: Report, path: Path, redactor: Redactor) -> None:
    data = redactor.deep(report_dict(report))
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
