"""The client helpers through the proxy against the reference server: files byte-identical, report conforming.

The reference server's links must point at the proxy so that downloads pass through it too: the proxy
serves first (on port 0, told its upstream later, `LateBound`), then the reference server starts with the
proxy's origin as its `public_url`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from questionnaire_exports_client import AuthenticatedClient
from questionnaire_exports_client.lib import Backoff, create_and_wait, download_export
from questionnaire_exports_client.models import ExportCompleted
from questionnaire_exports_client.models.export_format import check_export_format
from questionnaire_exports_client.redact import Redactor

from conformance import embedded
from conformance.proxy import Proxy, ProxyConfig, Upstream, quiet_aborts
from conformance.proxy_log import ExchangeLog
from reference_server.seed import DOCUMENT_QUESTIONNAIRE_ID, SPREADSHEET_QUESTIONNAIRE_ID
from reference_server.testing import ServerHandle, running_server

from .upstreams import PATIENCE, FakeJudge, LateBound

TOKEN = "proxy-reference-token-7Hq2"
QUICK = Backoff(min_delay=0.02, max_delay=0.2)


class Through:
    """The proxy in front of a reference server whose links name the proxy."""

    def __init__(self, origin: str, server: ServerHandle, log: ExchangeLog, judge: FakeJudge) -> None:
        self.origin, self.server, self.log, self.judge = origin, server, log, judge

    def client(self) -> AuthenticatedClient:
        return AuthenticatedClient(base_url=self.origin + "/v1", token=TOKEN, timeout=httpx.Timeout(PATIENCE))


@pytest.fixture
def through() -> Iterator[Through]:
    late = LateBound()
    judge = FakeJudge()
    log = ExchangeLog(judge, Redactor(), lambda _line: None, keep=True)
    with quiet_aborts(), embedded.serving(late, "127.0.0.1", 0, name="proxy") as port:
        origin = f"http://127.0.0.1:{port}"
        with running_server(tokens=(TOKEN,), public_url=origin, in_memory=True) as server:
            late.app = Proxy(ProxyConfig(Upstream.parse(server.base_url)), log)
            yield Through(origin, server, log, judge)
    log.close()


@pytest.mark.parametrize(
    ("questionnaire", "format_"),
    [(SPREADSHEET_QUESTIONNAIRE_ID, "original"), (DOCUMENT_QUESTIONNAIRE_ID, "csv")],
    ids=["xlsx", "csv"],
)
def test_helpers_through_the_proxy_download_byte_identical_files(
    through: Through, tmp_path: Path, questionnaire: str, format_: str
) -> None:
    with through.client() as client:
        export = create_and_wait(
            client, questionnaire, format_=check_export_format(format_), timeout=PATIENCE, backoff=QUICK
        )
        assert isinstance(export, ExportCompleted)
        link = urlsplit(export.download_url)
        assert f"{link.scheme}://{link.netloc}" == through.origin  # the download goes through the proxy
        path = download_export(client, export, tmp_path)
    direct = httpx.get(through.server.origin + link.path + "?" + link.query, timeout=PATIENCE)
    assert direct.status_code == 200
    assert path.read_bytes() == direct.content and direct.content
    through.log.close()
    methods = [(r.method, urlsplit(r.url).path.startswith("/v1/")) for r in through.judge.observed]
    assert methods[0] == ("POST", True) and all(api for _, api in methods)
    assert [r.method for r in through.judge.observed].count("GET") >= 1
    (download,) = [r for r in through.log.entries if r.url.startswith(through.server.origin + "/files/")]
    assert download.status == 200 and download.response_body == b""
    assert download.cut is not None and f"{len(direct.content)} bytes" in download.cut
