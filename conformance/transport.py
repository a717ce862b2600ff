"""HTTP to the target under a request budget, a rate limit, per-request timeouts and a total deadline.

Why one choke point: every safety promise for shared environments (budget, rate, deadline) and every
reproduction (redacted) is enforced here, so no rule can forget it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Protocol
from urllib.parse import urljoin, urlsplit

import httpx
from questionnaire_exports_client.redact import Redactor

import contract

from .bounded_http import NOT_SENT_ERRORS, Fetched, bounded_client, failure_kind, fetch
from .config import RunConfig
from .model import Exchange, Tally, exchange_of
from .rules import SCHEMA

Auth = Literal["token", "none", "wrong"]
WRONG_TOKEN = "conformance-wrong-token-0000"
READ_ONLY_METHODS = frozenset({"GET", "HEAD"})
#: Requests another engine (Schemathesis) sent are attributed to this bucket in the per-rule counts.
ENGINE_BUCKET = "schemathesis"
_STORAGE_REDIRECTS = 5
#: Failures after which the target cannot have received the request (refused headers, no connection).
_NEVER_ARRIVED: tuple[type[Exception], ...] = (*NOT_SENT_ERRORS, httpx.ConnectError, httpx.ConnectTimeout)
_ENGINE_NOT_SENT: tuple[type[Exception], ...] = (*NOT_SENT_ERRORS, httpx.InvalidURL, ValueError, TypeError)


class CannotRun(Exception):
    """The target cannot be tested at all (exit code 2); the message is the one line to print."""


class StopRun(Exception):
    """The run cannot go on: budget spent, deadline passed, or target unreachable."""


class BudgetExhausted(StopRun):
    pass


class DeadlineExceeded(StopRun):
    pass


class TargetUnreachable(StopRun):
    pass


class AnswerTimedOut(TargetUnreachable):
    """No status line within the request's total time limit."""


class TokenUnavailable(StopRun):
    """No bearer token could be had mid-run (refused, rate limited, the cap reached): the run stops early."""


class NotSent(StopRun):
    """A request that never left this process (httpx or h11 refused its headers or URL)."""


class ReadOnlyRefused(NotSent):
    """A request the run's safety settings forbid (a write under --read-only, another host); never sent."""


class TokenSource(Protocol):
    """Where `Target` takes the bearer token of every authenticated request: a static one, or one minted
    from client credentials and refreshed (`conformance/oauth.py`), asked anew for each request."""

    def current(self) -> str: ...

    def is_ours(self, token: str) -> bool:
        """Whether `token` is one this source handed out (a superseded one included)."""
        ...


@dataclass(frozen=True)
class StaticToken:
    """The token of `--token-env`, the same for the whole run."""

    token: str = field(repr=False)

    def current(self) -> str:
        return self.token

    def is_ours(self, token: str) -> bool:
        return token == self.token


@dataclass(frozen=True)
class Sent:
    """One answered request: the response, its redacted reproduction and the time it was received."""

    response: httpx.Response
    exchange: Exchange
    received: datetime
    size: int = 0  # bytes of body received (more than `response.content` holds when cut)
    cut: str | None = None  # why the body is incomplete
    sha256: str | None = None  # of a downloaded file, which is not kept

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def media_type(self) -> str:
        return str(self.response.headers.get("content-type", "")).split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        if self.cut:
            return None
        try:
            return json.loads(self.response.content)
        except (ValueError, RecursionError):  # undecodable or nested too deep: the schema rule says so
            return None

    def date(self) -> datetime:
        """The response's `Date` header, or the local receive time when it is missing or malformed."""
        header = self.response.headers.get("date")
        if header:
            try:
                parsed = parsedate_to_datetime(header)
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
            except (TypeError, ValueError):
                pass
        return self.received


class RateLimiter:
    """At most `per_minute` requests a minute, spaced evenly (thread-safe)."""

    def __init__(self, per_minute: float | None) -> None:
        self._interval = 60.0 / per_minute if per_minute else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self, deadline: float) -> None:
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > deadline:
            raise DeadlineExceeded("the total deadline would pass while waiting for the rate limit")
        time.sleep(max(0.0, start - time.monotonic()))


class Target:
    """The API under test plus the storage host of its links; counts every request against the budget.

    Every request, the suite's own and Schemathesis' (through `engine_send`), goes through `_fetch`:
    budget, rate limit, total time limit, body cap, no redirect followed, a redacted reproduction.
    """

    def __init__(self, config: RunConfig, tally: Tally, redactor: Redactor) -> None:
        self.config = config
        self.tally = tally
        self.redactor = redactor
        self.started = time.monotonic()
        self.deadline = self.started + config.deadline
        self.limiter = RateLimiter(config.rate_limit)
        self.used = 0
        self.polls = 0
        self._lock = threading.Lock()
        self._api = bounded_client(config.request_timeout, base_url=config.base_url.rstrip("/"))
        # The storage client never carries the API token: a pre-signed link must work without it.
        self._storage = bounded_client(config.request_timeout)
        self._oauth = bounded_client(config.request_timeout)  # token requests: the body is the credential
        self.tokens: TokenSource = StaticToken(config.token)
        self._host = urlsplit(config.base_url).netloc.lower()
        self.progress: Callable[[str], None] | None = None  # where new transport findings are printed
        #: Called with every answered request (`run --har-out` records them): request, answer, start, ms.
        self.on_exchange: Callable[[httpx.Request, Fetched, datetime, float], None] | None = None

    def finding(self, label: str, message: str, sent: Sent) -> None:
        message = self.redactor.text(message)
        if self.tally.fail(SCHEMA, label, message, sent.exchange) and self.progress is not None:
            self.progress(f"  FAIL [{SCHEMA}] {label}: {message}")

    def close(self) -> None:
        self._api.close()
        self._storage.close()
        self._oauth.close()

    def remaining(self) -> int:
        with self._lock:
            return max(0, self.config.max_requests - self.used)

    def remaining_time(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def reserve(self, rule: str, *, poll: bool = False, n: int = 1) -> None:
        """Take `n` requests from the budget (polls have their own cap), or stop the run."""
        if time.monotonic() >= self.deadline:
            raise DeadlineExceeded(f"total deadline of {self.config.deadline:g} s passed")
        with self._lock:
            if poll:
                if self.polls + n > self.config.max_polls:
                    raise BudgetExhausted(f"poll budget of {self.config.max_polls} requests spent")
                self.polls += n
            else:
                if self.used + n > self.config.max_requests:
                    raise BudgetExhausted(f"request budget of {self.config.max_requests} spent")
                self.used += n
        self.tally.count(rule, n)

    def _headers(self, auth: Auth, bearer: str | None = None) -> dict[str, str]:
        if bearer is not None:
            return {"Authorization": f"Bearer {bearer}"}
        if auth == "token":
            return {"Authorization": f"Bearer {self.tokens.current()}"}
        if auth == "wrong":
            return {"Authorization": f"Bearer {WRONG_TOKEN}"}
        return {}

    def _limit(self) -> float:
        """This request's total time: the request timeout, or what is left of the deadline if less."""
        return max(0.01, min(self.config.request_timeout, self.remaining_time()))

    def _fetch(
        self,
        client: httpx.Client,
        rule: str,
        method: str,
        url: str,
        *,
        headers: Any,
        content: bytes | None,
        poll: bool = False,
        max_bytes: int | None = None,
        keep: bool = True,
        token_request: bool = False,
    ) -> Fetched:
        if self.config.read_only and method.upper() not in READ_ONLY_METHODS and not token_request:
            raise ReadOnlyRefused(f"{method} refused: --read-only sends only GET and HEAD")
        request = client.build_request(method, url, headers=headers, content=content)
        self.limiter.wait(self.deadline)
        self.reserve(rule, poll=poll)  # counted from here on: the request may reach the target
        started, clock = datetime.now(UTC), time.monotonic()
        try:
            fetched = fetch(
                client,
                request,
                total=self._limit(),
                max_bytes=self.config.max_body_bytes if max_bytes is None else max_bytes,
                keep=keep,
            )
        except _NEVER_ARRIVED:
            self._refund(rule, poll=poll)  # no request line left this process: the target never saw it
            raise
        if self.on_exchange is not None:
            self.on_exchange(request, fetched, started, (time.monotonic() - clock) * 1000)
        return fetched

    def _refund(self, rule: str, *, poll: bool) -> None:
        with self._lock:
            if poll:
                self.polls -= 1
            else:
                self.used -= 1
        self.tally.count(rule, -1)

    def _unreachable(self, method: str, url: str, exc: BaseException) -> TargetUnreachable:
        host = urlsplit(url).netloc or url
        if isinstance(exc, httpx.TimeoutException):
            return AnswerTimedOut(
                f"{method} {self.redactor.url(url)} got no answer within {self._limit_text()}"
            )
        return TargetUnreachable(f"{method} {self.redactor.url(url)}: {failure_kind(exc, host)}")

    def _limit_text(self) -> str:
        return f"{self.config.request_timeout:g} s (--request-timeout, total per request)"

    def api(
        self,
        rule: str,
        method: str,
        path: str,
        *,
        auth: Auth = "token",
        json_body: Any = None,
        content: bytes | None = None,
        content_type: str | None = "application/json",
        poll: bool = False,
        bearer: str | None = None,
    ) -> Sent:
        """Send one API request; `path` is relative to the base URL; `bearer` replaces the current token."""
        headers = self._headers(auth, bearer)
        if json_body is not None:
            content = json.dumps(json_body).encode()
        if content is not None and content_type:
            headers["Content-Type"] = content_type
        url = self.config.base_url.rstrip("/") + path
        try:
            fetched = self._fetch(self._api, rule, method, url, headers=headers, content=content, poll=poll)
        except httpx.HTTPError as exc:
            raise self._unreachable(method, url, exc) from exc
        return self._sent(method, url, content, fetched)

    def download(self, rule: str, url: str) -> Sent | str:
        """GET a download link without any API credentials; a string says why it could not be fetched.

        The file is streamed to a hash and a byte count (at most `--max-download-bytes`), never held whole;
        the storage may redirect (a few hops, each counted), the API never.
        """
        for _hop in range(_STORAGE_REDIRECTS + 1):
            try:
                fetched = self._fetch(
                    self._storage,
                    rule,
                    "GET",
                    url,
                    headers={},
                    content=None,
                    max_bytes=self.config.max_download_bytes,
                    keep=False,
                )
            except httpx.HTTPError as exc:
                return f"download failed: {failure_kind(exc, urlsplit(url).netloc)}"
            location = fetched.response.headers.get("location")
            if not (300 <= fetched.response.status_code < 400 and location):
                return self._sent("GET", url, None, fetched, download=True)
            url = urljoin(url, location)
            if not url.lower().startswith(("http://", "https://")):
                return f"download redirected to a non-http(s) location {self.redactor.url(url)}"
        return f"download redirected more than {_STORAGE_REDIRECTS} times"

    def token_post(
        self, rule: str, url: str, body: bytes, *, max_bytes: int, learn: Callable[[httpx.Response], None]
    ) -> Sent:
        """One token request (`oauth-token.yaml`): counted under `rule`, rate limited, bounded, never
        redirected, allowed under --read-only. `learn` sees the answer before its reproduction is made, so
        a minted token is known to the redactor before anything could show it."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        try:
            fetched = self._fetch(
                self._oauth, rule, "POST", url, headers=headers, content=body, max_bytes=max_bytes,
                token_request=True,
            )  # fmt: skip
        except httpx.HTTPError as exc:
            # from None: the httpx error holds the request, and the request's body is the secret.
            raise self._unreachable("POST", url, exc) from None
        learn(fetched.response)
        return self._sent("POST", url, body, fetched, findings=False)

    def engine_send(
        self, method: str, url: str, headers: list[tuple[bytes, bytes]], content: bytes | None
    ) -> Sent:
        """One request from another engine (Schemathesis): same budget, limits and findings as the suite's."""
        if urlsplit(url).netloc.lower() != self._host:
            raise NotSent(f"request to another host {urlsplit(url).netloc} refused")
        headers = self._current_token(headers)
        try:
            fetched = self._fetch(self._api, ENGINE_BUCKET, method, url, headers=headers, content=content)
        except _ENGINE_NOT_SENT as exc:
            raise NotSent(f"{method} not sent: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise self._unreachable(method, url, exc) from exc
        return self._sent(method, url, content, fetched)

    def _current_token(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """The engine's headers with a token of ours (set when it started) replaced by the current one, so a
        token refreshed mid-run reaches its requests too; any other Authorization is sent as it is."""
        out = []
        for name, value in headers:
            scheme, _, token = value.partition(b" ")
            ours = scheme.lower() == b"bearer" and self.tokens.is_ours(token.decode("latin-1"))
            if name.lower() == b"authorization" and ours:
                value = b"Bearer " + self.tokens.current().encode("latin-1")
            out.append((name, value))
        return out

    def _sent(
        self,
        method: str,
        url: str,
        content: bytes | None,
        fetched: Fetched,
        *,
        download: bool = False,
        findings: bool = True,
    ) -> Sent:
        response = fetched.response
        exchange = exchange_of(
            self.redactor,
            method,
            url,
            content,
            response.status_code,
            response.headers.get("content-type"),
            response.content,
            size=fetched.size,
            download=download,
        )
        sent = Sent(
            response=response,
            exchange=exchange,
            received=datetime.now(UTC),
            size=fetched.size,
            cut=fetched.cut,
            sha256=fetched.sha256,
        )
        if findings and not download:
            self._transport_findings(method, url, sent)
        return sent

    def operation_of(self, method: str, url: str) -> str | None:
        """The spec operation a request to `url` is for, or None."""
        path = urlsplit(url).path
        base = urlsplit(self.config.base_url).path.rstrip("/")
        return contract.operation_for(method, path.removeprefix(base))

    def label(self, method: str, url: str) -> str:
        """`METHOD /path/template` as findings name operations; the redacted URL for other requests."""
        operation_id = self.operation_of(method, url)
        return (
            contract.operations()[operation_id].label
            if operation_id
            else f"{method} {self.redactor.url(url)}"
        )

    def _transport_findings(self, method: str, url: str, sent: Sent) -> None:
        """What no documented response can be: a cut answer, an undocumented redirect (never followed)."""
        path = urlsplit(url).path
        base = urlsplit(self.config.base_url).path.rstrip("/")
        operation_id = contract.operation_for(method, path.removeprefix(base))
        label = (
            contract.operations()[operation_id].label
            if operation_id
            else f"{method} {self.redactor.url(url)}"
        )
        if sent.cut:
            self.finding(label, f"{method} answered {sent.status} but the answer was cut: {sent.cut}", sent)
        status = sent.status
        if 300 <= status < 400:
            documented = contract.documented_statuses(operation_id) if operation_id else []
            if str(status) not in documented:
                host = urlsplit(urljoin(url, sent.response.headers.get("location", ""))).netloc or "(none)"
                message = (
                    f"{method} answered {status}, a redirect the spec does not document (Location host "
                    f"{host}); not followed"
                )
                self.finding(label, message, sent)
