"""`--junit`: one test case per rule, so CI shows each rule's outcome."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from .model import Report
from .redact import Redactor
from .rules import Outcome


def junit_xml(report: Report, redactor: Redactor) -> str:
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
            text = "\n".join(
                f"{f.operation}: {f.message}\n  request: {f.request}\n  response: {f.response}"
                for f in result.findings
            )
            failure = ET.SubElement(
                case, "failure", message=f"{len(result.findings)} finding(s): {result.findings[0].message}"
            )
            failure.text = text
        elif result.outcome is Outcome.NOT_EXERCISED:
            ET.SubElement(case, "skipped", message="not exercised")
        ET.SubElement(case, "system-out").text = f"{result.rule.description} ({result.requests} requests)"
    return redactor.text(ET.tostring(suite, encoding="unicode"))


def write_junit(report: Report, path: Path, redactor: Redactor) -> None:
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n' + junit_xml(report, redactor) + "\n", encoding="utf-8"
    )
