"""Findings, reproductions and the tally of one run (thread-safe: Schemathesis runs in a worker thread)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from questionnaire_exports_client.redact import Redactor

from .rules import RULES, Outcome, Rule

BODY_EXCERPT = 500


@dataclass(frozen=True)
class Exchange:
    """A redacted reproduction of one HTTP exchange."""

    method: str
    url: str
    request_body: str | None
    status: int | None
    content_type: str | None
    body: str
    entry: int | None = None  # the HAR entry (or proxied exchange) it reproduces; None for `run`'s own
    at: str | None = None  # when that entry was sent, UTC ISO 8601

    def request_dict(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "body": self.request_body}

    def response_dict(self) -> dict[str, Any]:
        return {"status": self.status, "contentType": self.content_type, "body": self.body}


def exchange_of(
    redactor: Redactor,
    method: str,
    url: str,
    request_body: bytes | None,
    status: int,
    content_type: str | None,
    body: bytes,
    *,
    size: int,
    download: bool = False,
    entry: int | None = None,
    at: str | None = None,
) -> Exchange:
    """The redacted reproduction of an answer: a text excerpt of textual bodies, a byte count otherwise."""
    textual = content_type is not None and ("text" in content_type or "json" in content_type)
    if textual and not download:
        shown = redactor.text(body[:BODY_EXCERPT].decode("utf-8", errors="replace"))
    else:
        shown = f"<{size} bytes>"
    return Exchange(
        method=method,
        url=redactor.url(url),
        request_body=redactor.text(request_body[:BODY_EXCERPT].decode("utf-8", errors="replace"))
        if request_body
        else None,
        status=status,
        content_type=content_type,
        body=shown,
        entry=entry,
        at=at,
    )


@dataclass(frozen=True)
class Finding:
    rule: str
    operation: str
    message: str
    request: dict[str, Any]
    response: dict[str, Any]
    entry: int | None = None  # the HAR entry it points at (traffic checks); None for `run`
    at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "operation": self.operation,
            "message": self.message,
            "request": self.request,
            "response": self.response,
        }
        if self.entry is not None:
            data["entry"] = self.entry
            data["at"] = self.at
        return data

    def where(self) -> str:
        return where(self.entry, self.at)


def where(entry: int | None, at: str | None) -> str:
    """`` (entry 7, 12:00:01Z)`` for a finding on recorded traffic, empty for `run`'s own exchanges."""
    if entry is None:
        return ""
    clock = f", {at[11:19]}Z" if at and len(at) >= 19 else ""
    return f" (entry {entry}{clock})"


@dataclass
class RuleResult:
    rule: Rule
    outcome: Outcome
    requests: int  # requests this rule's own steps sent
    findings: list[Finding]
    checks: int = 0  # responses (or deliveries) the rule evaluated, its own and other steps' alike


@dataclass
class Report:
    """The verdict of one run; serialised by the report writers."""

    target: str
    profile: str
    seed: int
    results: list[RuleResult]
    requests: int
    elapsed: float
    notes: list[str] = field(default_factory=list)
    requests_by_rule: dict[str, int] = field(default_factory=dict)
    error: str | None = None  # the one line when the run could not give a verdict (exit 2)
    coverage: dict[str, Any] = field(default_factory=dict)
    started_at: str = ""  # UTC, ISO 8601

    @property
    def findings(self) -> list[Finding]:
        return [finding for result in self.results for finding in result.findings]

    @property
    def conforming(self) -> bool | None:
        """True or False; None when the run could not give a verdict."""
        if self.error is not None:
            return None
        return not any(result.outcome is Outcome.FAILED for result in self.results)


class Tally:
    """Collects findings, which rules were exercised and how many requests each rule spent."""

    def __init__(self, rules: tuple[Rule, ...] = RULES) -> None:
        self.rules = rules
        self.lock = self._lock = threading.Lock()
        self._findings: list[Finding] = []
        self._seen: set[tuple[str, str, str]] = set()
        self._exercised: set[str] = set()
        self.checks: Counter[str] = Counter()
        self.responses: Counter[tuple[str, str]] = Counter()  # (operation id, status) observed
        self.variants: Counter[str] = Counter()
        self.formats: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        """A note for the report, once however often it is made."""
        with self._lock:
            if text not in self.notes:
                self.notes.append(text)

    def exercise(self, rule: str) -> None:
        """The rule evaluated one more response (or delivery)."""
        with self._lock:
            self._exercised.add(rule)
            self.checks[rule] += 1

    def count(self, rule: str, n: int = 1) -> None:
        with self._lock:
            self.requests[rule] += n

    def fail(self, rule: str, operation: str, message: str, exchange: Exchange | None) -> bool:
        """Record a finding once per (rule, operation, message); True when it is new."""
        key = (rule, operation, message)
        with self._lock:
            self._exercised.add(rule)
            if key in self._seen:
                return False
            self._seen.add(key)
            self._findings.append(
                Finding(
                    rule=rule,
                    operation=operation,
                    message=message,
                    request=exchange.request_dict() if exchange else {},
                    response=exchange.response_dict() if exchange else {},
                    entry=exchange.entry if exchange else None,
                    at=exchange.at if exchange else None,
                )
            )
            return True

    def failed_rules(self) -> set[str]:
        with self._lock:
            return {finding.rule for finding in self._findings}

    def results(self) -> list[RuleResult]:
        with self._lock:
            out = []
            for rule in self.rules:
                findings = [f for f in self._findings if f.rule == rule.id]
                if findings:
                    outcome = Outcome.FAILED
                elif rule.id in self._exercised:
                    outcome = Outcome.PASSED
                else:
                    outcome = Outcome.NOT_EXERCISED
                out.append(RuleResult(rule, outcome, self.requests[rule.id], findings, self.checks[rule.id]))
            return out
