"""Helpers for the reference server's tests (a uniquely named module, so test folders never clash)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Mapping, MutableMapping
from typing import Any

import httpx
from starlette.types import ASGIApp

import contract
from reference_server.testing import ServerHandle

EXPORTS = "/customer-trust/questionnaires/exports"


def assert_valid(body: Any, schema_name: str) -> None:
    """Fail with every violation when ``body`` does not satisfy ``components/schemas/<schema_name>``."""
    errors = [
        e.message for e in contract.schema_validator(f"/components/schemas/{schema_name}").iter_errors(body)
    ]
    assert not errors, f"{schema_name} violated: {errors} in {body!r}"


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Check an RFC 9457 problem answer with ``status``; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "date" in response.headers
    body: dict[str, Any] = response.json()
    assert_valid(body, "Problem")
    assert body["status"] == status
    return body


def create(client: httpx.Client, questionnaire_id: str, export_format: str) -> dict[str, Any]:
    """POST a create request that must be accepted; returns the validated ``pending`` body."""
    response = client.post(EXPORTS, json={"questionnaireId": questionnaire_id, "format": export_format})
    assert response.status_code == 202, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert_valid(body, "ExportPending")
    return body


def wait_until_done(client: httpx.Client, export_id: str, timeout: float = 10.0) -> httpx.Response:
    """Poll GET until the export leaves ``pending`` (bounded by ``timeout``); returns the last response."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"{EXPORTS}/{export_id}")
        assert response.status_code == 200, response.text
        assert_valid(response.json(), "QuestionnaireExport")
        if response.json()["status"] != "pending" or time.monotonic() > deadline:
            return response
        time.sleep(0.02)


def client_for(server: ServerHandle, token: str | None = None) -> httpx.Client:
    """An httpx client for ``server``'s ``/v1`` base URL authenticated with ``token`` (default: first)."""
    headers = {"Authorization": f"Bearer {token or server.tokens[0]}"}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=10.0)


def stalled_body_response(app: ASGIApp, path: str, headers: Mapping[str, str]) -> httpx.Response:
    """POST ``path`` to ``app`` in process, promising a 10-byte JSON body that never comes; the answer."""

    async def scenario() -> httpx.Response:
        async def receive() -> dict[str, Any]:
            await asyncio.Event().wait()  # the promised body never comes
            raise AssertionError("unreachable")

        sent: list[MutableMapping[str, Any]] = []

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [
                *((name.encode(), value.encode()) for name, value in headers.items()),
                (b"content-type", b"application/json"),
                (b"content-length", b"10"),
            ],
            "server": ("127.0.0.1", 80),
            "client": ("127.0.0.1", 1),
            "scheme": "http",
            "http_version": "1.1",
            "asgi": {"version": "3.0"},
        }
        await app(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return httpx.Response(start["status"], headers=start["headers"], content=body)

    return asyncio.run(scenario())


def run_cli(args: list[str], env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m reference_server --port 0 ARGS`` to its end (for arguments it refuses), output captured."""
    return subprocess.run(
        [sys.executable, "-m", "reference_server", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=None if env is None else dict(env),
    )
