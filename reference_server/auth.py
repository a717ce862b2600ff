"""Bearer-token authentication and tenancy: the one place that maps a credential to an owner key.

Why hash the token: digests of equal length make the comparison constant-time regardless of what the
caller sends, and the database stores only the digest as the export's owner, never the token.

Tenancy: a static ``--token`` is its own tenant (the token's SHA-256 hex digest). Every OAuth token of one
client maps to that client's key (``client_owner``), so exports made with an earlier token stay visible with
the next one; the ``oauth-client:`` prefix keeps it apart from any static token's key (pure hex).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from .oauth import TokenRegistry


def owner_of(token: str) -> str:
    """The tenant key of a static ``token``: its SHA-256 hex digest."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def client_owner(client_id: str) -> str:
    """The tenant key of every token of OAuth client ``client_id``."""
    return "oauth-client:" + hashlib.sha256(client_id.encode("utf-8")).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive), else None."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


class TokenAuthenticator:
    """Checks bearer tokens: the configured static ones in constant time, then ``registry``'s OAuth tokens."""

    def __init__(self, tokens: Iterable[str], registry: TokenRegistry | None = None) -> None:
        self._digests = [hashlib.sha256(t.encode("utf-8")).digest() for t in tokens]
        self._registry = registry

    def authenticate(self, authorization: str | None) -> str | None:
        """The owner key for a valid header, else None. Every static token is compared every time."""
        token = bearer_token(authorization)
        if token is None:
            return None
        given = hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
        matched = False
        for digest in self._digests:
            matched |= hmac.compare_digest(given, digest)
        if matched:
            return given.hex()
        client_id = self._registry.client_of(token) if self._registry is not None else None
        return None if client_id is None else client_owner(client_id)
