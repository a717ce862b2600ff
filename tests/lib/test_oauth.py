"""``ClientCredentials`` against a small token endpoint and API of our own (``httpx.MockTransport``).

The fake server follows the vendor: one active token per client (a new one revokes the previous), tokens expire
on the injected clock, the API answers 401 for any other token. No real sleeps: waits go to a recorder.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from questionnaire_exports_client import Client, TransportError
from questionnaire_exports_client.lib import (
    MAX_TOKEN_RESPONSE_BYTES,
    ClientCredentials,
    HelperError,
    TokenError,
)

CLIENT_ID = "vci_test"
SECRET = "vcs_SECRET-91b4e2d0"
TOKEN_URL = "https://auth.test/oauth/token"
API = "https://api.test/v1"
LIFETIME = 100


class FakeVendor:
    """Token endpoint plus an API that accepts only the current, unexpired token."""

    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()
        self.minted = 0
        self.current: str | None = None
        self.expires_at = 0.0
        self.api_calls = 0
        self.api_401 = 0
        self.token_answers: list[httpx.Response] = []  # scripted answers, used before minting
        self.bodies: list[dict[str, Any]] = []
        self.on_api: Any = None

    def clock(self) -> float:
        return self.now

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            with self.lock:
                self.bodies.append(json.loads(request.content))
                if self.token_answers:
                    return self.token_answers.pop(0)
                self.minted += 1
                self.current = f"tok-{self.minted}-abcdef0123"
                self.expires_at = self.now + LIFETIME
                body = {"access_token": self.current, "expires_in": LIFETIME, "token_type": "Bearer"}
            return httpx.Response(200, json=body)
        if self.on_api is not None:
            self.on_api(request)
        with self.lock:
            self.api_calls += 1
            ok = (
                request.headers.get("Authorization") == f"Bearer {self.current}"
                and self.now < self.expires_at
            )
            if not ok:
                self.api_401 += 1
        return httpx.Response(200, json={"ok": True}) if ok else httpx.Response(401, json={"status": 401})

    def revoke(self) -> None:
        with self.lock:
            self.current = "someone-else"


@pytest.fixture
def vendor() -> FakeVendor:
    return FakeVendor()


def make_auth(vendor: FakeVendor, **kwargs: Any) -> tuple[ClientCredentials, list[float]]:
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        vendor.now += seconds

    http = httpx.Client(transport=httpx.MockTransport(vendor.handler))
    auth = ClientCredentials(
        CLIENT_ID, SECRET, token_url=TOKEN_URL, clock=vendor.clock, sleep=sleep, http=http, **kwargs
    )
    return auth, sleeps


def sync_client(vendor: FakeVendor, auth: ClientCredentials) -> httpx.Client:
    client = Client(base_url=API, httpx_args={"auth": auth, "transport": httpx.MockTransport(vendor.handler)})
    return client.get_httpx_client()


def test_token_request_body(vendor: FakeVendor) -> None:
    auth, _ = make_auth(vendor, scope=["vanta-api.all:read", "vanta-api.all:write"])
    assert sync_client(vendor, auth).get("/x").status_code == 200
    assert vendor.bodies == [
        {
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "scope": "vanta-api.all:read vanta-api.all:write",
            "grant_type": "client_credentials",
        }
    ]
    auth2, _ = make_auth(vendor)
    sync_client(vendor, auth2).get("/x")
    assert "scope" not in vendor.bodies[-1]


def test_16_threads_three_lifetimes_one_token_each(vendor: FakeVendor) -> None:
    auth, _ = make_auth(vendor)
    http = sync_client(vendor, auth)
    statuses: list[int] = []
    for phase in range(3):
        vendor.now = phase * LIFETIME + 1.0  # past the previous token's refresh point
        barrier = threading.Barrier(16, timeout=10)

        def worker(barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            for _ in range(10):
                statuses.append(http.get("/poll").status_code)

        threads = [threading.Thread(target=worker) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        assert vendor.minted == phase + 1
    assert vendor.api_401 == 0
    assert statuses == [200] * 480
    assert auth.token_requests == 3


def test_16_tasks_three_lifetimes_one_token_each(vendor: FakeVendor) -> None:
    auth, _ = make_auth(vendor)

    async def main() -> list[int]:
        client = Client(
            base_url=API, httpx_args={"auth": auth, "transport": httpx.MockTransport(vendor.handler)}
        )
        http = client.get_async_httpx_client()
        statuses: list[int] = []
        for phase in range(3):
            vendor.now = phase * LIFETIME + 1.0

            async def worker() -> None:
                for _ in range(10):
                    statuses.append((await http.get("/poll")).status_code)

            await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(16))), timeout=10)
            assert vendor.minted == phase + 1
        await http.aclose()
        return statuses

    assert asyncio.run(main()) == [200] * 480
    assert vendor.api_401 == 0


def test_sync_and_async_share_one_mint(vendor: FakeVendor) -> None:
    release = threading.Event()
    original = vendor.handler

    def slow_handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            release.wait(timeout=5)
        return original(request)

    http_token = httpx.Client(transport=httpx.MockTransport(slow_handler))
    auth = ClientCredentials(CLIENT_ID, SECRET, token_url=TOKEN_URL, clock=vendor.clock, http=http_token)
    api = httpx.MockTransport(vendor.handler)
    results: list[int] = []
    thread = threading.Thread(
        target=lambda: results.append(httpx.Client(auth=auth, transport=api).get(f"{API}/a").status_code)
    )
    thread.start()

    async def main() -> int:
        async with httpx.AsyncClient(auth=auth, transport=api) as client:
            task = asyncio.ensure_future(client.get(f"{API}/b"))
            await asyncio.sleep(0.05)  # let the task reach the mint lock (bounded, not a timing assertion)
            release.set()
            return (await asyncio.wait_for(task, timeout=5)).status_code

    results.append(asyncio.run(main()))
    thread.join(timeout=5)
    assert results == [200, 200]
    assert vendor.minted == 1


def test_revoked_token_replaced_after_one_401(vendor: FakeVendor) -> None:
    auth, _ = make_auth(vendor)
    http = sync_client(vendor, auth)
    assert http.get("/x").status_code == 200
    vendor.revoke()
    assert http.get("/x").status_code == 200
    assert vendor.api_401 == 1
    assert vendor.minted == 2


def test_second_401_is_returned_not_looped(vendor: FakeVendor) -> None:
    auth, _ = make_auth(vendor)

    def always_401(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return vendor.handler(request)
        vendor.api_calls += 1
        return httpx.Response(401, json={"status": 401})

    http = httpx.Client(auth=auth, transport=httpx.MockTransport(always_401))
    assert http.get(f"{API}/x").status_code == 401
    assert vendor.api_calls == 2
    assert vendor.minted == 2


def test_no_mint_when_another_caller_already_refreshed(vendor: FakeVendor) -> None:
    auth, _ = make_auth(vendor)
    http = sync_client(vendor, auth)
    assert http.get("/warm").status_code == 200
    seen = {"n": 0}

    def on_api(request: httpx.Request) -> None:
        if not request.url.path.endswith("/first") or seen["n"]:
            return
        seen["n"] = 1
        vendor.revoke()  # the first request's token dies; another caller notices and refreshes first
        other = threading.Thread(target=lambda: http.get("/other"))
        other.start()
        other.join(timeout=5)

    vendor.on_api = on_api
    assert http.get("/first").status_code == 200
    assert vendor.minted == 2  # the warm-up token and the other caller's refresh; /first reused it


def test_retry_after_is_waited_out(vendor: FakeVendor) -> None:
    auth, sleeps = make_auth(vendor)
    vendor.token_answers = [
        httpx.Response(429, headers={"Retry-After": "7"}, json={"status": 429}),
        httpx.Response(429, headers={"Retry-After": "5"}, json={"status": 429}),
    ]
    assert sync_client(vendor, auth).get("/x").status_code == 200
    assert sleeps == [7.0, 5.0]
    assert auth.token_requests == 3


def test_retry_after_past_deadline_raises(vendor: FakeVendor) -> None:
    auth, sleeps = make_auth(vendor, deadline=30)
    vendor.token_answers = [httpx.Response(429, headers={"Retry-After": "3600"})]
    with pytest.raises(TokenError) as info:
        sync_client(vendor, auth).get("/x")
    assert info.value.error == "rate_limited" and info.value.status_code == 429
    assert info.value.retry_after == 3600
    assert sleeps == []


def test_429_forever_is_bounded(vendor: FakeVendor) -> None:
    auth, sleeps = make_auth(vendor, max_attempts=3)
    vendor.token_answers = [httpx.Response(429) for _ in range(10)]
    with pytest.raises(TokenError):
        sync_client(vendor, auth).get("/x")
    assert sleeps == [12.0, 12.0]


@pytest.mark.parametrize("code", ["invalid_client", "invalid_scope", "invalid_request"])
def test_rfc6749_errors_raise_token_error(vendor: FakeVendor, code: str) -> None:
    auth, _ = make_auth(vendor)
    status = 401 if code == "invalid_client" else 400
    vendor.token_answers = [
        httpx.Response(status, json={"error": code, "error_description": f"bad {SECRET}"})
    ]
    with pytest.raises(TokenError) as info:
        sync_client(vendor, auth).get("/x")
    error = info.value
    assert isinstance(error, HelperError)
    assert (error.error, error.status_code, error.host) == (code, status, "auth.test")
    assert SECRET not in str(error) and SECRET not in repr(error) and SECRET not in (error.description or "")
    assert "auth.test" in str(error)


def test_transport_failure_is_transport_error(vendor: FakeVendor) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused while sending {request.content!r}", request=request)

    auth = ClientCredentials(
        CLIENT_ID, SECRET, token_url=TOKEN_URL, http=httpx.Client(transport=httpx.MockTransport(refuse))
    )
    with pytest.raises(TransportError) as info:
        httpx.Client(auth=auth, transport=httpx.MockTransport(vendor.handler)).get(f"{API}/x")
    assert info.value.operation == "oauthToken" and info.value.host == "auth.test"
    assert SECRET not in str(info.value) and info.value.__cause__ is None


HOSTILE = [
    b"not json",
    b"[1, 2]",
    b"{}",
    b'{"access_token": "", "expires_in": 60, "token_type": "Bearer"}',
    b'{"access_token": 5, "expires_in": 60, "token_type": "Bearer"}',
    b'{"access_token": "a b", "expires_in": 60, "token_type": "Bearer"}',
    b'{"access_token": "abc", "expires_in": "60", "token_type": "Bearer"}',
    b'{"access_token": "abc", "expires_in": true, "token_type": "Bearer"}',
    b'{"access_token": "abc", "expires_in": 0, "token_type": "Bearer"}',
    b'{"access_token": "abc", "expires_in": 99999999999, "token_type": "Bearer"}',
    b'{"access_token": "abc", "expires_in": 60, "token_type": "mac"}',
    b'{"access_token": "abc", "expires_in": 60}',
    b"[" * 50_000,
    b'{"access_token": "' + b"a" * 70_000 + b'", "expires_in": 60, "token_type": "Bearer"}',
]


@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_token_answers(vendor: FakeVendor, body: bytes) -> None:
    auth, _ = make_auth(vendor)
    vendor.token_answers = [httpx.Response(200, content=body)]
    with pytest.raises(TokenError) as info:
        sync_client(vendor, auth).get("/x")
    assert info.value.error == "invalid_response"
    assert len(str(info.value)) < 300


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=300)
    | st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        max_leaves=10,
    ).map(lambda v: json.dumps(v).encode()),
    status=st.sampled_from([200, 400, 401, 403, 500]),
)
def test_any_answer_raises_only_documented_errors(body: bytes, status: int) -> None:
    vendor = FakeVendor()
    auth, _ = make_auth(vendor, max_attempts=1)
    vendor.token_answers = [httpx.Response(status, content=body)]
    try:
        sync_client(vendor, auth).get("/x")
    except TokenError as error:
        assert SECRET not in str(error)


def test_token_type_case_insensitive_and_token_cached(vendor: FakeVendor) -> None:
    auth, _ = make_auth(vendor)
    vendor.token_answers = [
        httpx.Response(200, json={"access_token": "tok-x", "expires_in": 100, "token_type": "bEaReR"})
    ]
    vendor.current, vendor.expires_at = "tok-x", 1000
    http = sync_client(vendor, auth)
    assert [http.get("/x").status_code for _ in range(5)] == [200] * 5
    assert auth.token_requests == 1


def test_refresh_margin(vendor: FakeVendor) -> None:
    auth, _ = make_auth(vendor)  # lifetime 100: margin min(60, 10) = 10
    http = sync_client(vendor, auth)
    http.get("/x")
    vendor.now = 89.0
    http.get("/x")
    assert vendor.minted == 1
    vendor.now = 90.0
    http.get("/x")
    assert vendor.minted == 2 and vendor.api_401 == 0


def test_secret_and_tokens_never_logged_or_shown(
    vendor: FakeVendor, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    auth, _ = make_auth(vendor)
    http = sync_client(vendor, auth)
    http.get("/x")
    vendor.revoke()
    http.get("/x")
    vendor.token_answers = [httpx.Response(429, headers={"Retry-After": "1"})]
    vendor.now = 500
    http.get("/x")
    text = caplog.text + repr(auth) + str(auth) + repr(vars(auth))
    for secret in (SECRET, "tok-1-abcdef0123", "tok-2-abcdef0123", "tok-3-abcdef0123"):
        assert secret not in text
    assert "auth.test" in caplog.text


@pytest.mark.parametrize(
    "url", ["http://auth.test/oauth/token", "ftp://auth.test/x", "not a url", "https:///nohost"]
)
def test_token_url_must_be_https(url: str) -> None:
    with pytest.raises(ValueError) as info:
        ClientCredentials(CLIENT_ID, SECRET, token_url=url)
    assert SECRET not in str(info.value)


def test_a_trickled_token_answer_ends_at_the_deadline(vendor: FakeVendor) -> None:
    """Each read may take up to ``timeout``; the answer as a whole must still end within ``deadline``."""

    class Trickle(httpx.SyncByteStream):
        def __iter__(self) -> Any:
            for _ in range(MAX_TOKEN_RESPONSE_BYTES):  # blanks, then nothing: a valid answer never comes
                vendor.now += 9.0  # each byte inside a 10 s read timeout
                yield b" "

    vendor.token_answers = [httpx.Response(200, stream=Trickle())]
    auth, _ = make_auth(vendor, deadline=120.0)
    with pytest.raises(TransportError) as info:
        sync_client(vendor, auth).get("/x")
    assert info.value.kind == "timeout" and info.value.operation == "oauthToken"
    assert vendor.now <= 120.0 + 9.0


@pytest.mark.parametrize("status", [307, 308])
def test_a_redirect_is_not_followed_even_by_a_client_that_follows_them(status: int) -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return httpx.Response(status, headers={"Location": "https://elsewhere.test/oauth/token"})

    http = httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=True)
    auth = ClientCredentials(CLIENT_ID, SECRET, token_url=TOKEN_URL, http=http)
    with pytest.raises(TokenError) as info:
        next(auth.sync_auth_flow(httpx.Request("GET", API)))
    assert hosts == ["auth.test"]  # the secret never went to elsewhere.test
    assert info.value.status_code == status


def test_repr_hides_credentials_put_in_the_token_url() -> None:
    auth = ClientCredentials(
        CLIENT_ID, SECRET, token_url=f"https://user:{SECRET}@auth.test/oauth/token?client_secret={SECRET}"
    )
    assert SECRET not in repr(auth) + str(auth)
    assert "auth.test/oauth/token" in repr(auth)


def test_loopback_token_endpoint_and_api() -> None:
    """A tiny real HTTP server on 127.0.0.1: token endpoint and API, 8 threads, one token."""
    import http.server

    vendor = FakeVendor()

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = httpx.Request(
                self.command,
                f"http://127.0.0.1{self.path}",
                headers=dict(self.headers.items()),
                content=self.rfile.read(length),
            )
            response = vendor.handler(request)
            self.send_response(response.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(response.content)))
            self.end_headers()
            self.wfile.write(response.content)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        auth = ClientCredentials(
            CLIENT_ID, SECRET, token_url=f"{base}/oauth/token", clock=vendor.clock, timeout=5
        )
        with Client(base_url=f"{base}/v1", timeout=httpx.Timeout(5), httpx_args={"auth": auth}) as client:
            api = client.get_httpx_client()
            statuses: list[int] = []
            workers = [
                threading.Thread(target=lambda: statuses.extend(api.get("/x").status_code for _ in range(5)))
                for _ in range(8)
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(timeout=10)
            vendor.revoke()
            statuses.append(api.get("/x").status_code)
        assert statuses == [200] * 41
        assert vendor.minted == 2 and vendor.api_401 == 1
    finally:
        server.shutdown()
        server.server_close()
