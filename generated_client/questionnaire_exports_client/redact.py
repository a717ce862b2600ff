"""Redaction: the one place that knows what a secret looks like and what replaces it (hand-written).

Why one module: the client's error messages, the helpers' logs, the reference server's access log and the
conformance suite's console and reports all hide the same secrets (bearer tokens, webhook secrets and the
query string of a pre-signed link, which is its credential), with the same placeholder, ``REDACTED``. It
lives in the client because that is the lowest layer: the tool imports the client, never the reverse.
Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "REDACTED",
    "SAFE_SECRET_LENGTH",
    "SECRET_JSON_MEMBERS",
    "SECRET_QUERY_PARAMS",
    "Redactor",
    "redact_query",
    "redact_url",
    "scrub",
]

#: What every secret is replaced by, everywhere.
REDACTED = "REDACTED"
#: Shorter secrets cannot be redacted wherever they occur without hiding ordinary text too.
SAFE_SECRET_LENGTH = 8
#: Query parameters whose values are credentials (``client_secret``: someone who puts it in the token URL).
SECRET_QUERY_PARAMS = frozenset({"signature", "token", "access_token", "client_secret"})

_URL_QUERY = re.compile(r"""((?:https?|ftp)://[^\s"'<>?#\\]+)\?[^\s"'<>#\\]*""", re.IGNORECASE)
#: The user info of a URL (``https://user:password@host``): a credential wherever the URL is shown.
_USERINFO = re.compile(r"""((?:https?|ftp)://)[^\s/?#@"'<>\\]+@""", re.IGNORECASE)
_AUTH_HEADER = re.compile(r"(authorization[\"']?\s*[:=]\s*[\"']?)[^\"'\n,}]+", re.IGNORECASE)
_BEARER = re.compile(r"\b(Bearer\s+)[A-Za-z0-9\-._~+/]+=*")
_SIGNATURE_PARAMS = re.compile(
    r"((?:signature|sig|token|client_secret|x-amz-signature|x-amz-credential|x-amz-security-token|expires)=)[^&\s\"'<>]+",
    re.IGNORECASE,
)
#: JSON members that hold credentials whoever wrote them (OAuth token requests and answers, RFC 6749 4.4 and 5.1):
#: their values are hidden even when the secret was never ``add``-ed (a proxy sees other clients' secrets).
SECRET_JSON_MEMBERS = frozenset({"client_secret", "access_token", "refresh_token", "id_token"})
_JSON_MEMBER = re.compile(
    r'("(?:' + "|".join(sorted(SECRET_JSON_MEMBERS)) + r')"\s*:\s*")(?:[^"\\]|\\.)*("|\Z)', re.IGNORECASE
)
#: Characters a bearer token (RFC 6750 b64token) or a base64 secret may consist of.
_TOKEN_CHARS = r"A-Za-z0-9\-._~+/="


def redact_url(url: str) -> str:
    """``url`` without user info, fragment or the query string's content (``?REDACTED`` marks there was one)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparseable URL>"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, REDACTED if parts.query else "", ""))


def scrub(text: str, url: str) -> str:
    """``text`` with the query string, fragment and user info of ``url`` replaced by ``REDACTED``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return text
    for secret in (parts.query, parts.fragment, parts.password or "", parts.username or ""):
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def redact_query(query: str) -> str:
    """A query string with the values of ``SECRET_QUERY_PARAMS`` replaced by ``REDACTED`` (for access logs)."""
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, REDACTED if k.lower() in SECRET_QUERY_PARAMS else v) for k, v in pairs])


def _pattern(secret: str) -> re.Pattern[str]:
    """A long secret wherever it occurs; a short one only as a whole word, never inside a longer run of
    token characters (token ``t`` must not turn ``errors-auth`` into ``errors-auREDACTEDh``)."""
    if len(secret) >= SAFE_SECRET_LENGTH:
        return re.compile(re.escape(secret))
    return re.compile(rf"(?<![{_TOKEN_CHARS}]){re.escape(secret)}(?![{_TOKEN_CHARS}])")


class Redactor:
    """Removes known secret values (exact matches) and secret-shaped patterns from text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self._patterns: list[re.Pattern[str]] = []
        for secret in secrets:
            self.add(secret)

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secret(s))"

    def add(self, secret: str) -> None:
        if secret and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)
            self._patterns = [_pattern(s) for s in self._secrets]

    def text(self, value: str) -> str:
        for pattern in self._patterns:
            value = pattern.sub(REDACTED, value)
        value = _JSON_MEMBER.sub(rf"\1{REDACTED}\2", value)
        value = _URL_QUERY.sub(rf"\1?{REDACTED}", value)
        value = _USERINFO.sub(rf"\1{REDACTED}@", value)
        value = _SIGNATURE_PARAMS.sub(rf"\1{REDACTED}", value)
        value = _AUTH_HEADER.sub(rf"\1{REDACTED}", value)
        return _BEARER.sub(rf"\1{REDACTED}", value)

    def url(self, value: str) -> str:
        """A URL with its whole query string replaced (the signature of a pre-signed link lives there)."""
        base, sep, _ = value.partition("?")
        return self.text(base) + (f"?{REDACTED}" if sep else "")

    def deep(self, value: Any) -> Any:
        """Redact every string inside a JSON-like value."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.deep(item) for item in value]
        if isinstance(value, dict):
            return {key: self.deep(item) for key, item in value.items()}
        return value
