"""Bearer-token authentication and tenancy.

Why hash the token: digests of equal length make the comparison constant-time regardless of what the
caller sends, and the database stores only the digest as the export's owner, never the token.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable


def owner_of(token: str) -> str:
    """The tenant key of ``token``: its SHA-256 hex digest."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenAuthenticator:
    """Checks ``Authorization: Bearer <token>`` against the configured tokens in constant time."""

    def __init__(self, tokens: Iterable[str]) -> None:
        self._digests = [hashlib.sha256(t.encode("utf-8")).digest() for t in tokens]

    def authenticate(self, authorization: str | None) -> str | None:
        """The owner key for a valid header, else None. Every configured token is compared every time."""
        if authorization is None:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        given = hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
        matched = False
        for digest in self._digests:
            matched |= hmac.compare_digest(given, digest)
        return given.hex() if matched else None
