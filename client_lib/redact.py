"""Keeping pre-signed URLs' signatures out of messages and logs."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

_HIDDEN = "…"


def redact_url(url: str) -> str:
    """``url`` without user info, query string or fragment (a pre-signed URL's query is its credential)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparseable URL>"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    query = _HIDDEN if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def scrub(text: str, url: str) -> str:
    """``text`` with the query string, fragment and user info of ``url`` replaced by an ellipsis."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return text
    for secret in (parts.query, parts.fragment, parts.password or "", parts.username or ""):
        if secret:
            text = text.replace(secret, _HIDDEN)
    return text
