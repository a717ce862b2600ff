"""The OAuth client-credentials token endpoint (``POST /oauth/token``) and the registry of issued tokens.

Why one active token per client, in memory: the vendor keeps one token per application (a new one revokes
the previous at once), so the state is one entry per configured client and cannot grow; a restart logs every
client out (its next call answers ``401`` and ``ClientCredentials`` mints a new token). Only SHA-256 digests
of tokens and secrets are kept. Everything the endpoint checks comes from ``oauth-token.yaml`` through
``contract``: the request schema, the error codes, the scopes; only ``200``/``400``/``401``/``413``/``429``
are answered, as that document says (a slow body is ``400 invalid_request``, not an undocumented ``408``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

import contract

from .body import BodyRefused, read_body
from .clock import Clock
from .config import ServerConfig
from .problems import problem
from .ratelimit import RateLimiter
from .validation import InvalidBody, decode_json, describe_errors

__all__ = ["TokenEndpoint", "TokenRegistry"]


def _code(name: str) -> str:
    """An RFC 6749 error code the token document lists (fails at import when the document drops it)."""
    if name not in contract.token_error_codes():
        raise LookupError(f"oauth-token.yaml does not list the error code {name!r}")
    return name


def _field(name: str) -> str:
    """A ``TokenRequest`` property (fails at import when the document renames it)."""
    if name not in contract.token_schema("TokenRequest")["properties"]:
        raise LookupError(f"oauth-token.yaml's TokenRequest has no field {name!r}")
    return name


INVALID_REQUEST = _code("invalid_request")
INVALID_CLIENT = _code("invalid_client")
INVALID_SCOPE = _code("invalid_scope")
UNSUPPORTED_GRANT_TYPE = _code("unsupported_grant_type")
CLIENT_ID, CLIENT_SECRET, SCOPE, GRANT_TYPE = map(
    _field, ("client_id", "client_secret", "scope", "grant_type")
)

#: RFC 6749 sections 5.1 and 5.2: token answers (and refusals) must not be cached.
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
#: The rate-limit bucket every client id that is not configured shares (so they cannot grow memory).
_UNKNOWN_CLIENTS = "unknown-clients"
_MAX_DESCRIPTION = 200


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).digest()


class TokenRegistry:
    """Client secrets (as digests) and each client's one active token (as a digest, with its expiry).

    Thread-safe: the app reads it from the server's loop, tests from their own threads.
    """

    def __init__(self, clients: Iterable[tuple[str, str]], lifetime: float, clock: Clock) -> None:
        self._secrets = {client_id: _digest(secret) for client_id, secret in clients}
        self._lifetime = timedelta(seconds=lifetime)
        self._clock = clock
        self._lock = threading.Lock()
        self._active: dict[str, tuple[bytes, datetime]] = {}  # client id -> (token digest, expiry)
        self._clients: dict[bytes, str] = {}  # token digest -> client id; at most one per client
        self._unknown = secrets.token_bytes(32)  # compared against for unknown ids: same work either way
        #: Tokens issued per client id since the start (for tests and the startup log).
        self.issued: Counter[str] = Counter()

    @property
    def client_ids(self) -> frozenset[str]:
        return frozenset(self._secrets)

    def verify(self, client_id: str, secret: str) -> bool:
        """Whether ``secret`` is ``client_id``'s, compared in constant time (digests of equal length)."""
        expected = self._secrets.get(client_id, self._unknown)
        return hmac.compare_digest(_digest(secret), expected) and client_id in self._secrets

    def issue(self, client_id: str) -> str:
        """A new token for ``client_id``; its previous token stops working at once."""
        token = secrets.token_urlsafe(32)
        digest = _digest(token)
        expires = self._clock.now() + self._lifetime
        with self._lock:
            previous = self._active.get(client_id)
            if previous is not None:
                del self._clients[previous[0]]
            self._active[client_id] = (digest, expires)
            self._clients[digest] = client_id
            self.issued[client_id] += 1
        return token

    def client_of(self, token: str) -> str | None:
        """The client id of an active, unexpired ``token``, else None (revoked, expired or unknown).

        A dict lookup by digest: what is compared is a SHA-256 digest the caller cannot steer, so the
        lookup's timing tells nothing about any token.
        """
        digest = _digest(token)
        now = self._clock.now()
        with self._lock:
            client_id = self._clients.get(digest)
            if client_id is None or now >= self._active[client_id][1]:
                return None
            return client_id


def _description(text: str) -> str:
    """``text`` as RFC 6749 allows an ``error_description``: printable ASCII without ``"`` or ``\\``."""
    cleaned = "".join("'" if c == '"' else "/" if c == "\\" else c if " " <= c <= "~" else "?" for c in text)
    return cleaned if len(cleaned) <= _MAX_DESCRIPTION else cleaned[: _MAX_DESCRIPTION - 3] + "..."


def token_error(status: int, code: str, description: str) -> Response:
    """An RFC 6749 section 5.2 error answer."""
    body = {"error": code, "error_description": _description(description)}
    return JSONResponse(body, status_code=status, headers=_NO_STORE)


class TokenEndpoint:
    """``POST /oauth/token``: strict JSON, the document's schema, the client's secret, its scopes, its limit.

    Order: body bounds, strict JSON, then the rate limit (counted for every body that names a client id,
    right secret or wrong), then the schema, the secret (``401``) and the scopes; then a new token.
    """

    def __init__(self, registry: TokenRegistry, config: ServerConfig) -> None:
        self._registry = registry
        self._limiter = RateLimiter(config.token_rate_limit, config.monotonic)
        self._max_bytes = config.max_body_bytes
        self._body_timeout = config.body_timeout
        self._expires_in = int(config.token_lifetime)
        self._scopes = frozenset(contract.oauth_scopes())

    async def handle(self, request: Request) -> Response:
        try:
            document = decode_json(await read_body(request, self._max_bytes, self._body_timeout))
        except BodyRefused as exc:
            if exc.status == 413:
                return problem(413, exc.detail)
            return token_error(400, INVALID_REQUEST, exc.detail)  # 415 and 408 are not in the document
        except InvalidBody as exc:
            return token_error(400, INVALID_REQUEST, str(exc))
        client_id = document.get(CLIENT_ID) if isinstance(document, dict) else None
        if isinstance(client_id, str):
            known = client_id in self._registry.client_ids
            retry_after = self._limiter.hit(f"client:{client_id}" if known else _UNKNOWN_CLIENTS)
            if retry_after is not None:
                return problem(
                    429,
                    f"Too many token requests; retry after {retry_after} seconds.",
                    headers={"Retry-After": str(retry_after)},
                )
        refused = self._check(document)
        if refused is not None:
            return refused
        token = self._registry.issue(document[CLIENT_ID])
        body = {"access_token": token, "expires_in": self._expires_in, "token_type": "Bearer"}
        return JSONResponse(body, headers=_NO_STORE)

    def _check(self, document: Any) -> Response | None:
        """The error answer for a request that gets no token, else None."""
        errors = list(contract.token_request_validator().iter_errors(document))
        if errors and all(e.validator == "enum" and list(e.absolute_path) == [GRANT_TYPE] for e in errors):
            allowed = ", ".join(str(v) for v in errors[0].validator_value)
            return token_error(400, UNSUPPORTED_GRANT_TYPE, f"grant_type must be {allowed}.")
        if errors:
            params = describe_errors(errors, echo=False)  # the body holds a secret: quote none of it
            return token_error(400, INVALID_REQUEST, "; ".join(f"{n}: {r}" for n, r in params))
        if not self._registry.verify(document[CLIENT_ID], document[CLIENT_SECRET]):
            return token_error(401, INVALID_CLIENT, "Unknown client id or wrong client secret.")
        scope = document.get(SCOPE)
        if scope is not None and not set(scope.split(" ")) <= self._scopes:
            known = " ".join(sorted(self._scopes))
            return token_error(400, INVALID_SCOPE, f"scope must be space-separated scopes out of: {known}.")
        return None
