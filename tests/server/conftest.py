"""Fixtures for the reference server's tests: one running server per module and an authenticated client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from reference_server.testing import ServerHandle, running_server

from .server_test_helpers import client_for


@pytest.fixture(scope="module")
def server() -> Iterator[ServerHandle]:
    """One server per test module, two tenants, a fast export delay."""
    with running_server(tokens=("tenant-a-token", "tenant-b-token"), export_delay=0.05) as handle:
        yield handle


@pytest.fixture
def client(server: ServerHandle) -> Iterator[httpx.Client]:
    """A client authenticated as the first tenant."""
    with client_for(server) as http:
        yield http
