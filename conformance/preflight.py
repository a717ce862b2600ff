"""Preflight: decide "could not run" (exit 2, with a hint) before any load.

Why: a base URL without `/v1`, a login redirect or an HTML error page is a misconfiguration, not a
non-conforming API; reporting it as ten findings sends people hunting for bugs that are not there.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urljoin, urlsplit

import contract

from .context import Context
from .rules import ERRORS_AUTH
from .transport import CannotRun, Sent

HINT = "does it end in /v1?"


def _describe(sent: Sent, url: str) -> str:
    if 300 <= sent.status < 400:
        location = sent.response.headers.get("location", "")
        host = urlsplit(urljoin(url, location)).netloc or "(no Location)"
        return f"{sent.status} redirecting to {host}"
    if sent.cut:
        return f"{sent.status}, {sent.cut}"
    return f"{sent.status} {sent.media_type or '(no Content-Type)'}"


def _is_json(sent: Sent) -> bool:
    media = sent.media_type
    return (media == "application/json" or media.endswith("+json")) and sent.json() is not None


def _signature(sent: Sent) -> tuple[int, str, Any]:
    return sent.status, sent.media_type, sent.json()


def not_the_api(what: str) -> CannotRun:
    return CannotRun(f"the base URL does not look like the API (got {what}); {HINT}")


def check_probe(ctx: Context, probed: Sent) -> None:
    """The probe of an unknown export id must be an answer of the API: JSON, not a redirect or a page.

    A 404 problem that the API would give for any path (the same answer for a path that cannot exist,
    and the same without a token, where the API answers 401) means the route is not there.
    """
    url = ctx.config.base_url
    if 300 <= probed.status < 400 or probed.cut or not _is_json(probed):
        raise not_the_api(_describe(probed, url))
    if probed.status != 404:
        return  # a JSON answer of another status: the errors-auth rule judges it
    nowhere = ctx.target.api(ERRORS_AUTH, "GET", f"/conformance-no-such-path-{secrets.token_hex(4)}")
    if _signature(nowhere) != _signature(probed):
        return
    path = contract.operation_path(contract.GET_OP, id=f"conformance-unknown-{secrets.token_hex(6)}")
    anonymous = ctx.target.api(ERRORS_AUTH, "GET", path, auth="none")
    if _signature(anonymous) == _signature(probed):
        raise not_the_api(
            f"{probed.status} {probed.media_type}, the same answer as for a path that does not exist, "
            "with or without a token"
        )


def problem_detail(sent: Sent) -> str:
    body = sent.json()
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])
    return f"{sent.status} {sent.media_type or '(no Content-Type)'}"
