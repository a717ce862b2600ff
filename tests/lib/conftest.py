"""Fixtures for the helper tests: a scripted API behind ``httpx.MockTransport`` and a fake clock.

Response bodies are the spec's own examples (read through ``contract``), so the tests follow the spec.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from questionnaire_exports_client import AuthenticatedClient

from contract import example_value

TOKEN = "tok-SECRET-7f3a9c"
BASE_URL = "https://api.test/v1"
EXPORTS_PATH = "/v1/customer-trust/questionnaires/exports"


def spec_example(name: str) -> dict[str, Any]:
    """A deep copy of ``components/examples/<name>/value``."""
    return dict(example_value(name))


def problem(status: int) -> dict[str, Any]:
    """An RFC 9457 body for ``status``, from the spec's examples where it has one."""
    names = {
        400: "ProblemBadRequest",
        401: "ProblemUnauthorized",
        404: "ProblemExportNotFound",
        429: "ProblemTooManyRequests",
    }
    if status in names:
        return spec_example(names[status])
    return {"title": "Service Unavailable", "status": status}


@dataclass
class FakeTime:
    """A monotonic clock that only moves when someone sleeps (or a request costs time)."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


@dataclass
class ScriptedApi:
    """Answers requests from a script, one reply per request, and records what it saw and when."""

    time: FakeTime
    script: list[Reply] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    request_cost: float = 0.0

    def add(self, *replies: Reply) -> None:
        self.script.extend(replies)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.times.append(self.time.now)
        self.time.now += self.request_cost
        assert self.script, f"unexpected extra request {request.method} {request.url.path}"
        reply = self.script.pop(0)
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return reply(request)

    def client(self, **kwargs: Any) -> AuthenticatedClient:
        transport = httpx.MockTransport(self.handler)
        return AuthenticatedClient(
            base_url=BASE_URL, token=TOKEN, httpx_args={"transport": transport}, **kwargs
        )


def export_body(variant: str, **changes: Any) -> dict[str, Any]:
    """The spec's example of ``pending``/``completed``/``failed``, with ``changes`` applied."""
    name = {"pending": "ExportPending", "completed": "ExportCompleted", "failed": "ExportFailed"}[variant]
    body = spec_example(name)
    body.update(changes)
    return body


def ok(variant: str, **changes: Any) -> httpx.Response:
    return httpx.Response(200, json=export_body(variant, **changes))


def fail(status: int, retry_after: str | None = None) -> httpx.Response:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return httpx.Response(
        status, json=problem(status), headers={**headers, "content-type": "application/problem+json"}
    )


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def api(fake_time: FakeTime) -> Iterator[ScriptedApi]:
    scripted = ScriptedApi(fake_time)
    yield scripted
    assert not scripted.script, f"{len(scripted.script)} scripted replies were not used"
