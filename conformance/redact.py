"""Redaction of secrets: bearer tokens, webhook secrets and the query string of every URL.

Why: findings carry reproductions that end up in CI logs and artifacts; a pre-signed link's signature
or a token there would be a leak. Everything printed or written goes through `Redactor.text`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "REDACTED"
_URL_QUERY = re.compile(r"""((?:https?|ftp)://[^\s"'<>?#\\]+)\?[^\s"'<>#\\]*""", re.IGNORECASE)
_AUTH_HEADER = re.compile(r"(authorization[\"']?\s*[:=]\s*[\"']?)[^\"'\n,}]+", re.IGNORECASE)
_BEARER = re.compile(r"\b(Bearer\s+)[A-Za-z0-9\-._~+/]+=*")
_SIGNATURE_PARAMS = re.compile(
    r"((?:signature|sig|token|x-amz-signature|x-amz-credential|x-amz-security-token|expires)=)[^&\s\"'<>]+",
    re.IGNORECASE,
)


#: Characters a bearer token (RFC 6750 b64token) or a base64 secret may consist of.
_TOKEN_CHARS = r"A-Za-z0-9\-._~+/="
#: Shorter secrets cannot be redacted without the risk of hiding ordinary text too.
SAFE_SECRET_LENGTH = 8


def _pattern(secret: str) -> re.Pattern[str]:
    """A long secret wherever it occurs; a short one only as a whole word, never inside a longer run of
    token characters (token `t` must not turn `errors-auth` into `errors-auREDACTEDh`)."""
    if len(secret) >= SAFE_SECRET_LENGTH:
        return re.compile(re.escape(secret))
    return re.compile(rf"(?<![{_TOKEN_CHARS}]){re.escape(secret)}(?![{_TOKEN_CHARS}])")


class Redactor:
    """Removes known secret values (exact, whole-token matches) and secret-shaped patterns from text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self._patterns: list[re.Pattern[str]] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        if secret and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)
            self._patterns = [_pattern(s) for s in self._secrets]

    def text(self, value: str) -> str:
        for pattern in self._patterns:
            value = pattern.sub(REDACTED, value)
        value = _URL_QUERY.sub(rf"\1?{REDACTED}", value)
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
