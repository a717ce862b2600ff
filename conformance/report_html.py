"""`--report-html`: a self-contained page (inline CSS, no scripts, no external resources)."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from questionnaire_exports_client.redact import Redactor

from .model import Report
from .report_json import suite_version

_CSS = (
    "body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}"
    ".passed{color:#176b2c}.failed{color:#b00020;font-weight:bold}.not-exercised{color:#777}"
    ".error{color:#b00020;font-weight:bold}.never{color:#b00020}"
    "pre{background:#f5f5f5;padding:.5em;white-space:pre-wrap;word-break:break-all}"
)


def _body(text: Any) -> str:
    """A body excerpt, pretty-printed when it is JSON."""
    if not isinstance(text, str):
        return ""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return text


def _exchange(request: dict[str, Any], response: dict[str, Any]) -> str:
    lines = []
    if request:
        lines.append(f"{request.get('method')} {request.get('url')}")
        if request.get("body"):
            lines.append(_body(request["body"]))
    if response:
        lines.append(f"\n-> {response.get('status')} {response.get('contentType') or ''}")
        if response.get("body"):
            lines.append(_body(response["body"]))
    return escape("\n".join(lines))


def _coverage(report: Report) -> str:
    cov = report.coverage
    if not cov:
        return ""
    rows = "".join(
        f"<tr><td>{escape(r['operation'])}</td><td>{escape(r['status'])}</td>"
        f"<td{' class=never' if not r['observed'] else ''}>{r['observed']}</td></tr>"
        for r in cov.get("responses", [])
    )
    others = "".join(
        f"<tr><td>{kind}</td><td>{escape(str(r[key]))}</td>"
        f"<td{' class=never' if not r['observed'] else ''}>{r['observed']}</td></tr>"
        for kind, key, name in (("variant", "status", "variants"), ("format", "format", "formats"))
        for r in cov.get(name, [])
    )
    return (
        "<h2>Coverage</h2><table><tr><th>operation</th><th>status</th><th>observed</th></tr>"
        f"{rows}</table><p></p><table><tr><th>kind</th><th>value</th><th>observed</th></tr>{others}</table>"
    )


def html_page(report: Report, redactor: Redactor) -> str:
    if report.error is not None:
        verdict = "could not run"
    else:
        verdict = "conforming" if report.conforming else "NOT conforming"
    rows = "".join(
        f"<tr><td>{escape(r.rule.id)}</td><td>{escape(r.rule.description)}</td>"
        f'<td class="{r.outcome.value}">{r.outcome.value}</td><td>{r.requests}</td><td>{r.checks}</td>'
        f"<td>{len(r.findings)}</td></tr>"
        for r in report.results
    )
    findings = "".join(
        f"<h3>[{escape(f.rule)}] {escape(f.operation)}{escape(f.where())}</h3><p>{escape(f.message)}</p>"
        f"<pre>{_exchange(f.request, f.response)}</pre>"
        for f in report.findings
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.notes)
    error = f'<p class="error">Could not run: {escape(report.error)}</p>' if report.error else ""
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Conformance: {escape(verdict)}</title>"
        f"<style>{_CSS}</style></head><body><h1>Conformance: {escape(verdict)}</h1>{error}"
        f"<p>Target {escape(report.target)}, profile {escape(report.profile)}, seed {report.seed}, "
        f"{report.requests} requests, {report.elapsed:.1f} s, started {escape(report.started_at or '-')}, "
        f"suite version {escape(suite_version())}.</p>"
        "<table><tr><th>rule</th><th>description</th><th>outcome</th><th>requests</th><th>checked</th>"
        f"<th>findings</th></tr>{rows}</table>{_coverage(report)}<h2>Findings</h2>{findings or '<p>None.</p>'}"
        f"{'<h2>Notes</h2><ul>' + notes + '</ul>' if notes else ''}</body></html>"
    )
    return redactor.text(page)


def write_html(report: Report, path: Path, redactor: Redactor) -> None:
    path.write_text(html_page(report, redactor), encoding="utf-8")
