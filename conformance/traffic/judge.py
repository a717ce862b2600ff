"""The traffic judge: exchanges someone else sent, through the same rules as `run`, then one report.

Per exchange: the per-response rules (`Rules.observe`: schema by status variant, client, time against the
response's `Date`), then what holds across the exchanges of one export (`lifecycle`: the create's answer,
the id echoed, creation fields and terminal states never change; `link`: http(s) only, never a shorter-lived
link) and the errors the traffic shows (`errors-auth`: no token yet 2xx, a forbidden request body
accepted, an id answered 404 then 200, problem+json, 5xx).

Why "one finding per fault": traffic repeats. A fault seen in many exchanges is one finding naming its
entries, and an answer a per-response rule already failed is not used by the rules across exchanges, so
one bad body does not also count as a lifecycle change.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
from questionnaire_exports_client.redact import Redactor

import contract
from contract import discriminator

from .. import check_link, coverage
from ..check_schema import validate_body
from ..check_token import check_answer, is_token_request
from ..check_token import label as token_label
from ..config import is_loopback
from ..context import Rules
from ..errors_auth import check_problem_media
from ..lifecycle import (
    Observation,
    check_create_answer,
    check_stable,
    check_unchanged,
    observed_export,
)
from ..model import Finding, Report, Tally, where
from ..rules import ERRORS_AUTH, LINK, RULES, TIME
from ..transport import Sent
from .har import header
from .recorded import Recorded
from .sent import to_sent

#: Exports (and unknown ids) remembered across exchanges; the oldest is forgotten beyond this.
MAX_TRACKED = 100_000
#: Distinct credentials seen in the traffic that are redacted from every output.
MAX_SECRETS = 256
#: Entries a repeated finding lists by number (the count says how many there were).
LISTED_ENTRIES = 8
_PENDING_TOKENLESS = 1000

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_EXPORT_ID = re.compile(r"\bexport \S+")
_DIGITS = re.compile(r"\S*\d\S*")


@dataclass(frozen=True)
class TrafficConfig:
    base_url: str | None = None  # API base (ends in /v1); None = infer from the traffic's API paths
    expiry_policy: str = "rolling"
    clock_skew: float = 5.0
    link_lifetime_hours: float = 24.0


@dataclass(frozen=True)
class _BaseConfig:
    """What the rules read (`RuleConfig`) for the exchanges of one API base."""

    clock_skew: float
    expiry_policy: str
    link_lifetime_hours: float
    plain_http_loopback: bool


@dataclass(frozen=True)
class Located:
    """Where an entry falls in the API: its base, its operation (None: a method the path does not
    document) and the path parameters."""

    base: str
    operation_id: str | None
    params: dict[str, str]


def _match(segments: list[str], template: list[str]) -> dict[str, str] | None:
    if len(segments) != len(template):
        return None
    params = {}
    for part, want in zip(segments, template, strict=True):
        if want.startswith("{"):
            if not part:
                return None
            params[want.strip("{}")] = unquote(part)
        elif part != want:
            return None
    return params


def locate(method: str, url: str, base_url: str | None) -> Located | None:
    """The API base, operation and parameters of a request, or None when it is outside the API's paths.

    Without `base_url` the base is inferred: the longest prefix before a spec operation's path.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
    segments = parts.path.strip("/").split("/")
    prefix_of: Callable[[int], str | None]
    if base_url is not None:
        base = urlsplit(base_url.rstrip("/"))
        if f"{base.scheme.lower()}://{base.netloc.lower()}" != origin:
            return None
        fixed = [part for part in base.path.strip("/").split("/") if part]
        if segments[: len(fixed)] != fixed:
            return None

        def prefix_of(n: int) -> str | None:
            return base.path.rstrip("/") if n == len(fixed) else None
    else:

        def prefix_of(n: int) -> str | None:
            return "/" + "/".join(segments[:n]) if n else ""

    best: tuple[bool, int, Located] | None = None
    for op in contract.operations().values():
        template = op.path.strip("/").split("/")
        start = len(segments) - len(template)
        prefix = prefix_of(start) if start >= 0 else None
        params = _match(segments[start:], template) if prefix is not None else None
        if prefix is None or params is None:
            continue
        same_method = op.method == method.upper()
        found = Located(origin + prefix, op.operation_id if same_method else None, params)
        rank = (same_method, start, found)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best is not None else None


@dataclass
class _Export:
    created: dict[str, Any] | None = None  # the create's answer, or the first answer seen
    terminal: Observation | None = None  # the first terminal answer
    terminal_end: datetime | None = None  # when that answer had arrived
    linked: dict[str, Any] | None = None  # the last answer with a link
    linked_end: datetime | None = None


@dataclass
class _Group:
    """One finding and every entry that showed it again."""

    entries: list[int] = field(default_factory=list)
    count: int = 1

    def add(self, entry: int | None) -> None:
        self.count += 1
        if entry is not None and len(self.entries) < LISTED_ENTRIES:
            self.entries.append(entry)


@dataclass
class _Judged(Rules):
    """The rules for one API base; their findings go through the judge (grouped, pointed at entries)."""

    record: Callable[[str, str, str, Sent | None], None]

    def fail(self, rule: str, operation_id: str, message: str, sent: Sent | None) -> None:
        self.record(rule, operation_id, message, sent)


def _completion_names() -> re.Pattern[str]:
    names = {name for status in contract.terminal_statuses() for name in contract.completion_fields(status)}
    return re.compile(r"\b(" + "|".join(sorted(names)) + r")\b")


class TrafficJudge:
    """Judges exchanges one at a time (thread-safe), with the same rules as `run`, then reports."""

    def __init__(self, config: TrafficConfig, redactor: Redactor, progress: Callable[[str], None]) -> None:
        self.config = config
        self.redactor = redactor
        self.progress = progress
        self.tally = Tally(RULES)
        self._lock = threading.RLock()
        self._rules: dict[str, _Judged] = {}
        self._exports: dict[tuple[str, str], _Export] = {}
        self._missing: dict[
            tuple[str, str], int
        ] = {}  # (base, id) -> entry of a 404 not followed by a create
        self._groups: dict[tuple[str, str], _Group] = {}
        self._group_of: dict[tuple[str, str, str], _Group] = {}  # (rule, operation, message) of a finding
        self._current: Sent | None = None
        self._flagged: set[str] = set()  # rules that failed the exchange being judged
        self._saw_credentials = False
        self._tokenless: list[tuple[_Judged, str, str, Sent]] = []
        self._secrets = 0
        self._api = 0
        self._ignored = 0
        self._tokens = 0  # token endpoint exchanges judged
        self._cut = 0
        self._undocumented: Counter[str] = Counter()
        self._bases: list[str] = []
        self._first: str | None = None
        prop, mapping = discriminator()
        self._prop, self._variants = prop, mapping
        self._shapes = (re.compile(rf"\b{re.escape(prop)}=\S+"), _completion_names())

    @property
    def api_exchanges(self) -> int:
        with self._lock:
            return self._api

    @property
    def bases(self) -> list[str]:
        """The API bases judged, redacted, in the order first seen."""
        with self._lock:
            return list(self._bases)

    def _rules_for(self, base: str) -> _Judged:
        rules = self._rules.get(base)
        if rules is None:
            config = self.config
            rules = _Judged(
                config=_BaseConfig(
                    clock_skew=config.clock_skew,
                    expiry_policy=config.expiry_policy,
                    link_lifetime_hours=config.link_lifetime_hours,
                    plain_http_loopback=is_loopback(base) and base.startswith("http://"),
                ),
                tally=self.tally,
                redactor=self.redactor,
                progress=self.progress,
                record=self._fail,
            )
            self._rules[base] = rules
            if base:
                self._bases.append(self.redactor.url(base))
        return rules

    # -- findings ---------------------------------------------------------------------------------

    def _shape(self, message: str) -> str:
        """The message without what differs from one exchange to the next (values, ids, times, variant)."""
        tag, completion = self._shapes
        text = _QUOTED.sub("'*'", message)
        text = tag.sub(f"{self._prop}=*", text)
        text = completion.sub("*", text)
        text = _EXPORT_ID.sub("export *", text)
        return _DIGITS.sub("#", text)

    def _fail(self, rule: str, operation_id: str, message: str, sent: Sent | None) -> None:
        sent = sent or self._current
        operation = (
            contract.operations()[operation_id].label
            if operation_id in contract.operations()
            else operation_id
        )
        message = self.redactor.text(message)
        self._flagged.add(rule)
        entry = sent.exchange.entry if sent else None
        key = (rule, self._shape(message))
        group = self._groups.get(key)
        if group is not None:
            group.add(entry)
            self.tally.exercise(rule)
            return
        if self.tally.fail(rule, operation, message, sent.exchange if sent else None):
            group = self._groups[key] = _Group()
            self._group_of[(rule, operation, message)] = group
            at = sent.exchange.at if sent else None
            self.progress(f"  FAIL [{rule}] {operation}{where(entry, at)}: {message}")

    def _annotated(self, finding: Finding) -> Finding:
        group = self._group_of.get((finding.rule, finding.operation, finding.message))
        if group is None or group.count == 1:
            return finding
        listed = [str(finding.entry)] if finding.entry is not None else []
        listed += [str(entry) for entry in group.entries]
        more = ", …" if group.count > len(listed) else ""
        entries = f": entries {', '.join(listed)}{more}" if listed else ""
        return replace(finding, message=f"{finding.message} ({group.count} exchanges{entries})")

    # -- one exchange -----------------------------------------------------------------------------

    def observe(self, recorded: Recorded) -> None:
        """Judge one exchange: per-response rules, then the rules across exchanges; findings -> progress."""
        with self._lock:
            located = locate(recorded.method, recorded.url, self.config.base_url)
            if located is None and is_token_request(recorded.method, recorded.url, self.config.base_url):
                self._token(recorded)
                return
            if located is None:
                self._ignored += 1
                return
            if located.operation_id is None:
                self._undocumented[recorded.method] += 1
                return
            self._remember_credentials(recorded)
            sent = to_sent(recorded, self.redactor)
            self._api += 1
            if self._first is None or (sent.exchange.at or "") < self._first:
                self._first = sent.exchange.at
            rules = self._rules_for(located.base)
            self._current, self._flagged = sent, set()
            try:
                rules.observe(located.operation_id, sent)
                if sent.cut:
                    self._cut += 1
                    return
                self._errors(rules, located.operation_id, recorded, sent)
                if located.operation_id == contract.CREATE_OP:
                    self._create(rules, located, recorded, sent)
                elif located.operation_id == contract.GET_OP:
                    self._get(rules, located, recorded, sent)
            finally:
                self._current = None

    def _token(self, recorded: Recorded) -> None:
        """A token endpoint exchange, judged against `oauth-token.yaml` as `run` judges its own (`errors-auth`);
        its credentials are hidden by the redaction module's JSON-member rule."""
        sent = to_sent(recorded, self.redactor)
        self._tokens += 1
        self.tally.exercise(ERRORS_AUTH)
        self._current, self._flagged = sent, set()
        try:
            for message in check_answer(sent, recorded.url):
                self._fail(ERRORS_AUTH, token_label(), message, sent)
        finally:
            self._current = None

    def _remember_credentials(self, recorded: Recorded) -> None:
        """Every credential the traffic carries is redacted from every output (a HAR holds them in clear)."""
        for name in ("authorization", "proxy-authorization"):
            value = header(recorded.request_headers, name)
            if value is None:
                continue
            credentials = value.partition(" ")[2].strip() or value.strip()
            if credentials and self._secrets < MAX_SECRETS:
                self.redactor.add(credentials)
                self._secrets += 1

    def _clean(self) -> bool:
        """No rule but `time` failed this exchange: its body may be used by the rules across exchanges."""
        return not self._flagged - {TIME}

    def _errors(self, rules: _Judged, operation_id: str, recorded: Recorded, sent: Sent) -> None:
        status = sent.status
        if header(recorded.request_headers, "authorization") is None:
            if 200 <= status < 300:
                self._tokenless_success(rules, operation_id, recorded.method, sent)
            elif status == 401:
                self.tally.exercise(ERRORS_AUTH)
        elif not self._saw_credentials:
            self._saw_credentials = True  # the capture keeps credentials: judge the answers held back
            flagged = self._flagged
            for held in self._tokenless:
                self._tokenless_fail(*held)
            self._tokenless.clear()
            self._flagged = flagged
        if 400 <= status < 500 and str(status) in contract.documented_statuses(operation_id):
            self.tally.exercise(ERRORS_AUTH)
            check_problem_media(rules, operation_id, sent, "an error")  # one finding for every method

    def _tokenless_success(self, rules: _Judged, operation_id: str, method: str, sent: Sent) -> None:
        """A 2xx to a request without a token; held back until the traffic shows it records credentials
        (a browser's sanitized HAR export drops every `Authorization` header)."""
        if self._saw_credentials:
            self._tokenless_fail(rules, operation_id, method, sent)
        elif len(self._tokenless) < _PENDING_TOKENLESS:
            # Held without its body (a finding shows only the redacted excerpt): a long-running proxy keeps
            # at most this many small records, not this many answers of up to --max-body-bytes.
            light = replace(sent, response=httpx.Response(sent.status, headers=sent.response.headers))
            self._tokenless.append((rules, operation_id, method, light))

    def _tokenless_fail(self, rules: _Judged, operation_id: str, method: str, sent: Sent) -> None:
        rules.fail(
            ERRORS_AUTH,
            operation_id,
            f"{method} without an Authorization header answered {sent.status}, expected 401",
            sent,
        )

    def _forget_oldest(self) -> None:
        for table in (self._exports, self._missing):
            while len(table) > MAX_TRACKED:
                del table[next(iter(table))]

    @staticmethod
    def _request_problem(recorded: Recorded) -> tuple[str | None, Any]:
        """What is wrong with a create request by the spec (None: nothing, or its body was not recorded)
        and its parsed body."""
        if recorded.request_body is None:
            return None, None
        media = (header(recorded.request_headers, "content-type") or "").split(";")[0].strip().lower()
        if media not in contract.request_media_types():
            return f"Content-Type {media or '(none)'}", None
        try:
            body = json.loads(recorded.request_body)
        except (ValueError, RecursionError):
            return "a body that is not JSON", None
        messages = validate_body(body, contract.request_pointer(), contract.request_schema())
        if messages:
            return f"a body the spec forbids ({messages[0]})", body
        return None, body

    def _create(self, rules: _Judged, located: Located, recorded: Recorded, sent: Sent) -> None:
        status = sent.status
        problem, request = self._request_problem(recorded)
        if problem is not None:
            if 200 <= status < 300:
                expected = 400 if problem.startswith("a body") else 415
                rules.fail(
                    ERRORS_AUTH,
                    contract.CREATE_OP,
                    f"POST with {problem} answered {status}, expected {expected}",
                    sent,
                )
            return  # the request was wrong: what its answer says about an export is not judged
        if not 200 <= status < 300:
            return
        requested = request.get("format") if isinstance(request, dict) else None
        body = sent.json()
        export_id = check_create_answer(rules, sent, body, requested if isinstance(requested, str) else None)
        if export_id is None or not isinstance(body, dict):
            return
        key = (located.base, export_id)
        self._missing.pop(key, None)
        if self._clean():
            self._exports[key] = _Export(created=body)
            self._forget_oldest()

    def _get(self, rules: _Judged, located: Located, recorded: Recorded, sent: Sent) -> None:
        if len(located.params) != 1:
            return
        export_id = next(iter(located.params.values()))
        key = (located.base, export_id)
        if sent.status == 404:
            self._missing[key] = recorded.index
            self._forget_oldest()
            return
        body = sent.json()
        if sent.status != 200 or not isinstance(body, dict):
            return
        missing = self._missing.pop(key, None)
        if missing is not None:
            rules.fail(
                ERRORS_AUTH,
                contract.GET_OP,
                f"export {export_id} answered 404 (entry {missing}) and later 200, with no POST creating it "
                "in between",
                sent,
            )
        seen = observed_export(rules, export_id, sent, body)
        if isinstance(body.get(contract.DOWNLOAD_URL), str):
            self.tally.exercise(LINK)
            check_link.check_scheme(rules, body)
        tag = body.get(self._prop)
        if seen is None or not self._clean() or not isinstance(tag, str) or tag not in self._variants:
            return
        # Only a request sent after an earlier answer had arrived is "later" than it: a slow answer may
        # overtake a quicker one sent after it, so overlapping exchanges are not compared for order.
        started, end = recorded.started, recorded.started + timedelta(milliseconds=recorded.time_ms)
        state = self._exports.get(key)
        if state is None:
            state = self._exports[key] = _Export(created=body)
            self._forget_oldest()
        elif state.terminal is not None:
            if state.terminal_end is None or started >= state.terminal_end:
                check_stable(rules, state.terminal, seen)
        elif state.created is not None:
            check_unchanged(rules, export_id, state.created, seen)
        if contract.DOWNLOAD_URL in body:
            if state.linked is not None and (state.linked_end is None or started >= state.linked_end):
                check_link.check_fresh(rules, state.linked, body)
            state.linked, state.linked_end = body, end
        if body[self._prop] in contract.terminal_statuses() and state.terminal is None:
            state.terminal, state.terminal_end = seen, end

    # -- the verdict ------------------------------------------------------------------------------

    def notes(self) -> list[str]:
        """What the traffic held that was not judged, and what it never showed."""
        with self._lock:
            out = []
            if self._bases:
                out.append(f"judged {self._api} API exchange(s) at {', '.join(self._bases)}")
            if self._tokens:
                out.append(f"judged {self._tokens} token endpoint exchange(s) against oauth-token.yaml")
            if self._ignored:
                out.append(f"ignored {self._ignored} entries outside the API's paths")
            if self._undocumented:
                methods = ", ".join(f"{m} x{n}" for m, n in sorted(self._undocumented.items()))
                out.append(
                    f"not judged: requests with a method the spec does not document for the path ({methods})"
                )
            if self._cut:
                out.append(f"not judged: {self._cut} answer(s) whose body the recording does not hold whole")
            if self._tokenless and not self._saw_credentials:
                out.append(
                    f"no request carried an Authorization header (a HAR exported without credentials?): "
                    f"{len(self._tokenless)} answer(s) to requests without one were not judged as unauthenticated"
                )
            return out

    def report(self, target: str, elapsed: float) -> Report:
        """The verdict so far (the proxy may ask more than once): rules, findings with their entries,
        coverage of what the traffic exercised, notes."""
        with self._lock:
            any_rules = self._rules_for("")
            results = self.tally.results()
            for result in results:
                result.findings = [self._annotated(finding) for finding in result.findings]
            first = self._first
            return Report(
                target=target,
                profile="traffic",
                seed=0,
                results=results,
                requests=self._api,
                elapsed=elapsed,
                notes=[*self.tally.notes, *self.notes(), *coverage.gap_notes(any_rules)],
                coverage=coverage.table(any_rules),
                started_at=(first[:19] + "Z") if first else "",
            )
