"""HTTP to the target under a request budget, a rate limit, per-request timeouts and a total deadline.

Why one choke point: every safety promise for shared environments (budget, rate, deadline) and every
reproduction (redacted) is enforced here, so no rule can forget it.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx

from .config import RunConfig
from .model import BODY_EXCERPT, Exchange, Tally
from .redact import Redactor

Auth = Literal["token", "none", "wrong"]
WRONG_TOKEN = "conformance-wrong-token-0000"


class StopRun(Exception):
    """The run cannot go on: budget spent, deadline passed, or target unreachable."""


class BudgetExhausted(StopRun):
    pass


class DeadlineExceeded(StopRun):
    pass


class TargetUnreachable(StopRun):
    pass


@dataclass(frozen=True)
class Sent:
    """One answered request: the response, its redacted reproduction and the time it was received."""

    response: httpx.Response
    exchange: Exchange
    received: datetime

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def media_type(self) -> str:
        return str(self.response.headers.get("content-type", "")).split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.response.content)
        except ValueError:
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
    """The API under test plus the storage host of its links; counts every request against the budget."""

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
        timeout = httpx.Timeout(config.request_timeout)
        self._api = httpx.Client(
            base_url=config.base_url.rstrip("/"), timeout=timeout, follow_redirects=False
        )
        # The storage client never carries the API token: a pre-signed link must work without it.
        self._storage = httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=5)

    def close(self) -> None:
        self._api.close()
        self._storage.close()

    def remaining(self) -> int:
        with self._lock:
            return max(0, self.config.max_requests - self.used)

    def remaining_time(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def reserve(self, rule: str, *, poll: bool = False, n: int = 1) -> None:
        """Take `n` requests from the budget (polls have their own cap), or stop the run."""
        if time.monotonic() > self.deadline:
            raise DeadlineExceeded(f"total deadline of {self.config.deadline:g} s passed")
        with self._lock:
            if poll:
                if self.polls >= self.config.max_polls:
                    raise BudgetExhausted(f"poll budget of {self.config.max_polls} requests spent")
                self.polls += n
            else:
                if self.used + n > self.config.max_requests:
                    raise BudgetExhausted(f"request budget of {self.config.max_requests} spent")
                self.used += n
        self.tally.count(rule, n)

    def account(self, bucket: str, n: int) -> None:
        """Count requests another engine already sent (Schemathesis) against the budget."""
        with self._lock:
            self.used += n
        self.tally.count(bucket, n)

    def _headers(self, auth: Auth) -> dict[str, str]:
        if auth == "token":
            return {"Authorization": f"Bearer {self.config.token}"}
        if auth == "wrong":
            return {"Authorization": f"Bearer {WRONG_TOKEN}"}
        return {}

    def api(
        self,
        rule: str,
        method: str,
        path: str,
        *,
        auth: Auth = "token",
        json_body: Any = None,
        content: bytes | None = None,
        poll: bool = False,
    ) -> Sent:
        """Send one API request; `path` is relative to the base URL."""
        self.reserve(rule, poll=poll)
        self.limiter.wait(self.deadline)
        headers = self._headers(auth)
        if json_body is not None:
            content = json.dumps(json_body).encode()
        if content is not None:
            headers["Content-Type"] = "application/json"
        url = self.config.base_url.rstrip("/") + path
        try:
            response = self._api.request(method, url, content=content, headers=headers)
        except httpx.TimeoutException as exc:
            raise TargetUnreachable(
                f"{method} {self.redactor.url(url)} got no answer within {self.config.request_timeout:g} s"
            ) from exc
        except httpx.HTTPError as exc:
            raise TargetUnreachable(
                f"{method} {self.redactor.url(url)} failed: {type(exc).__name__}"
            ) from exc
        return self._sent(method, url, content, response)

    def download(self, rule: str, url: str) -> Sent | str:
        """GET a download link without any API credentials; a string says why it could not be fetched."""
        self.reserve(rule)
        self.limiter.wait(self.deadline)
        try:
            response = self._storage.get(url)
        except httpx.HTTPError as exc:
            return f"download failed: {type(exc).__name__}"
        return self._sent("GET", url, None, response)

    def _sent(self, method: str, url: str, content: bytes | None, response: httpx.Response) -> Sent:
        red = self.redactor
        body = response.content[:BODY_EXCERPT].decode("utf-8", errors="replace")
        exchange = Exchange(
            method=method,
            url=red.url(url),
            request_body=red.text(content.decode("utf-8", errors="replace")) if content else None,
            status=response.status_code,
            content_type=response.headers.get("content-type"),
            body=red.text(body)
            if "text" in response.headers.get("content-type", "")
            or "json" in response.headers.get("content-type", "")
            else f"<{len(response.content)} bytes>",
        )
        return Sent(response=response, exchange=exchange, received=datetime.now(UTC))
