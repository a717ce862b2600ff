"""Whatever the network sends, the helpers return a documented result or raise the package's own tree.

Hypothesis drives ``wait_for_export``, ``create_and_wait`` (sync and async), ``download_export`` (sync and
async) and ``verify_webhook`` with arbitrary status codes, ``Retry-After`` values, bodies, storage answers,
links, expiry times and webhook headers; anything outside ``QuestionnaireExportsError`` fails the property.
Each run is bounded by a fake clock (no real sleep) and a small ``max_examples``.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import json
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from questionnaire_exports_client import AuthenticatedClient, QuestionnaireExportsError
from questionnaire_exports_client.lib import (
    MAX_RETRY_AFTER,
    WEBHOOK_REJECTIONS,
    Backoff,
    DownloadError,
    WebhookVerificationError,
    WebhookVerifier,
    create_and_wait,
    create_and_wait_async,
    download_export,
    download_export_async,
    parse_retry_after,
    sign_webhook,
    verify_webhook,
)
from questionnaire_exports_client.models import ExportCompleted, ExportFailed

from .conftest import TOKEN, FakeTime, export_body, spec_example

PROFILE = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
SLOW = settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
SECRET = "whsec_" + "aG9zdGlsZS1wZWVyLXNlY3JldC0wMDAwMDAwMDAx"
FAST = Backoff(min_delay=1.0, max_delay=4.0)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.just("\udc80"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=40)
RETRY_AFTER = st.one_of(
    st.sampled_from(
        ["0", "3", "²", "1.5", "-1", "Sun, 06 Nov 1994 08:49:37 GMT", "Sat, 01 Jan 10000 00:00:00 GMT"]
    ),
    st.integers(1, 6000).map(lambda n: "9" * n),
    HEADER_TEXT,
)


@st.composite
def api_body(draw: st.DrawFn) -> bytes:
    choice = draw(st.integers(0, 4))
    if choice == 0:
        return draw(st.binary(max_size=100))
    if choice == 1:
        return b"[" * 50_000 + b"]" * 50_000
    variant = copy.deepcopy(export_body(draw(st.sampled_from(["pending", "completed", "failed"]))))
    if choice >= 3:
        field = draw(st.sampled_from(sorted(variant)))
        variant[field] = draw(
            JSON | st.sampled_from(["javascript:alert(1)", "http://[::1", "0001-01-01T00:00:00Z"])
        )
    return json.dumps(variant).encode()


ANSWER = st.tuples(
    st.integers(100, 999) | st.sampled_from([200, 202, 429, 503]),
    st.dictionaries(
        st.sampled_from(["retry-after", "content-type", "content-encoding"]), RETRY_AFTER, max_size=2
    ),
    api_body(),
)
FAILURE = st.sampled_from(
    [
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.ConnectError("[Errno -2] Name or service not known"),
        httpx.ConnectError("[Errno 113] No route to host"),
        httpx.ConnectTimeout("timed out"),
        httpx.ReadTimeout("timed out"),
        httpx.ReadError("reset"),
        httpx.RemoteProtocolError("bad"),
        httpx.DecodingError("bad gzip"),
        httpx.TooManyRedirects("loop"),
        httpx.UnsupportedProtocol("gopher"),
    ]
)
SCRIPT = st.lists(ANSWER | FAILURE, min_size=1, max_size=8)


def scripted_client(script: list[Any], time: FakeTime) -> AuthenticatedClient:
    replies = list(script)

    def handler(request: httpx.Request) -> httpx.Response:
        time.now += 0.5
        reply = replies.pop(0) if len(replies) > 1 else replies[0]  # the last answer repeats
        if isinstance(reply, Exception):
            raise reply
        status, headers, body = reply
        raw = [(k.encode(), v.encode("utf-8", "surrogatepass")) for k, v in headers.items()]
        return httpx.Response(status, headers=raw, content=body)

    return AuthenticatedClient(
        base_url="https://api.test/v1", token=TOKEN, httpx_args={"transport": httpx.MockTransport(handler)}
    )


def documented(call: Callable[[], object]) -> None:
    try:
        call()
    except QuestionnaireExportsError as exc:
        assert TOKEN not in str(exc) and SECRET not in str(exc)
        str(exc).encode("utf-8")  # every message can be logged to a UTF-8 stream


def waits(script: list[Any]) -> None:
    time = FakeTime()
    client = scripted_client(script, time)
    timing: dict[str, Any] = {"backoff": FAST, "clock": time.clock, "rng": random.Random(0)}
    documented(lambda: create_and_wait(client, "q", format_="csv", timeout=20, sleep=time.sleep, **timing))
    documented(
        lambda: asyncio.run(
            create_and_wait_async(client, "q", format_="csv", timeout=20, sleep=time.async_sleep, **timing)
        )
    )


@PROFILE
@given(SCRIPT)
def test_waiting_raises_only_the_documented_tree(script: list[Any]) -> None:
    waits(script)


@pytest.mark.slow
@SLOW
@given(SCRIPT)
def test_waiting_raises_only_the_documented_tree_at_length(script: list[Any]) -> None:
    waits(script)


def completed(url: str, expires: datetime.datetime) -> ExportCompleted:
    model = ExportCompleted.from_dict(export_body("completed"))
    model.download_url = url  # as a hostile server might send, past what the client's checks would allow
    model.expires_at = expires
    return model


URLS = st.one_of(
    st.sampled_from(
        [
            "http://[::1",
            "http://[::1]:99999/x",
            "https://exa mple.com/",
            "https://xn--/x",
            "https://\u00e9\u0301.example/x",
            "http://a..b/",
            "https://-/x",
            "https://host:port/x",
            "https://" + "a" * 70 + ".com/",
            "http://user:pw@host/x?signature=s",
            "javascript:alert(1)",
        ]
    ),
    st.tuples(st.sampled_from(["http://", "https://", "HTTPS://"]), HEADER_TEXT).map("".join),
)
EXPIRES = st.datetimes(timezones=st.just(datetime.UTC)) | st.sampled_from(
    [
        datetime.datetime(1, 1, 1, tzinfo=datetime.UTC),
        datetime.datetime(9999, 12, 31, 23, 59, tzinfo=datetime.UTC),
    ]
)
STORAGE = st.tuples(
    st.integers(100, 999) | st.just(200),
    st.dictionaries(st.sampled_from(["content-length", "content-encoding"]), RETRY_AFTER, max_size=2),
    st.binary(max_size=64),
)


def downloads(url: str, expires: datetime.datetime, storage: Any, api: list[Any]) -> None:
    time = FakeTime()
    client = scripted_client(api, time)

    def answer(request: httpx.Request) -> httpx.Response:
        if isinstance(storage, Exception):
            raise storage
        status, headers, body = storage
        raw = [(k.encode(), v.encode("utf-8", "surrogatepass")) for k, v in headers.items()]
        return httpx.Response(status, headers=raw, content=body)

    now = lambda: datetime.datetime(2025, 1, 9, tzinfo=datetime.UTC)  # noqa: E731
    with tempfile.TemporaryDirectory() as folder:
        for destination in (folder, Path(folder) / "file.csv", Path(folder) / "missing" / "f"):
            with httpx.Client(transport=httpx.MockTransport(answer)) as http:
                documented(
                    lambda d=destination: download_export(  # type: ignore[misc]
                        client, completed(url, expires), d, http=http, now=now, refresh_timeout=0.01
                    )
                )

            async def run_async(d: Path | str = destination) -> None:
                async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http_async:
                    await download_export_async(
                        client, completed(url, expires), d, http=http_async, now=now, refresh_timeout=0.01
                    )

            documented(lambda: asyncio.run(run_async()))
        leftovers = [p.name for p in Path(folder).iterdir() if p.name.endswith(".part")]
        assert leftovers == []


@PROFILE
@given(URLS, EXPIRES, STORAGE | FAILURE, SCRIPT)
def test_download_raises_only_the_documented_tree(
    url: str, expires: datetime.datetime, storage: Any, api: Any
) -> None:
    downloads(url, expires, storage, api)


@pytest.mark.slow
@SLOW
@given(URLS, EXPIRES, STORAGE | FAILURE, SCRIPT)
def test_download_raises_only_the_documented_tree_at_length(
    url: str, expires: datetime.datetime, storage: Any, api: Any
) -> None:
    downloads(url, expires, storage, api)


@pytest.mark.parametrize("url", ["http://[::1", "https://xn--/x", "https://host:port/x"])
def test_unfetchable_links_are_download_errors(url: str, tmp_path: Path) -> None:
    storage = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, content=b"x")))
    expires = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)
    with pytest.raises(DownloadError) as caught:
        download_export(
            scripted_client([(500, {}, b"")], FakeTime()), completed(url, expires), tmp_path, http=storage
        )
    assert caught.value.kind in ("url", "other")
    assert list(tmp_path.iterdir()) == []


def test_year_one_expiry_means_expired_not_overflow(tmp_path: Path) -> None:
    fresh = export_body("completed")
    time = FakeTime()
    api = scripted_client([(200, {"content-type": "application/json"}, json.dumps(fresh).encode())], time)
    storage = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, content=b"data")))
    export = completed(fresh["downloadUrl"], datetime.datetime(1, 1, 1, tzinfo=datetime.UTC))
    assert download_export(api, export, tmp_path / "f.csv", http=storage).read_bytes() == b"data"


def test_a_short_token_inside_a_default_header_is_no_leak(tmp_path: Path) -> None:
    """``t`` occurs in ``python-httpx/0.28.1`` (the default User-Agent); only a whole-word token is a leak."""
    fresh = export_body("completed")
    client = AuthenticatedClient(base_url="https://api.test/v1", token="t")
    storage = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, content=b"ok")))
    export = completed(fresh["downloadUrl"], datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC))
    assert download_export(client, export, tmp_path / "f.csv", http=storage).read_bytes() == b"ok"
    leaking = httpx.Client(headers={"x-api-key": "Bearer t"})
    with pytest.raises(ValueError, match="must not carry"):
        download_export(client, export, tmp_path / "g.csv", http=leaking)


def test_download_export_async_downloads(tmp_path: Path) -> None:
    fresh = export_body("completed")
    export = completed(fresh["downloadUrl"], datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC))

    async def run() -> Path:
        transport = httpx.MockTransport(lambda r: httpx.Response(200, content=b"async-bytes"))
        async with httpx.AsyncClient(transport=transport) as http:
            client = AuthenticatedClient(base_url="https://api.test/v1", token=TOKEN)
            return await download_export_async(client, export, tmp_path, http=http)

    path = asyncio.run(run())
    assert path.read_bytes() == b"async-bytes" and path.parent == tmp_path
    failed = ExportFailed.from_dict(export_body("failed"))
    with pytest.raises(DownloadError, match="failed"):
        asyncio.run(
            download_export_async(AuthenticatedClient(base_url="https://a", token=TOKEN), failed, tmp_path)
        )


# --- Retry-After ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("Sun, 06 Nov 1994 08:49:37 GMT", 60.0),  # IMF-fixdate
        ("Sunday, 06-Nov-94 08:49:37 GMT", 60.0),  # obsolete RFC 850
        ("Sun Nov  6 08:49:37 1994", 60.0),  # obsolete asctime
        ("\u00b2", None),  # a digit to str.isdigit(), not to RFC 9110
        ("\u0663", None),  # an Arabic-Indic three
        ("9" * 5000, MAX_RETRY_AFTER),
        ("86401", MAX_RETRY_AFTER),
        ("+5", None),
        ("0x10", None),
        ("1e3", None),
        ("Sun, 06 Nov 1994 08:49:37 +0000", None),  # email syntax, not an HTTP-date
        ("Sun, 31 Feb 1994 08:49:37 GMT", None),
        ("Sun, 06 Nov 1994 25:49:37 GMT", None),
        ("Sun, 06 Nov 10000 08:49:37 GMT", None),
    ],
)
def test_retry_after_accepts_exactly_rfc_9110(value: str, expected: float | None) -> None:
    now = datetime.datetime(1994, 11, 6, 8, 48, 37, tzinfo=datetime.UTC).timestamp()
    assert parse_retry_after(value, now=now) == expected


@PROFILE
@given(RETRY_AFTER | st.text())
def test_retry_after_never_raises_and_is_capped(value: str) -> None:
    result = parse_retry_after(value, now=1_700_000_000.0)
    assert result is None or 0 <= result <= MAX_RETRY_AFTER


# --- webhooks ------------------------------------------------------------------------------------------------

NOW = 1_700_000_000
WEBHOOK_BODY = json.dumps(spec_example("ExportCompletedEvent")).encode()
HOSTILE_TEXT = st.text(alphabet=st.characters(codec=None), max_size=30) | st.sampled_from(
    ["9" * 5000, "1" * 21, "\u00b2", "\udc80", "v1," + "A" * 10_000, "msg_" + "x" * 300, "-1", " 1 "]
)
HOSTILE_VALUE = HOSTILE_TEXT | st.none() | st.integers() | st.binary(max_size=8)
HEADER_NAMES = st.sampled_from(
    [
        "svix-id",
        "svix-timestamp",
        "svix-signature",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "x",
    ]
)
DELIVERY_BODY = st.one_of(
    st.just(WEBHOOK_BODY),
    st.binary(max_size=100),
    st.integers(1_000, 100_000).map(lambda n: b"[" * n + b"]" * n),
    JSON.map(lambda v: json.dumps(v).encode()),
)


@st.composite
def delivery(draw: st.DrawFn) -> tuple[bytes, dict[Any, Any]]:
    body = draw(DELIVERY_BODY)
    headers: dict[Any, Any] = {}
    if draw(st.booleans()):  # validly signed, so the payload check is reached
        headers.update(sign_webhook(body, SECRET, msg_id="msg_1", timestamp=NOW))
    headers.update(draw(st.dictionaries(HEADER_NAMES | st.integers(), HOSTILE_VALUE, max_size=4)))
    return body, headers


def verifies(body: bytes, headers: dict[Any, Any]) -> None:
    verifier = WebhookVerifier(SECRET, now=lambda: float(NOW))
    checks: list[Callable[[], object]] = [
        lambda: verifier.verify(body, headers),
        lambda: verify_webhook(body, headers, SECRET),
    ]
    for check in checks:
        try:
            check()
        except WebhookVerificationError as exc:
            assert exc.reason in WEBHOOK_REJECTIONS and SECRET not in str(exc)


@PROFILE
@given(delivery())
def test_webhook_verification_raises_only_its_error(case: tuple[bytes, dict[Any, Any]]) -> None:
    verifies(*case)


@pytest.mark.slow
@SLOW
@given(delivery())
def test_webhook_verification_raises_only_its_error_at_length(case: tuple[bytes, dict[Any, Any]]) -> None:
    verifies(*case)


@PROFILE
@given(HOSTILE_TEXT)
def test_a_malformed_secret_fails_where_it_is_given(secret: str) -> None:
    try:
        WebhookVerifier(secret)
    except WebhookVerificationError as exc:
        assert exc.reason == "bad-secret" and (len(secret) < 8 or secret not in str(exc))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"svix-timestamp": "9" * 5000}, "bad-timestamp"),
        ({"svix-timestamp": "\u00b2"}, "bad-timestamp"),
        ({"svix-id": "\udc80"}, "bad-header"),
        ({"svix-id": "m" * 300}, "bad-header"),
        ({"svix-signature": "v1," + "A" * 10_000}, "bad-header"),
        ({"svix-signature": "v1,\u00e9\udc80"}, "no-matching-signature"),
    ],
)
def test_every_header_is_bounded_before_it_is_parsed(changes: dict[str, str], reason: str) -> None:
    headers = {**sign_webhook(WEBHOOK_BODY, SECRET, msg_id="msg_1", timestamp=NOW), **changes}
    with pytest.raises(WebhookVerificationError) as caught:
        verify_webhook(WEBHOOK_BODY, headers, SECRET, now=lambda: float(NOW))
    assert caught.value.reason == reason


def test_signed_but_deep_payload_is_its_own_reason() -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    headers = sign_webhook(body, SECRET, msg_id="msg_1", timestamp=NOW)
    with pytest.raises(WebhookVerificationError) as caught:
        verify_webhook(body, headers, SECRET, now=lambda: float(NOW))
    assert caught.value.reason == "invalid-payload"


def test_the_verifier_checks_its_secret_once_and_hides_it() -> None:
    with pytest.raises(WebhookVerificationError) as caught:
        WebhookVerifier("whsec_not base64!")
    assert caught.value.reason == "bad-secret"
    verifier = WebhookVerifier(SECRET, now=lambda: float(NOW))
    assert SECRET not in repr(verifier) and SECRET.removeprefix("whsec_") not in repr(verifier)
    headers = sign_webhook(WEBHOOK_BODY, SECRET, msg_id="msg_2", timestamp=NOW)
    assert (
        verifier.verify(WEBHOOK_BODY, headers).export.id
        == spec_example("ExportCompletedEvent")["export"]["id"]
    )
