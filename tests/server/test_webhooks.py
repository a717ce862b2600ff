"""Webhooks: a local receiver verifies Svix signatures and payloads, and sees retries after failures."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import contract
from reference_server.seed import FAILING_QUESTIONNAIRE_ID, SPREADSHEET_QUESTIONNAIRE_ID
from reference_server.serving import serve_in_thread
from reference_server.testing import running_server

from .server_test_helpers import EXPORTS, client_for, create, wait_until_done

SECRET = "whsec_" + base64.b64encode(b"reference-server-test-webhook-key").decode()


@dataclass
class Receiver:
    """Records every delivery; answers 503 to the first ``fail_first`` attempts of each message."""

    url: str = ""
    fail_first: int = 0
    blocked: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    in_flight: int = 0
    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Condition = field(default_factory=threading.Condition)

    def attempts(self, msg_id: str) -> list[tuple[dict[str, str], bytes]]:
        with self.lock:
            return [d for d in self.deliveries if d[0]["svix-id"] == msg_id]

    def acknowledged(self) -> list[tuple[dict[str, str], bytes]]:
        """The final (acknowledged) attempt of each message, in arrival order."""
        with self.lock:
            seen: dict[str, tuple[dict[str, str], bytes]] = {}
            counts: dict[str, int] = {}
            for headers, body in self.deliveries:
                counts[headers["svix-id"]] = counts.get(headers["svix-id"], 0) + 1
                if counts[headers["svix-id"]] > self.fail_first:
                    seen.setdefault(headers["svix-id"], (headers, body))
            return list(seen.values())

    def record(self, headers: dict[str, str], body: bytes) -> int:
        """Store one delivery, wake every waiter; returns the attempt number of that message."""
        with self.lock:
            self.deliveries.append((headers, body))
            self.lock.notify_all()
            return sum(1 for h, _ in self.deliveries if h["svix-id"] == headers["svix-id"])

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
        """The acknowledged deliveries once there are ``count`` (woken by each delivery; at most ``timeout``)."""
        with self.lock:
            self.lock.wait_for(lambda: len(self.acknowledged()) >= count, timeout)
            return self.acknowledged()

    def wait_for_any(self, timeout: float = 10.0) -> None:
        """Until the first attempt arrives (acknowledged or not)."""
        with self.lock:
            self.lock.wait_for(lambda: bool(self.deliveries), timeout)


@contextlib.contextmanager
def receiver(fail_first: int = 0, blocked: bool = False) -> Iterator[Receiver]:
    state = Receiver(fail_first=fail_first, blocked=blocked)

    async def hook(request: Request) -> Response:
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k.startswith("svix-") or k == "content-type"}
        attempt = state.record(headers, body)
        if state.blocked:
            with state.lock:
                state.in_flight += 1
            state.release.wait(10)  # a receiver that hangs (bounded) until the test releases it
            with state.lock:
                state.in_flight -= 1
        return Response(status_code=503 if attempt <= state.fail_first else 204)

    with serve_in_thread(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as served:
        state.url = f"{served.origin}/hook"
        try:
            yield state
        finally:
            state.release.set()


def _verify(headers: dict[str, str], body: bytes) -> Any:
    """Verify with the independent ``standardwebhooks`` implementation (same scheme, other header names)."""
    renamed = {name.replace("svix-", "webhook-"): value for name, value in headers.items()}
    return Webhook(SECRET).verify(body, renamed)


def _event_type(payload: Any) -> str:
    """The one event type whose schema ``payload`` satisfies."""
    matches = [
        event
        for event, schema in contract.webhook_event_schemas().items()
        if contract.schema_validator(f"/components/schemas/{schema}").is_valid(payload)
    ]
    assert len(matches) == 1, (matches, payload)
    return matches[0]


def test_completed_and_failed_events_are_signed_and_match_the_spec() -> None:
    with (
        receiver() as hook,
        running_server(webhook_url=hook.url, webhook_secret=SECRET) as server,
        client_for(server) as http,
    ):
        ok = wait_until_done(http, create(http, SPREADSHEET_QUESTIONNAIRE_ID, "original")["id"]).json()
        bad = wait_until_done(http, create(http, FAILING_QUESTIONNAIRE_ID, "csv")["id"]).json()
        deliveries = hook.wait_for(2)
    assert len(deliveries) == 2
    events = {}
    for headers, body in deliveries:
        assert headers["content-type"] == "application/json"
        assert headers["svix-id"].startswith("msg_") and headers["svix-timestamp"].isdigit()
        assert abs(int(headers["svix-timestamp"]) - time.time()) < 300
        payload = _verify(headers, body)
        events[_event_type(payload)] = payload
    completed = events["v1.questionnaire.export-completed"]
    failed = events["v1.questionnaire.export-failed"]
    assert completed["questionnaire"] == {"id": SPREADSHEET_QUESTIONNAIRE_ID}
    assert completed["export"] == {k: ok[k] for k in ("id", "format", "requestedAt", "completedAt")}
    assert failed["questionnaire"] == {"id": FAILING_QUESTIONNAIRE_ID}
    assert failed["export"]["reason"] == bad["errorMessage"]
    assert failed["export"]["failedAt"] == bad["failedAt"] and failed["export"]["id"] == bad["id"]


def test_tampered_body_does_not_verify() -> None:
    with (
        receiver() as hook,
        running_server(webhook_url=hook.url, webhook_secret=SECRET) as server,
        client_for(server) as http,
    ):
        create(http, SPREADSHEET_QUESTIONNAIRE_ID, "csv")
        [(headers, body)] = hook.wait_for(1)
    forged = body.replace(b'"csv"', b'"original"')
    assert forged != body
    try:
        _verify(headers, forged)
    except Exception as exc:  # standardwebhooks raises WebhookVerificationError
        assert "signature" in str(exc).lower()
    else:
        raise AssertionError("a tampered body verified")


def test_failed_deliveries_are_retried_with_the_same_id() -> None:
    with (
        receiver(fail_first=2) as hook,
        running_server(webhook_url=hook.url, webhook_secret=SECRET, webhook_retry_scale=0.001) as server,
        client_for(server) as http,
    ):
        create(http, SPREADSHEET_QUESTIONNAIRE_ID, "csv")
        [(headers, _)] = hook.wait_for(1)
        attempts = hook.attempts(headers["svix-id"])
        assert len(attempts) == 3
        assert len({body for _, body in attempts}) == 1
        for attempt_headers, body in attempts:
            _verify(attempt_headers, body)
        for _ in range(200):
            if server.runtime.store.event_states()[headers["svix-id"]] == ("delivered", 3):
                break
            time.sleep(0.01)
        assert server.runtime.store.event_states()[headers["svix-id"]] == ("delivered", 3)


def test_undelivered_events_survive_a_restart() -> None:
    # Bound but not listening, for the whole test: connections are refused and no one else gets the port.
    dead_port = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    dead_port.bind(("127.0.0.1", 0))
    down_url = f"http://127.0.0.1:{dead_port.getsockname()[1]}/hook"
    with (
        dead_port,
        running_server(webhook_url=down_url, webhook_secret=SECRET, webhook_retry_scale=0.2) as server,
    ):
        with client_for(server) as http:
            export_id = create(http, SPREADSHEET_QUESTIONNAIRE_ID, "csv")["id"]
            wait_until_done(http, export_id)
        for _ in range(500):
            states = server.runtime.store.event_states()
            if states and next(iter(states.values()))[1] >= 1:
                break
            time.sleep(0.01)
        [(state, attempts)] = server.runtime.store.event_states().values()
        assert (state, attempts) == ("pending", 1)  # the first retry is due 1 s after the failure
        server.stop()
        with receiver() as hook:
            server.config = dataclasses.replace(server.config, webhook_url=hook.url)
            server.start()
            [(headers, body)] = hook.wait_for(1, timeout=5.0)  # the persisted schedule resumes
            assert json.loads(body)["export"]["id"] == export_id
            _verify(headers, body)


def test_slow_receiver_does_not_block_the_api() -> None:
    with (
        receiver(blocked=True) as hook,
        running_server(webhook_url=hook.url, webhook_secret=SECRET) as server,
        client_for(server) as http,
    ):
        export_id = create(http, SPREADSHEET_QUESTIONNAIRE_ID, "csv")["id"]
        hook.wait_for_any()
        assert hook.deliveries  # a delivery is now stuck in the receiver, which answers only when released
        assert http.get(f"{EXPORTS}/{export_id}").status_code == 200
        created = http.post(EXPORTS, json={"questionnaireId": SPREADSHEET_QUESTIONNAIRE_ID, "format": "csv"})
        assert created.status_code == 202, created.text
        assert hook.in_flight == 1  # both answers came while the delivery was still held by the receiver
        hook.release.set()
        assert httpx.get(server.origin + "/").status_code == 404
