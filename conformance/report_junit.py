"""`--junit`: one test case per rule, so CI shows each rule's outcome; one error case when it could not run."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from questionnaire_exports_client.redact import Redactor

from .model import Finding, Report
from .rules import Outcome


def _exchange_text(finding: Finding) -> str:
    """Request and response as readable lines, not Python reprs."""
    lines = [f"{finding.operation}{finding.where()}: {finding.message}"]
    request: dict[str, Any] = finding.request
    response: dict[str, Any] = finding.response
    if request:
        lines.append(f"  request:  {request.get('method')} {request.get('url')}")
        if request.get("body"):
            lines.append(f"            {request['body']}")
    if response:
        lines.append(f"  response: {response.get('status')} {response.get('contentType') or ''}".rstrip())
        if response.get("body"):
            lines.append(f"            {response['body']}")
    return "\n".join(lines)


def junit_xml(report: Report, redactor: Redactor) -> str:
    if report.error is not None:
        suite = ET.Element("testsuite", name="conformance", tests="1", failures="0", errors="1", skipped="0")
        case = ET.SubElement(suite, "testcase", classname="conformance", name="run")
        ET.SubElement(case, "error", message=report.error).text = report.error
        return redactor.text(ET.tostring(suite, encoding="unicode"))
    failures = sum(r.outcome is Outcome.FAILED for r in report.results)
    skipped = sum(r.outcome is Outcome.NOT_EXERCISED for r in report.results)
    suite = ET.Element(
        "testsuite",
        name="conformance",
        tests=str(len(report.results)),
        failures=str(failures),
        skipped=str(skipped),
        time=f"{report.elapsed:.3f}",
    )
    for result in report.results:
        case = ET.SubElement(suite, "testcase", classname="conformance", name=result.rule.id)
        if result.outcome is Outcome.FAILED:
            failure = ET.SubElement(
                case, "failure", message=f"{len(result.findings)} finding(s): {result.findings[0].message}"
            )
            failure.text = "\n\n".join(_exchange_text(f) for f in result.findings)
        elif result.outcome is Outcome.NOT_EXERCISED:
            ET.SubElement(case, "skipped", message="not exercised")
        ET.SubElement(
            case, "system-out"
        ).text = f"{result.rule.description} ({result.requests} requests, {result.checks} checked)"
    return redactor.text(ET.tostring(suite, encoding="unicode"))


def write_junit(report: Report, path: Path, redactor: Redactor) -> None:
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n' + junit_xml(report, redactor) + "\n", encoding="utf-8"
    )
