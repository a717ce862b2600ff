"""The `link` rule: a completed export's `downloadUrl` is safe, downloads, and never gets shorter-lived.

The media types a file may have per `format` come from the spec (`ExportFormat`'s `x-download-media-types`).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import contract
from contract import download_media_types, download_url_pattern

from .check_time import parse_timestamp
from .context import Context, Rules
from .rules import LINK

_MEDIA_TYPES = download_media_types()
_HTTP_ONLY = re.compile(download_url_pattern())  # the spec's http(s) requirement, not a copy of it


def check_scheme(ctx: Rules, body: dict[str, Any]) -> bool:
    """True when the link may be fetched: https, or http on loopback when the API itself is."""
    url = body.get(contract.DOWNLOAD_URL)
    if not isinstance(url, str):
        return False
    if not _HTTP_ONLY.search(url):
        scheme = url.split(":", 1)[0][:20] if ":" in url else "(none)"
        ctx.fail(
            LINK,
            contract.GET_OP,
            f"{contract.DOWNLOAD_URL} has scheme {scheme!r}, not http(s) (pattern {_HTTP_ONLY.pattern}); not fetched",
            None,
        )
        return False
    parts = urlsplit(url)
    if parts.scheme.lower() == "https":
        return True
    from .config import is_loopback

    if parts.scheme.lower() == "http" and ctx.config.plain_http_loopback and is_loopback(url):
        return True
    ctx.fail(LINK, contract.GET_OP, f"{contract.DOWNLOAD_URL} {ctx.redactor.url(url)} is not https", None)
    return False


def check_download(ctx: Context, body: dict[str, Any]) -> None:
    """Fetch the link without the API token: 200, non-empty, a media type fitting `format`."""
    ctx.tally.exercise(LINK)
    if not check_scheme(ctx, body):
        return
    url = str(body[contract.DOWNLOAD_URL])
    ctx.progress(f"  download {ctx.redactor.url(url)}")
    sent = ctx.target.download(LINK, url)
    if isinstance(sent, str):
        ctx.fail(LINK, contract.GET_OP, f"{contract.DOWNLOAD_URL} {ctx.redactor.url(url)}: {sent}", None)
        return
    if sent.status != 200:
        ctx.fail(LINK, contract.GET_OP, f"download answered {sent.status}, expected 200", sent)
        return
    if sent.cut:
        ctx.fail(LINK, contract.GET_OP, f"download not complete: {sent.cut}", sent)
        return
    if not sent.size:
        ctx.fail(LINK, contract.GET_OP, "download answered an empty body", sent)
    expected = _MEDIA_TYPES.get(str(body.get("format")))
    if expected and sent.media_type not in expected:
        ctx.fail(
            LINK,
            contract.GET_OP,
            f"download of format {body.get('format')} has Content-Type {sent.media_type or '(none)'}, "
            f"expected one of {', '.join(expected)}",
            sent,
        )


def check_fresh(ctx: Rules, earlier: dict[str, Any], later: dict[str, Any]) -> None:
    """A later GET must give a link valid at least as long as the previous one."""
    ctx.tally.exercise(LINK)
    before = parse_timestamp(earlier.get(contract.EXPIRES_AT))
    after = parse_timestamp(later.get(contract.EXPIRES_AT))
    if before is not None and after is not None and after < before:
        ctx.fail(
            LINK,
            contract.GET_OP,
            f"a later GET gave a link expiring earlier ({later[contract.EXPIRES_AT]}) than the previous one "
            f"({earlier[contract.EXPIRES_AT]})",
            None,
        )
