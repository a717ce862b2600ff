"""``ClientCredentials`` against the real reference server over loopback (127.0.0.1).

The server's ``ManualClock`` is the helper's ``clock`` too, so token lifetimes pass without sleeping; 401s and
token requests are counted on the server's side (its access log and its token registry), because the helper
retries a 401 out of sight. Rounds are separated by barriers, so the clock never moves under a request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from questionnaire_exports_client import Client
from questionnaire_exports_client.api.exports import create_questionnaire_export, get_questionnaire_export
from questionnaire_exports_client.lib import ClientCredentials, TokenError
from questionnaire_exports_client.models import CreateQuestionnaireExportRequest, ExportPending

import contract
from reference_server.clock import ManualClock
from reference_server.seed import SPREADSHEET_QUESTIONNAIRE_ID
from reference_server.testing import ServerHandle, running_server

CLIENT_ID = "vci_loopback"
SECRET = "vcs_loopback-SECRET-3c2b1a0f"
LIFETIME = 4  # seconds on the injected clock
WORKERS = 16
ROUNDS = 3 * LIFETIME  # one clock second per round: three lifetimes
TOKEN_PATH = contract.token_path()


class Monotonic:
    """The server's rate-limit clock, moved by the helper's injected sleep."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def access_log(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The server's access log lines, parsed."""
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "reference_server.access"]


def api_401s(caplog: pytest.LogCaptureFixture) -> int:
    return sum(1 for line in access_log(caplog) if line["status"] == 401 and line["path"] != TOKEN_PATH)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def monotonic() -> Monotonic:
    return Monotonic()


@pytest.fixture
def server(clock: ManualClock, monotonic: Monotonic) -> Iterator[ServerHandle]:
    with running_server(
        tokens=(),
        oauth_clients=((CLIENT_ID, SECRET),),
        token_lifetime=LIFETIME,
        clock=clock,
        monotonic=monotonic,
        in_memory=True,
    ) as handle:
        yield handle


def credentials(server: ServerHandle, clock: ManualClock, **kwargs: Any) -> ClientCredentials:
    """The helper on the server's clock (seconds since the epoch on the ``ManualClock``)."""
    return ClientCredentials(
        CLIENT_ID,
        SECRET,
        token_url=server.token_url,
        clock=lambda: clock.now().timestamp(),
        timeout=5,
        **kwargs,
    )


@pytest.fixture
def auth(server: ServerHandle, clock: ManualClock, caplog: pytest.LogCaptureFixture) -> ClientCredentials:
    """The helper for ``server``, with the server's access log captured."""
    caplog.set_level(logging.INFO, logger="reference_server.access")
    return credentials(server, clock)


def assert_one_token_per_lifetime(
    statuses: list[int], issued: list[int], auth: ClientCredentials, caplog: pytest.LogCaptureFixture
) -> None:
    """Every poll answered 200, no 401 reached the server, one token request per lifetime (at 0, 4, 8)."""
    assert statuses == [200] * (WORKERS * ROUNDS)
    assert api_401s(caplog) == 0
    assert issued == [1] * LIFETIME + [2] * LIFETIME + [3] * LIFETIME
    assert sum(1 for line in access_log(caplog) if line["path"] == TOKEN_PATH) == 3
    assert auth.token_requests == 3


def create_export(client: Client) -> str:
    body = CreateQuestionnaireExportRequest.from_dict(
        {"questionnaireId": SPREADSHEET_QUESTIONNAIRE_ID, "format": "csv"}
    )
    created = create_questionnaire_export.sync(client=client, body=body)
    assert isinstance(created, ExportPending), created
    return created.id


def mint_behind_the_helpers_back(server: ServerHandle) -> str:
    body = {"client_id": CLIENT_ID, "client_secret": SECRET, "grant_type": "client_credentials"}
    response = httpx.post(server.token_url, json=body)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.mark.timeout(60)
def test_16_threads_across_three_lifetimes_one_token_request_each_no_401(
    server: ServerHandle, clock: ManualClock, auth: ClientCredentials, caplog: pytest.LogCaptureFixture
) -> None:
    issued = []
    with Client(base_url=server.base_url, timeout=httpx.Timeout(5), httpx_args={"auth": auth}) as client:
        export_id = create_export(client)
        statuses: list[int] = []
        lock = threading.Lock()
        start, done = threading.Barrier(WORKERS + 1, timeout=10), threading.Barrier(WORKERS + 1, timeout=10)

        def worker() -> None:
            for _ in range(ROUNDS):
                start.wait()
                status = get_questionnaire_export.sync_detailed(export_id, client=client).status_code
                with lock:
                    statuses.append(status)
                done.wait()

        threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
        for thread in threads:
            thread.start()
        for _ in range(ROUNDS):
            start.wait()  # all 16 poll at once
            done.wait()
            issued.append(server.runtime.oauth.issued[CLIENT_ID])
            clock.advance(1)
        for thread in threads:
            thread.join(timeout=10)
    assert_one_token_per_lifetime(statuses, issued, auth, caplog)


@pytest.mark.timeout(60)
def test_16_tasks_across_three_lifetimes_one_token_request_each_no_401(
    server: ServerHandle, clock: ManualClock, auth: ClientCredentials, caplog: pytest.LogCaptureFixture
) -> None:

    async def main() -> tuple[list[int], list[int]]:
        async with Client(
            base_url=server.base_url, timeout=httpx.Timeout(5), httpx_args={"auth": auth}
        ) as client:
            created = await create_questionnaire_export.asyncio(
                client=client,
                body=CreateQuestionnaireExportRequest.from_dict(
                    {"questionnaireId": SPREADSHEET_QUESTIONNAIRE_ID, "format": "csv"}
                ),
            )
            assert isinstance(created, ExportPending)
            statuses: list[int] = []
            issued: list[int] = []
            for _ in range(ROUNDS):
                polls = [
                    get_questionnaire_export.asyncio_detailed(created.id, client=client)
                    for _ in range(WORKERS)
                ]
                responses = await asyncio.wait_for(asyncio.gather(*polls), timeout=10)
                statuses += [response.status_code for response in responses]
                issued.append(server.runtime.oauth.issued[CLIENT_ID])
                clock.advance(1)
            return statuses, issued

    statuses, issued = asyncio.run(main())
    assert_one_token_per_lifetime(statuses, issued, auth, caplog)


def test_a_token_revoked_behind_the_helpers_back_is_replaced_after_one_401(
    server: ServerHandle, auth: ClientCredentials, caplog: pytest.LogCaptureFixture
) -> None:
    with Client(base_url=server.base_url, timeout=httpx.Timeout(5), httpx_args={"auth": auth}) as client:
        export_id = create_export(client)
        mint_behind_the_helpers_back(server)  # revokes the helper's token at once
        assert get_questionnaire_export.sync_detailed(export_id, client=client).status_code == 200
        assert get_questionnaire_export.sync_detailed(export_id, client=client).status_code == 200
    assert api_401s(caplog) == 1
    assert auth.token_requests == 2 and server.runtime.oauth.issued[CLIENT_ID] == 3


def test_a_429_from_the_token_endpoint_is_waited_out(
    clock: ManualClock, monotonic: Monotonic, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="reference_server.access")
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # the helper's wait moves the server's rate-limit clock
        sleeps.append(seconds)
        monotonic.now += seconds
        clock.advance(seconds)

    with running_server(
        tokens=(),
        oauth_clients=((CLIENT_ID, SECRET),),
        token_rate_limit="1/60",
        clock=clock,
        monotonic=monotonic,
        in_memory=True,
    ) as server:
        mint_behind_the_helpers_back(server)  # spends the window's one request
        monotonic.now += 15
        auth = credentials(server, clock, sleep=sleep)
        with Client(base_url=server.base_url, timeout=httpx.Timeout(5), httpx_args={"auth": auth}) as client:
            create_export(client)
    assert sleeps == [45.0]  # the server's Retry-After, in whole seconds
    token_statuses = [line["status"] for line in access_log(caplog) if line["path"] == TOKEN_PATH]
    assert token_statuses == [200, 429, 200]
    assert auth.token_requests == 2


def test_the_secret_and_tokens_never_reach_a_log_or_an_exception(
    server: ServerHandle, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    sent: list[str] = []

    def record(request: httpx.Request) -> None:
        sent.append(request.headers.get("Authorization", "").removeprefix("Bearer "))

    auth = credentials(server, clock)
    hooks = {"request": [record]}
    texts: list[str] = []
    with Client(
        base_url=server.base_url, timeout=httpx.Timeout(5), httpx_args={"auth": auth, "event_hooks": hooks}
    ) as client:
        export_id = create_export(client)
        sent.append(mint_behind_the_helpers_back(server))
        assert get_questionnaire_export.sync_detailed(export_id, client=client).status_code == 200
        wrong = ClientCredentials(CLIENT_ID, SECRET + "-wrong", token_url=server.token_url, timeout=5)
        with (
            Client(base_url=server.base_url, timeout=httpx.Timeout(5), httpx_args={"auth": wrong}) as refused,
            pytest.raises(TokenError) as excinfo,
        ):
            get_questionnaire_export.sync_detailed(export_id, client=refused)
        texts += [str(excinfo.value), repr(excinfo.value), repr(auth), repr(wrong)]
    assert excinfo.value.error == "invalid_client" and excinfo.value.status_code == 401
    tokens = {token for token in sent if token}
    assert len(tokens) == 3  # the helper's first, the one minted beside it, the helper's replacement
    assert any(r.name.startswith("httpcore") for r in caplog.records)  # DEBUG really was captured
    text = caplog.text + "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    text += "\n".join(texts)
    for secret in (SECRET, SECRET + "-wrong", *tokens):
        assert secret not in text
