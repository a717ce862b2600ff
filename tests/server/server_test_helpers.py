"""Helpers for the reference server's tests (a uniquely named module, so test folders never clash)."""

from __future__ import annotations

import time
from typing import Any

import httpx

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
