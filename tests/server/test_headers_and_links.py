"""No answer depends on a request header: no slash redirects, forwarded headers only from trusted proxies,
links from ``--public-url`` or the bound socket, and exactly one accepted form of a link."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from reference_server import signing
from reference_server.config import ServerConfig
from reference_server.seed import SPREADSHEET_QUESTIONNAIRE_ID
from reference_server.serving import ServingOptions
from reference_server.testing import ServerHandle, running_server

from .server_test_helpers import EXPORTS, assert_problem, client_for, create, wait_until_done

HOSTILE = {
    "Host": "evil.example",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-For": "203.0.113.9",
    "X-Forwarded-Host": "evil.example",
    "Forwarded": "for=203.0.113.9;proto=https;host=evil.example",
}


def _link(server: ServerHandle, headers: dict[str, str] | None = None) -> str:
    with client_for(server) as http:
        export_id = create(http, SPREADSHEET_QUESTIONNAIRE_ID, "csv")["id"]
        wait_until_done(http, export_id)
        response = http.get(f"{EXPORTS}/{export_id}", headers=headers or {}, params={"probe": "last"})
    link: str = response.json()["downloadUrl"]
    return link


class _ProbeLog(logging.Handler):
    """Wakes the test when the access log records ``_link``'s final GET (logged just after the answer)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.client: str | None = None
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        entry = json.loads(record.getMessage())
        if entry.get("query") == "probe=last":
            self.client = entry["client"]
            self.seen.set()


@contextlib.contextmanager
def _access_log() -> Iterator[_ProbeLog]:
    logger = logging.getLogger("reference_server.access")
    handler, level = _ProbeLog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _client_of_last_request(log: _ProbeLog) -> str | None:
    assert log.seen.wait(10), "the final request was never logged"
    return log.client


def test_a_trailing_slash_is_a_404_problem_not_a_redirect(server: ServerHandle) -> None:
    link = _link(server)
    parts = urlsplit(link)
    with client_for(server) as http:
        for path in (f"{EXPORTS}/", f"{EXPORTS}/abc/"):
            response = http.get(path, headers={"Host": "evil.example"})
            assert_problem(response, 404)
            assert "location" not in response.headers
    slashed = httpx.get(f"{server.origin}{parts.path}/?{parts.query}", headers={"Host": "evil.example"})
    assert_problem(slashed, 404)
    assert "location" not in slashed.headers
    assert parse_qs(parts.query)["signature"][0] not in slashed.text


def test_links_and_logs_ignore_host_and_forwarded_headers_by_default() -> None:
    with running_server() as server, _access_log() as log:
        link = _link(server, headers=HOSTILE)
        assert link.startswith(server.origin + "/files/")
        assert _client_of_last_request(log) == "127.0.0.1"


def test_forwarded_headers_are_trusted_only_from_the_configured_proxies() -> None:
    options = ServingOptions(forwarded_allow_ips=("127.0.0.1",))
    with running_server(serving=options) as server, _access_log() as log:
        link = _link(server, headers=HOSTILE)
        assert link.startswith(server.origin + "/files/")  # links still come from the config, not a proxy
        assert _client_of_last_request(log) == "203.0.113.9"


def test_public_url_is_the_origin_of_links() -> None:
    with running_server(public_url="https://exports.example.com/base/") as server:
        link = _link(server, headers=HOSTILE)
        assert link.startswith("https://exports.example.com/base/files/")
        # Behind the proxy the same path (without its prefix) reaches this server and downloads.
        local = server.origin + urlsplit(link).path.removeprefix("/base") + "?" + urlsplit(link).query
        assert httpx.get(local).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://exports.example.com",
        "data:text/html,hi",
        "exports.example.com",
        "https://",
        "https://exports.example.com/?a=1",
        "https://exports.example.com/#x",
        "https://exports.example.com/a b",
    ],
)
def test_a_public_url_that_cannot_prefix_links_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="public URL"):
        ServerConfig(tokens=("t",), public_url=url)


def test_a_public_url_in_any_case_of_http_is_accepted() -> None:
    assert ServerConfig(tokens=("t",), public_url="HTTPS://Exports.example.com/").public_url == (
        "HTTPS://Exports.example.com"
    )


def test_links_accept_exactly_one_form(server: ServerHandle) -> None:
    link = _link(server)
    parts = urlsplit(link)
    query = parse_qs(parts.query)
    expires, signature = query["expires"][0], query["signature"][0]
    base = f"{server.origin}{parts.path}"
    variants = [
        f"expires=0{expires}&signature={signature}",
        f"expires=00{expires}&signature={signature}",
        f"expires=%2B{expires}&signature={signature}",
        f"expires={expires}&expires={expires}&signature={signature}",
        f"expires={expires}&signature=bogus&signature={signature}",
        f"expires={expires}&signature={signature}&signature=bogus",
        f"expires={expires}&signature={signature}=",
        f"expires={expires}.0&signature={signature}",
    ]
    for query_string in variants:
        assert_problem(httpx.get(f"{base}?{query_string}"), 403)
    assert httpx.get(link).status_code == 200


def test_signing_refuses_non_canonical_expiry() -> None:
    secret, name, expires = b"k" * 32, "a.csv", 2_000_000_000
    good = signing.sign(secret, name, expires)
    for text in ("0" + str(expires), " " + str(expires), "+" + str(expires), "0", "", "1" * 13):
        assert signing.verify(secret, name, text, good, 0) == "invalid"
    assert signing.verify(secret, name, str(expires), good, 0) == "valid"
