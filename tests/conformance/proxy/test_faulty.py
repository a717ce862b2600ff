"""Faulty upstreams from the catalogue: the proxy's judge names the fault's rule, while the client receives
exactly what the upstream sent (a tap inside the upstream records its answers byte for byte)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

import contract
from reference_server.serving import serve_in_thread

from ..fake_api import FAILING_QUESTIONNAIRE, OK_QUESTIONNAIRE, TOKEN, FakeApi, FakeConfig, FakeState
from ..test_catalogue import ALSO, CATALOGUE
from .upstreams import PATIENCE, judging

#: One fault per rule the traffic can show (the link rule's download checks need `run`'s own GET).
FAULTS = [
    "status_unknown",
    "completed_missing_expires_at",
    "terminal_regresses",
    "expires_short",
    "link_not_https",
    "error_not_problem_json",
]
_POLLS = 20


@dataclass
class Sent:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass
class Tap:
    """ASGI middleware recording every answer the wrapped app sends, in order."""

    app: Any
    sent: list[Sent] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answer = Sent(0, [], b"")

        async def tapped(message: Any) -> None:
            if message["type"] == "http.response.start":
                answer.status, answer.headers = message["status"], list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                answer.body += message.get("body", b"")
                if not message.get("more_body", False):
                    self.sent.append(answer)
            await send(message)

        await self.app(scope, receive, tapped)


@dataclass
class TappedFake:
    base_url: str
    state: FakeState
    tap: Tap


@pytest.fixture(scope="module")
def tapped() -> Iterator[TappedFake]:
    """The fake API behind a tap, shared by the module; each test switches its fault and clears the tap."""
    state = FakeState(config=FakeConfig())
    tap = Tap(FakeApi(state).app)
    with serve_in_thread(tap, name="tapped-fake", date_header=True) as served:  # type: ignore[arg-type]
        state.base_url = served.origin
        yield TappedFake(served.base_url, state, tap)


@contextlib.contextmanager
def faulty(tapped: TappedFake, fault: str | None) -> Iterator[tuple[str, Tap]]:
    tapped.state.config.fault = fault
    tapped.tap.sent.clear()
    try:
        yield tapped.base_url, tapped.tap
    finally:
        tapped.state.config.fault = None


def client_traffic(base: str) -> list[httpx.Response]:
    """What a client does: create, poll until terminal (and twice more), an unknown id, a failing export."""
    got: list[httpx.Response] = []
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=base, headers=auth, timeout=PATIENCE) as client:
        for questionnaire in (OK_QUESTIONNAIRE, FAILING_QUESTIONNAIRE):
            created = client.post(
                contract.operation_path(contract.CREATE_OP),
                json={"questionnaireId": questionnaire, "format": "original"},
            )
            got.append(created)
            path = contract.operation_path(contract.GET_OP, id=str(created.json()["id"]))
            terminal = 0
            for _ in range(_POLLS):
                got.append(client.get(path))
                terminal += got[-1].json().get("status") not in ("pending",)
                if terminal >= 3:
                    break
                time.sleep(0.03)  # the fake completes after 0.05 s
        got.append(client.get(contract.operation_path(contract.GET_OP, id="0" * 24)))
    return got


def _unchanged(received: list[httpx.Response], tap: Tap) -> None:
    assert [r.status_code for r in received] == [s.status for s in tap.sent]
    for response, sent in zip(received, tap.sent, strict=True):
        assert response.content == sent.body
        raw = [(n.lower(), v) for n, v in response.headers.raw]
        assert all((n.lower(), v) in raw for n, v in sent.headers), (sent.headers, raw)


@pytest.mark.parametrize("fault", FAULTS)
def test_the_proxy_reports_the_fault_and_forwards_the_answers_unchanged(
    tapped: TappedFake, fault: str
) -> None:
    with faulty(tapped, fault) as (base, tap), judging(base) as proxy:
        received = client_traffic(proxy.url)
    _unchanged(received, tap)
    report = proxy.judge.report(base, 1.0)
    failed = {r.rule.id for r in report.results if r.findings}
    assert CATALOGUE[fault] in failed, (fault, failed, proxy.lines)
    assert failed - {CATALOGUE[fault]} <= ALSO.get(fault, set()), (fault, failed, proxy.lines)
    assert any(f"FAIL [{CATALOGUE[fault]}]" in line for line in proxy.lines)  # printed as it happened


def test_a_correct_upstream_is_conforming_through_the_proxy(tapped: TappedFake) -> None:
    with faulty(tapped, None) as (base, tap), judging(base) as proxy:
        received = client_traffic(proxy.url)
    _unchanged(received, tap)
    report = proxy.judge.report(base, 1.0)
    assert report.conforming, [f.message for f in report.findings]
    assert proxy.judge.api_exchanges == len(received)
