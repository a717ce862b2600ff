"""Writing the JSON, JUnit and HTML reports a command was asked for (`run`, `check-traffic`)."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from questionnaire_exports_client.redact import Redactor

from .model import Report


def write_reports(
    report: Report,
    redactor: Redactor,
    out: TextIO,
    *,
    json_path: Path | None,
    junit_path: Path | None,
    html_path: Path | None,
) -> bool:
    """Write each report given a path; False (and one line on `out`) when one cannot be written."""
    from .report_html import write_html
    from .report_json import write_json
    from .report_junit import write_junit

    try:
        if json_path:
            write_json(report, json_path, redactor)
        if junit_path:
            write_junit(report, junit_path, redactor)
        if html_path:
            write_html(report, html_path, redactor)
    except OSError as exc:
        out.write(f"conformance: cannot write report: {exc}\n")
        return False
    return True
