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


class Redactor:
    """Removes known secret values and secret-shaped patterns from text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def add(self, secret: str) -> None:
        if secret and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, REDACTED)
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
