"""The helpers against the reference server over loopback HTTP."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import random
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from questionnaire_exports_client import AuthenticatedClient, TransportError
from questionnaire_exports_client.lib import (
    Backoff,
    ExportApiError,
    Poll,
    create_and_wait,
    create_and_wait_async,
    create_export,
    download_export,
    wait_for_export,
)
from questionnaire_exports_client.models import ExportCompleted, ExportFailed

from reference_server.clock import ManualClock
from reference_server.seed import EXPORT_COLUMNS, FAILING_QUESTIONNAIRE_ID, SPREADSHEET_QUESTIONNAIRE_ID
from reference_server.testing import ServerHandle, running_server

TOKEN = "loopback-token-5d1e"
QUICK = Backoff(min_delay=0.02, max_delay=0.2)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerHandle]:
    with running_server(tokens=(TOKEN,), export_delay=0.05, in_memory=True) as handle:
        yield handle


def client_for(handle: ServerHandle, token: str = TOKEN) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=handle.base_url, token=token, timeout=httpx.Timeout(5.0))


class RecordingStorage:
    """A plain storage client that remembers the headers of every request it sends."""

    def __init__(self) -> None:
        self.headers: list[httpx.Headers] = []
        self.client = httpx.Client(event_hooks={"request": [self._record]}, timeout=5.0)

    def _record(self, request: httpx.Request) -> None:
        self.headers.append(request.headers)


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_create_wait_download_csv(server: ServerHandle, tmp_path: Path) -> None:
    polls: list[Poll] = []
    storage = RecordingStorage()
    with client_for(server) as client:
        export = create_and_wait(
            client,
            SPREADSHEET_QUESTIONNAIRE_ID,
            format_="csv",
            timeout=10,
            backoff=QUICK,
            on_poll=polls.append,
        )
        assert isinstance(export, ExportCompleted)
        path = download_export(client, export, tmp_path, http=storage.client)
    assert path.suffix == ".csv" and read_csv(path)[0] == list(EXPORT_COLUMNS)
    assert polls[-1].export is export and all(p.error is None for p in polls)
    assert storage.headers and all("authorization" not in h for h in storage.headers)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_failing_questionnaire_returns_failed(server: ServerHandle) -> None:
    with client_for(server) as client:
        result = create_and_wait(client, FAILING_QUESTIONNAIRE_ID, format_="csv", timeout=10, backoff=QUICK)
    assert isinstance(result, ExportFailed) and result.error_message


def test_wrong_token_is_a_permanent_401(server: ServerHandle) -> None:
    with client_for(server, token="wrong-token-0000") as client, pytest.raises(ExportApiError) as caught:
        create_and_wait(client, SPREADSHEET_QUESTIONNAIRE_ID, format_="csv", timeout=5, backoff=QUICK)
    assert caught.value.status_code == 401 and "wrong-token-0000" not in str(caught.value)


def test_unknown_export_is_a_permanent_404(server: ServerHandle) -> None:
    with client_for(server) as client, pytest.raises(ExportApiError) as caught:
        wait_for_export(client, "no-such-export", timeout=5, backoff=QUICK)
    assert caught.value.status_code == 404


def test_async_create_and_wait(server: ServerHandle) -> None:
    async def run() -> ExportCompleted | ExportFailed:
        async with client_for(server) as client:
            return await create_and_wait_async(
                client, SPREADSHEET_QUESTIONNAIRE_ID, format_="original", timeout=10, backoff=QUICK
            )

    assert isinstance(asyncio.run(run()), ExportCompleted)


def test_expired_link_is_refreshed(tmp_path: Path) -> None:
    clock = ManualClock()
    with (
        running_server(tokens=(TOKEN,), export_delay=0.01, in_memory=True, clock=clock) as handle,
        client_for(handle) as client,
    ):
        export = create_and_wait(
            client, SPREADSHEET_QUESTIONNAIRE_ID, format_="csv", timeout=10, backoff=QUICK
        )
        assert isinstance(export, ExportCompleted)
        clock.advance(hours=25)
        # By our own clock the link is still good, so the storage's 403 is what triggers the refresh.
        storage = RecordingStorage()
        path = download_export(client, export, tmp_path / "a.csv", http=storage.client)
        assert len(storage.headers) == 2 and read_csv(path)[0] == list(EXPORT_COLUMNS)
        # With the same clock as the server, expiresAt alone triggers it: one storage request.
        clock.advance(hours=25)
        storage = RecordingStorage()
        download_export(client, export, tmp_path / "b.csv", http=storage.client, now=clock.now)
        assert len(storage.headers) == 1


def test_rate_limit_retry_after_is_honoured() -> None:
    polls: list[Poll] = []
    with (
        running_server(tokens=(TOKEN,), export_delay=0.3, in_memory=True, rate_limit="3/1") as handle,
        client_for(handle) as client,
    ):
        result = create_and_wait(
            client,
            SPREADSHEET_QUESTIONNAIRE_ID,
            format_="csv",
            timeout=10,
            backoff=QUICK,
            on_poll=polls.append,
        )
    assert isinstance(result, ExportCompleted)
    limited = [p for p in polls if p.error == "HTTP 429"]
    assert limited and all(p.next_delay is not None and p.next_delay >= 1.0 for p in limited)


def test_server_gone_ends_the_wait_at_once() -> None:
    """A refused connection will not heal within a wait: it is reported at once, with the host, not retried."""
    polls: list[Poll] = []
    with (
        running_server(tokens=(TOKEN,), export_delay=30, in_memory=True) as handle,
        client_for(handle) as client,
    ):
        created = create_export(client, SPREADSHEET_QUESTIONNAIRE_ID, format_="csv", timeout=5)
        handle.stop()
        with pytest.raises(TransportError) as caught:
            wait_for_export(
                client, created.id, timeout=300, backoff=QUICK, rng=random.Random(0), on_poll=polls.append
            )
    assert caught.value.kind == "refused" and caught.value.host == "127.0.0.1" and polls == []
    assert TOKEN not in str(caught.value)


def test_logs_never_show_the_token_or_a_link_signature(
    server: ServerHandle, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG), client_for(server) as client:
        export = create_and_wait(
            client, SPREADSHEET_QUESTIONNAIRE_ID, format_="csv", timeout=10, backoff=QUICK
        )
        assert isinstance(export, ExportCompleted)
        download_export(client, export, tmp_path / "x.csv")
    signature = parse_qs(urlsplit(export.download_url).query)["signature"][0]
    # Only the client side's records: the in-process server's own loggers are not the helpers' concern.
    client_side = ("httpx", "httpcore", "questionnaire_exports_client")
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(client_side))
    # httpx did log the requests (so this test can fail), but the storage one without its query string.
    assert "HTTP Request: GET" in logged and "/files/" in logged and "?REDACTED" in logged
    assert signature not in logged and "signature=" not in logged and TOKEN not in logged
