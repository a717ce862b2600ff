"""Helpers to drive the generated client through its real HTTP path with canned responses."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from questionnaire_exports_client import AuthenticatedClient

import contract

Responder = Callable[[Any, int], AuthenticatedClient]


def client_answering(
    body: Any, status: int = 200, content_type: str = "application/json"
) -> AuthenticatedClient:
    """An AuthenticatedClient whose every request is answered with ``body`` (JSON unless bytes)."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content, headers={"content-type": content_type})

    return AuthenticatedClient(
        base_url="https://api.test/v1",
        token="secret-token",
        httpx_args={"transport": httpx.MockTransport(handler)},
    )


@pytest.fixture
def examples() -> dict[str, dict[str, Any]]:
    """The spec's own example body of each status variant."""
    return {s: dict(contract.example_value(f"Export{s.capitalize()}")) for s in contract.status_variants()}
