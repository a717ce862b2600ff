"""download_export on mock transports: atomic writes, link refresh, and no token sent to storage."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from questionnaire_exports_client import Client
from questionnaire_exports_client.lib import ClientCredentials, DownloadError, download_export
from questionnaire_exports_client.models import ExportCompleted, ExportFailed, ExportPending

from .conftest import BASE_URL, TOKEN, ScriptedApi, export_body, ok

BEFORE_EXPIRY = datetime(2025, 1, 9, 12, 0, tzinfo=UTC)  # the example's link expires 12:10
AFTER_EXPIRY = datetime(2025, 1, 10, 0, 0, tzinfo=UTC)
FRESH_URL = (
    "https://storage.example.com/exports/questionnaire-export.xlsx?expires=1736600000&signature=FRESHSIG"
)
CONTENT = b"Section,Number,Question\n" * 500


def example_export() -> ExportCompleted:
    return ExportCompleted.from_dict(export_body("completed"))


class Storage:
    """A storage host: answers each request from a script and records requests."""

    def __init__(self, *replies: Callable[[httpx.Request], httpx.Response]) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert self.replies, "unexpected storage request"
        return self.replies.pop(0)(request)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handler))


def serve(content: bytes = CONTENT, **kwargs: Any) -> Callable[[httpx.Request], httpx.Response]:
    return lambda _request: httpx.Response(200, content=content, **kwargs)


def deny(_request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        403, text="<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
    )


class BrokenStream(httpx.SyncByteStream):
    """Yields some bytes, then fails like a dropped connection (with the URL in the message)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __iter__(self) -> Iterator[bytes]:
        yield CONTENT[:100]
        raise httpx.ReadError(f"connection reset while reading {self.url}")


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_downloads_to_a_file_without_the_token(api: ScriptedApi, tmp_path: Path) -> None:
    storage = Storage(serve())
    target = download_export(
        api.client(),
        example_export(),
        tmp_path / "out.xlsx",
        http=storage.client(),
        now=lambda: BEFORE_EXPIRY,
    )
    assert target == tmp_path / "out.xlsx" and target.read_bytes() == CONTENT
    assert files_in(tmp_path) == ["out.xlsx"]
    (request,) = storage.requests
    assert str(request.url) == export_body("completed")["downloadUrl"]
    assert "authorization" not in request.headers
    assert all(TOKEN not in value for value in request.headers.values())
    assert api.requests == []


def test_folder_destination_takes_the_links_file_name(api: ScriptedApi, tmp_path: Path) -> None:
    storage = Storage(serve())
    target = download_export(
        api.client(), example_export(), tmp_path, http=storage.client(), now=lambda: BEFORE_EXPIRY
    )
    assert target == tmp_path / "questionnaire-export.xlsx"


def test_link_expired_by_expires_at_is_refreshed_first(api: ScriptedApi, tmp_path: Path) -> None:
    api.add(ok("completed", downloadUrl=FRESH_URL, expiresAt="2025-01-11T00:00:00.000Z"))
    storage = Storage(serve())
    download_export(
        api.client(), example_export(), tmp_path / "f", http=storage.client(), now=lambda: AFTER_EXPIRY
    )
    assert [str(r.url) for r in storage.requests] == [FRESH_URL]
    assert api.requests[0].url.path.endswith("/" + example_export().id)


def test_link_within_the_skew_margin_counts_as_expired(api: ScriptedApi, tmp_path: Path) -> None:
    api.add(ok("completed", downloadUrl=FRESH_URL))
    storage = Storage(serve())
    almost = datetime(2025, 1, 9, 12, 9, 45, tzinfo=UTC)  # 15 s before expiry, margin 30 s
    download_export(api.client(), example_export(), tmp_path / "f", http=storage.client(), now=lambda: almost)
    assert [str(r.url) for r in storage.requests] == [FRESH_URL]


def test_403_from_storage_fetches_a_fresh_link_once(api: ScriptedApi, tmp_path: Path) -> None:
    api.add(ok("completed", downloadUrl=FRESH_URL))
    storage = Storage(deny, serve())
    target = download_export(
        api.client(), example_export(), tmp_path / "f", http=storage.client(), now=lambda: BEFORE_EXPIRY
    )
    assert target.read_bytes() == CONTENT
    assert [str(r.url) for r in storage.requests] == [export_body("completed")["downloadUrl"], FRESH_URL]
    assert len(api.requests) == 1


def test_second_403_gives_up_and_leaves_nothing(api: ScriptedApi, tmp_path: Path) -> None:
    api.add(ok("completed", downloadUrl=FRESH_URL))
    storage = Storage(deny, deny)
    with pytest.raises(DownloadError) as caught:
        download_export(
            api.client(), example_export(), tmp_path / "f", http=storage.client(), now=lambda: BEFORE_EXPIRY
        )
    assert caught.value.status_code == 403
    assert "FRESHSIG" not in str(caught.value) and "expires=" not in str(caught.value)
    assert caught.value.url == "https://storage.example.com/exports/questionnaire-export.xlsx?REDACTED"
    assert files_in(tmp_path) == []


def test_refreshed_export_that_failed_is_reported(api: ScriptedApi, tmp_path: Path) -> None:
    api.add(ok("failed", id=example_export().id))
    with pytest.raises(DownloadError, match="is failed"):
        download_export(
            api.client(), example_export(), tmp_path / "f", http=Storage().client(), now=lambda: AFTER_EXPIRY
        )


def test_short_body_leaves_no_file(api: ScriptedApi, tmp_path: Path) -> None:
    storage = Storage(serve(CONTENT[:10], headers={"content-length": str(len(CONTENT))}))
    with pytest.raises(DownloadError, match=f"stopped after 10 of {len(CONTENT)} bytes"):
        download_export(
            api.client(), example_export(), tmp_path / "f", http=storage.client(), now=lambda: BEFORE_EXPIRY
        )
    assert files_in(tmp_path) == []


def test_dropped_connection_leaves_no_file_and_keeps_the_old_one(api: ScriptedApi, tmp_path: Path) -> None:
    target = tmp_path / "report.xlsx"
    target.write_bytes(b"previous download")
    url = export_body("completed")["downloadUrl"]
    storage = Storage(lambda _r: httpx.Response(200, stream=BrokenStream(url)))
    with pytest.raises(DownloadError) as caught:
        download_export(
            api.client(), example_export(), target, http=storage.client(), now=lambda: BEFORE_EXPIRY
        )
    assert "ReadError" in str(caught.value)
    assert "signature=" not in str(caught.value) and "expires=" not in str(caught.value)
    assert files_in(tmp_path) == ["report.xlsx"] and target.read_bytes() == b"previous download"


def test_storage_client_carrying_the_token_is_refused(api: ScriptedApi, tmp_path: Path) -> None:
    for leaky in (
        httpx.Client(headers={"Authorization": "Basic abc"}),
        httpx.Client(headers={"X-Api-Key": TOKEN}),
        api.client().get_httpx_client(),
    ):
        with pytest.raises(ValueError, match="must not carry") as caught:
            download_export(
                api.client(), example_export(), tmp_path / "f", http=leaky, now=lambda: BEFORE_EXPIRY
            )
        assert TOKEN not in str(caught.value)
    assert files_in(tmp_path) == []


def test_storage_client_with_an_auth_is_refused_for_a_plain_client(api: ScriptedApi, tmp_path: Path) -> None:
    """With ``ClientCredentials`` on a plain ``Client`` there is no static token: an ``auth`` is the leak."""
    auth = ClientCredentials("vci_x", "vcs_x", token_url="https://auth.test/oauth/token")
    plain = Client(base_url=BASE_URL, httpx_args={"transport": httpx.MockTransport(api.handler)})
    with pytest.raises(ValueError, match="must not carry"):
        download_export(
            plain, example_export(), tmp_path / "f", http=httpx.Client(auth=auth), now=lambda: BEFORE_EXPIRY
        )
    assert files_in(tmp_path) == []


def test_bad_arguments_are_rejected(api: ScriptedApi, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="does not exist") as caught:
        download_export(api.client(), example_export(), tmp_path / "missing" / "f", http=Storage().client())
    assert caught.value.kind == "destination"
    pending = ExportPending.from_dict(export_body("pending"))
    with pytest.raises(TypeError, match="ExportCompleted"):
        download_export(api.client(), pending, tmp_path / "f")  # type: ignore[arg-type]


def test_failed_export_raises_with_its_message(api: ScriptedApi, tmp_path: Path) -> None:
    failed = ExportFailed.from_dict(export_body("failed"))
    with pytest.raises(DownloadError, match=export_body("failed")["errorMessage"]):
        download_export(api.client(), failed, tmp_path / "f", http=Storage().client())
    assert files_in(tmp_path) == []


def test_compressed_body_is_decoded_and_checked_against_wire_length(api: ScriptedApi, tmp_path: Path) -> None:
    packed = gzip.compress(CONTENT)
    headers = {"content-encoding": "gzip", "content-length": str(len(packed))}
    # A streamed body, as on the network (a preloaded one never counts its wire bytes).
    storage = Storage(lambda _r: httpx.Response(200, headers=headers, stream=httpx.ByteStream(packed)))
    target = download_export(
        api.client(), example_export(), tmp_path / "f", http=storage.client(), now=lambda: BEFORE_EXPIRY
    )
    assert target.read_bytes() == CONTENT
