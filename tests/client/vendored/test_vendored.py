"""The vendored folder on its own: only httpx, attrs and the standard library (run by ``make test-vendored``).

``run_matrix.py`` copies ``generated_client/questionnaire_exports_client`` and this file into a temporary
folder and runs it with pytest in a throwaway venv per CPython >= 3.11 found, beside ``openapi.json`` (the
spec, converted from openapi.yaml by the project's own loader: the vendored venv has no YAML parser) and the
vendored JSON-Schema-Test-Suite files. The same file also runs in the project's venv as part of ``make test``.
Hostile inputs here are fixed lists (no Hypothesis in the vendored venv); the properties run in tests/client.
"""

from __future__ import annotations

import asyncio
import datetime
import importlib
import json
import os
import pkgutil
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import questionnaire_exports_client as package
from questionnaire_exports_client import (
    AuthenticatedClient,
    QuestionnaireExportsError,
    ResponseValidationError,
    TransportError,
    UnexpectedStatus,
    models,
)
from questionnaire_exports_client.api.exports import create_questionnaire_export, get_questionnaire_export
from questionnaire_exports_client.lib import (
    Backoff,
    DownloadError,
    WebhookVerificationError,
    WebhookVerifier,
    create_and_wait,
    download_export,
    download_export_async,
    parse_retry_after,
    sign_webhook,
    wait_for_export,
    webhook_signature,
)

HERE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    """``name`` beside this file (the matrix's layout) or where it lives in the repository."""
    for candidate in (HERE / name, HERE.parents[2] / name, HERE.parent / "data" / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(name)


def _spec() -> dict[str, Any]:
    path = HERE / "openapi.json"
    if path.exists():
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return loaded
    import contract  # in the project's venv, the one loader of the spec

    return contract.load_spec()


SPEC = _spec()
EXAMPLES = {name: example["value"] for name, example in SPEC["components"]["examples"].items()}
TOKEN = "tok-vendored-41b2"
SECRET = "whsec_" + "dmVuZG9yZWQtbWF0cml4LXNlY3JldC0wMDAwMDAx"
REQUEST = models.CreateQuestionnaireExportRequest(questionnaire_id="65a5d6e2f1a2b3c4d5e6f7a8", format_="csv")


def answering(
    reply: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response],
) -> AuthenticatedClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):  # a fresh copy: one response object serves one request only
            return httpx.Response(reply.status_code, headers=reply.headers, content=reply.content)
        return reply(request)

    return AuthenticatedClient(
        base_url="https://api.test/v1", token=TOKEN, httpx_args={"transport": httpx.MockTransport(handler)}
    )


def test_runs_on_a_supported_python() -> None:
    assert sys.version_info >= (3, 11)


def test_every_module_imports() -> None:
    names = [info.name for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    assert f"{package.__name__}.lib.webhooks" in names
    for name in names:
        importlib.import_module(name)


@pytest.mark.parametrize("status", ["ExportPending", "ExportCompleted", "ExportFailed"])
def test_spec_examples_parse_into_their_class(status: str) -> None:
    client = answering(httpx.Response(200, json=EXAMPLES[status]))
    assert type(get_questionnaire_export.sync("id", client=client)).__name__ == status

    async def run() -> object:
        return await get_questionnaire_export.asyncio("id", client=client)

    assert type(asyncio.run(run())).__name__ == status


def test_a_javascript_link_is_rejected_naming_the_field() -> None:
    body = {**EXAMPLES["ExportCompleted"], "downloadUrl": "javascript:alert(1)"}
    with pytest.raises(ResponseValidationError) as caught:
        get_questionnaire_export.sync("id", client=answering(httpx.Response(200, json=body)))
    assert caught.value.field == "downloadUrl" and caught.value.status_code == 200


HOSTILE_BODIES = [
    b"",
    b"\xff\xfe",
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b'{"id": ' + b"9" * 10_000 + b"}",
    json.dumps({**EXAMPLES["ExportCompleted"], "expiresAt": "0001-01-01T00:00:00+10:60"}).encode(),
    json.dumps({**EXAMPLES["ExportCompleted"], "downloadUrl": "ftp://x/y"}).encode(),
    json.dumps({**EXAMPLES["ExportPending"], "id": "\udc80"}).encode(),
]


@pytest.mark.parametrize("status", [100, 200, 202, 204, 302, 400, 404, 429, 499, 503, 520, 599, 999])
@pytest.mark.parametrize("body", HOSTILE_BODIES, ids=range(len(HOSTILE_BODIES)))
def test_hostile_answers_raise_only_the_tree(status: int, body: bytes) -> None:
    client = answering(httpx.Response(status, content=body, headers=[(b"retry-after", "\u00b2".encode())]))
    for call in (
        lambda: get_questionnaire_export.sync_detailed("id", client=client),
        lambda: create_questionnaire_export.sync(client=client, body=REQUEST),
        lambda: wait_for_export(
            client, "id", timeout=0.01, backoff=Backoff(min_delay=0.005, max_delay=0.005)
        ),
    ):
        try:
            call()
        except QuestionnaireExportsError as exc:
            assert TOKEN not in str(exc)


def test_non_standard_status_is_unexpected_status() -> None:
    with pytest.raises(UnexpectedStatus):
        get_questionnaire_export.sync_detailed("id", client=answering(httpx.Response(520, content=b"x")))


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("[Errno 111] Connection refused"), httpx.ReadTimeout("t"), httpx.ReadError("r")],
)
def test_transport_errors_are_transport_errors(error: Exception) -> None:
    with pytest.raises(TransportError) as caught:
        create_questionnaire_export.sync_detailed(client=answering(error), body=REQUEST)
    assert caught.value.host == "api.test"


def test_create_and_wait_fails_fast_on_a_refused_connection() -> None:
    with pytest.raises(TransportError) as caught:
        create_and_wait(
            answering(httpx.ConnectError("[Errno 111] Connection refused")), "q", format_="csv", timeout=300
        )
    assert caught.value.kind == "refused"


@pytest.mark.parametrize("value", ["\u00b2", "9" * 5000, "Sun, 06 Nov 1994 08:49:37 GMT", "x" * 10_000])
def test_retry_after_never_raises(value: str) -> None:
    result = parse_retry_after(value, now=0.0)
    assert result is None or result >= 0


def test_download_and_its_async_twin(tmp_path: Path) -> None:
    export = models.ExportCompleted.from_dict(EXAMPLES["ExportCompleted"])
    export.expires_at = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)
    storage = httpx.MockTransport(lambda request: httpx.Response(200, content=b"file"))
    with httpx.Client(transport=storage) as http:
        assert (
            download_export(answering(httpx.Response(500)), export, tmp_path / "a", http=http).read_bytes()
            == b"file"
        )

    async def run() -> Path:
        async with httpx.AsyncClient(transport=storage) as http_async:
            return await download_export_async(
                answering(httpx.Response(500)), export, tmp_path / "b", http=http_async
            )

    assert asyncio.run(run()).read_bytes() == b"file"
    export.download_url = "http://[::1"
    with pytest.raises(DownloadError), httpx.Client(transport=storage) as http:
        download_export(answering(httpx.Response(500)), export, tmp_path / "c", http=http)


def test_webhook_verifier_on_hostile_headers() -> None:
    body = json.dumps(EXAMPLES["ExportCompletedEvent"]).encode()
    verifier = WebhookVerifier(SECRET, now=lambda: 1_700_000_000.0)
    good = sign_webhook(body, SECRET, msg_id="msg_1", timestamp=1_700_000_000)
    assert isinstance(verifier.verify(body, good), models.ExportCompletedEvent)
    for changes in (
        {"svix-timestamp": "9" * 5000},
        {"svix-id": "\udc80"},
        {"svix-signature": "v1," + "A" * 9000},
    ):
        with pytest.raises(WebhookVerificationError):
            verifier.verify(body, {**good, **changes})
    with pytest.raises(WebhookVerificationError):
        WebhookVerifier("whsec_not base64!")


def test_webhook_signature_signs_the_standard_webhooks_vector() -> None:
    """The one Svix signer (server, fake API and ``sign_webhook`` use it) against the published vector."""
    secret, msg_id, timestamp = (
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
    )
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert webhook_signature(secret, msg_id, timestamp, b'{"test": 2432232314}') == expected
    assert (
        webhook_signature(secret.removeprefix("whsec_"), msg_id, timestamp, b'{"test": 2432232314}')
        == expected
    )
    headers = sign_webhook(b'{"test": 2432232314}', secret, msg_id=msg_id, timestamp=timestamp)
    assert headers == {"svix-id": msg_id, "svix-timestamp": str(timestamp), "svix-signature": expected}
    with pytest.raises(WebhookVerificationError) as caught:
        webhook_signature("whsec_SECRET*not*base64", msg_id, timestamp, b"{}")
    assert caught.value.reason == "bad-secret" and "SECRET" not in str(caught.value)


def _suite(name: str) -> list[Any]:
    groups = json.loads((_find("json-schema-test-suite") / f"{name}.json").read_text(encoding="utf-8"))
    return [(t["data"], t["valid"]) for g in groups for t in g["tests"] if isinstance(t["data"], str)]


# Mirrors tests/client/test_format_suite.py, the authoritative list; pinned here so that this file runs alone.
_REFUSED = {"1998-12-31T23:59:60Z", "1998-12-31T15:59:60.123-08:00", "http://:80", "http://user@"}


@pytest.mark.parametrize("kind", ["date-time", "uri"])
def test_formats_agree_with_json_schema_test_suite(kind: str) -> None:
    from questionnaire_exports_client import _validation

    shape = _validation.Shape("suite", {"v": _validation.Field(kind)}, ["v"], closed=True)
    wrong = []
    for data, valid in _suite(kind):
        try:
            _validation.check_object(shape, {"v": data})
            accepted = True
        except ResponseValidationError:
            accepted = False
        if accepted is not (valid and data not in _REFUSED):
            wrong.append(data)
    assert wrong == []


def test_wait_for_export_with_an_injected_clock() -> None:
    now = [0.0]
    replies = iter(
        [
            httpx.Response(503, headers={"retry-after": "3"}),
            httpx.Response(200, json=EXAMPLES["ExportCompleted"]),
        ]
    )
    client = answering(lambda request: next(replies))

    def sleep(seconds: float) -> None:
        now[0] += seconds

    result = wait_for_export(
        client, "id", timeout=60, clock=lambda: now[0], sleep=sleep, rng=random.Random(0)
    )
    assert isinstance(result, models.ExportCompleted) and now[0] == 3.0
    assert os.environ.get("QUESTIONNAIRE_EXPORTS_TOKEN") != TOKEN
