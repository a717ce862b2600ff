"""Webhook listener: signatures, payloads and the GET cross-check, against the fake and the reference server."""

from __future__ import annotations

import base64
import io
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from questionnaire_exports_client.redact import Redactor

from conformance.cli import run_cli
from conformance.model import Tally
from conformance.rules import WEBHOOK_RULE
from conformance.webhooks import WebhookChecker, listening

from .fake_api import FAILING_QUESTIONNAIRE, OK_QUESTIONNAIRE, TOKEN, WEBHOOK_SECRET, RunningFake


@pytest.fixture
def checker(fake: RunningFake) -> Iterator[tuple[WebhookChecker, str]]:
    tally = Tally(rules=(WEBHOOK_RULE,))
    check = WebhookChecker(
        secret=WEBHOOK_SECRET,
        tally=tally,
        redactor=Redactor([WEBHOOK_SECRET]),
        base_url=fake.base_url,
        token=TOKEN,
    )
    with listening("127.0.0.1", 0, check) as listener:
        fake.config.webhook_url = listener.url
        try:
            yield check, listener.url
        finally:
            fake.config.webhook_url = None
            fake.config.fault = None
            check.close()


def _trigger(fake: RunningFake, questionnaire: str, check: WebhookChecker) -> None:
    before = check.checked
    body = {"questionnaireId": questionnaire, "format": "csv"}
    answer = httpx.post(
        fake.base_url + "/customer-trust/questionnaires/exports",
        json=body,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code == 202
    # Wait on the checker's own event: a delivery counts as checked only once its cross-check GET is done.
    assert check.wait_checked(before + 1, timeout=10), "no delivery was checked"


def test_correct_deliveries_pass(fake: RunningFake, checker: tuple[WebhookChecker, str]) -> None:
    check, _ = checker
    _trigger(fake, OK_QUESTIONNAIRE, check)
    _trigger(fake, FAILING_QUESTIONNAIRE, check)
    results = check.tally.results()
    assert results[0].outcome.value == "passed", [f.message for f in results[0].findings]
    assert check.tally.requests["webhooks"] == 2  # both cross-checked with a GET


@pytest.mark.parametrize(
    ("fault", "expected"), [("webhook_bad_signature", "signature"), ("webhook_bad_payload", "requestedAt")]
)
def test_bad_deliveries_fail(
    fake: RunningFake, checker: tuple[WebhookChecker, str], fault: str, expected: str
) -> None:
    check, _ = checker
    fake.config.fault = fault
    _trigger(fake, OK_QUESTIONNAIRE, check)
    findings = check.tally.results()[0].findings
    assert findings and expected in findings[0].message
    assert WEBHOOK_SECRET not in findings[0].message


def test_rotated_and_stale_signatures(checker: tuple[WebhookChecker, str]) -> None:
    """Several signatures (key rotation) pass when one matches; a timestamp 10 minutes old fails."""
    check, _url = checker
    from standardwebhooks import Webhook

    body = '{"questionnaire": {"id": "q"}, "export": {"id": "nope"}}'
    now = int(time.time())
    good = Webhook(WEBHOOK_SECRET).sign("msg_1", _utc(now), body)
    other = Webhook("whsec_" + base64.b64encode(b"rotated-out-key").decode()).sign("msg_1", _utc(now), body)
    status = check.handle(
        {"svix-id": "msg_1", "svix-timestamp": str(now), "svix-signature": f"{other} {good}"}, body.encode()
    )
    assert status == 400  # signature fine; the payload breaks the schema
    stale = Webhook(WEBHOOK_SECRET).sign("msg_2", _utc(now - 600), body)
    status = check.handle(
        {"svix-id": "msg_2", "svix-timestamp": str(now - 600), "svix-signature": stale}, body.encode()
    )
    assert status == 401


def _utc(stamp: int):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.fromtimestamp(stamp, tz=UTC)


class _Announcing(io.StringIO):
    """Captured output that sets ``seen`` once a line containing ``marker`` is written."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker
        self.seen = threading.Event()

    def write(self, text: str) -> int:
        written = super().write(text)
        if self.marker in self.getvalue():
            self.seen.set()
        return written


def test_cli_end_to_end_with_reference_server_webhooks() -> None:
    from reference_server import seed, testing

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    secret = "whsec_" + base64.b64encode(b"reference-webhook-secret-0123456").decode()
    token = "ref-token-abcdef"
    with testing.running_server(
        tokens=(token,), webhook_url=f"http://127.0.0.1:{port}/", webhook_secret=secret, in_memory=True
    ) as server:
        env = {"CONFORMANCE_TOKEN": token, "CONFORMANCE_WEBHOOK_SECRET": secret}
        result: dict[str, int] = {}
        out = _Announcing("listening on ")
        argv = ["webhooks", "--listen", f"127.0.0.1:{port}", "--base-url", server.base_url]
        argv += ["--max-events", "2", "--timeout", "15"]
        listener = threading.Thread(target=lambda: result.update(code=run_cli(argv, env=env, out=out)))
        listener.start()
        assert out.seen.wait(timeout=15), out.getvalue()  # the listener is up: no sleep, no guess
        headers = {"Authorization": f"Bearer {token}"}
        for questionnaire in (seed.SPREADSHEET_QUESTIONNAIRE_ID, seed.FAILING_QUESTIONNAIRE_ID):
            body = {"questionnaireId": questionnaire, "format": "original"}
            answer = httpx.post(
                server.base_url + "/customer-trust/questionnaires/exports", json=body, headers=headers
            )
            assert answer.status_code == 202
        listener.join(timeout=20)
    code, output = result["code"], out.getvalue()
    assert code == 0, output
    assert secret not in output and token not in output


def test_listener_on_a_taken_port_cannot_run() -> None:
    """The listener serves through the reference server's one thread-serving helper; a port already in use
    is "could not run" (exit 2), one line, no traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        out = io.StringIO()
        secret = "whsec_" + base64.b64encode(b"listener-secret-0123456789abcdef").decode()
        argv = ["webhooks", "--listen", f"127.0.0.1:{port}", "--max-events", "1", "--timeout", "1"]
        code = run_cli(argv, env={"CONFORMANCE_WEBHOOK_SECRET": secret}, out=out)
    assert code == 2, out.getvalue()
    assert out.getvalue().splitlines()[-1].startswith("conformance: cannot run:"), out.getvalue()
    assert "Traceback" not in out.getvalue()


def test_listener_closes_a_request_head_that_never_ends() -> None:
    """A hostile sender trickling one header forever is cut off (the guarded protocol's 16 KiB head limit)."""
    checker = WebhookChecker(
        secret="whsec_" + base64.b64encode(b"listener-secret-0123456789abcdef").decode(),
        tally=Tally(rules=(WEBHOOK_RULE,)),
        redactor=Redactor([]),
        base_url=None,
        token="",
    )
    with listening("127.0.0.1", 0, checker) as listener:
        port = int(listener.url.rsplit(":", 1)[1].strip("/"))
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 20_000)
            answer = conn.recv(4096)
    checker.close()
    assert answer.startswith(b"HTTP/1.1 431"), answer[:80]
