"""`--report-html`: a self-contained page (inline CSS, no scripts, no external resources)."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from .model import Report
from .redact import Redactor

_CSS = (
    "body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}"
    ".passed{color:#176b2c}.failed{color:#b00020;font-weight:bold}.not-exercised{color:#777}"
    "pre{background:#f5f5f5;padding:.5em;white-space:pre-wrap;word-break:break-all}"
)


def html_page(report: Report, redactor: Redactor) -> str:
    verdict = "conforming" if report.conforming else "NOT conforming"
    rows = "".join(
        f"<tr><td>{escape(r.rule.id)}</td><td>{escape(r.rule.description)}</td>"
        f'<td class="{r.outcome.value}">{r.outcome.value}</td><td>{r.requests}</td><td>{len(r.findings)}</td></tr>'
        for r in report.results
    )
    findings = "".join(
        f"<h3>[{escape(f.rule)}] {escape(f.operation)}</h3><p>{escape(f.message)}</p>"
        f"<pre>request: {escape(json.dumps(f.request, indent=1))}\nresponse: {escape(json.dumps(f.response, indent=1))}</pre>"
        for f in report.findings
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.notes)
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Conformance: {escape(verdict)}</title>"
        f"<style>{_CSS}</style></head><body><h1>Conformance: {escape(verdict)}</h1>"
        f"<p>Target {escape(report.target)}, profile {escape(report.profile)}, seed {report.seed}, "
        f"{report.requests} requests, {report.elapsed:.1f} s.</p>"
        f"<table><tr><th>rule</th><th>description</th><th>outcome</th><th>requests</th><th>findings</th></tr>"
        f"{rows}</table><h2>Findings</h2>{findings or '<p>None.</p>'}"
        f"{'<h2>Notes</h2><ul>' + notes + '</ul>' if notes else ''}</body></html>"
    )
    return redactor.text(page)


def write_html(report: Report, path: Path, redactor: Redactor) -> None:
    path.write_text(html_page(report, redactor), encoding="utf-8")
