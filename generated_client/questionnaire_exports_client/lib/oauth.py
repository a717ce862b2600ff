"""OAuth 2.0 client credentials as an ``httpx.Auth``: one cached token, refreshed once for every caller.

The vendor's tokens come from ``POST /oauth/token`` and only one per application is active: a new token revokes
the previous one at once. So refreshing must happen once for all concurrent callers (threads, asyncio tasks, and
a sync and an async client sharing one instance): every token request runs under one ``threading.Lock``, in
sync code; async callers wait on a per-loop ``asyncio.Lock`` and run the request in a worker thread
(``asyncio.to_thread``), so the event loop never blocks. Token requests are rare (one an hour), which is why a
sync client in a thread is acceptable for them.

The secret and tokens never reach a log, a ``repr`` or an exception message. Only httpx, attrs and the standard
library are used.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Callable, Generator, Iterable

import httpx

from .._transport import kind_of
from ..errors import TransportError
from ..redact import REDACTED, redact_url
from .backoff import parse_retry_after
from .errors import TokenError

__all__ = [
    "MAX_TOKEN_LIFETIME",
    "MAX_TOKEN_RESPONSE_BYTES",
    "ClientCredentials",
    "refresh_margin",
    "token_request_body",
]

_log = logging.getLogger(__name__)

#: The largest token answer read; a longer one raises ``TokenError(error="invalid_response")``.
MAX_TOKEN_RESPONSE_BYTES = 64 * 1024
#: The longest ``expires_in`` accepted (a day; the vendor's tokens last an hour).
MAX_TOKEN_LIFETIME = 86_400
_MAX_TOKEN_LENGTH = 8192
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")
# RFC 6749 section 5.2: error and error_description characters.
_ERROR_CODE = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}")
_RETRY_STATUSES = frozenset({429, 503})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_OPERATION = "oauthToken"


def refresh_margin(lifetime: float) -> float:
    """Seconds before ``expires_in`` runs out at which a token is refreshed: 60 s or a tenth of the lifetime,
    whichever is smaller (so a short-lived token is not refreshed at once). The conformance suite uses it too."""
    return min(60.0, lifetime / 10)


def token_request_body(client_id: str, client_secret: str, scope: str | None) -> dict[str, str]:
    """The client-credentials token request (``oauth-token.yaml``'s ``TokenRequest``); no scope when ``None``."""
    body = {"client_id": client_id, "client_secret": client_secret}
    if scope:
        body["scope"] = scope
    body["grant_type"] = "client_credentials"
    return body


class _Secret:
    """A string that never shows itself in ``repr`` or ``str``."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return REDACTED

    __str__ = __repr__


class ClientCredentials(httpx.Auth):
    """Bearer tokens from the OAuth client-credentials grant, for ``httpx.Client`` and ``httpx.AsyncClient``.

    Use it as ``Client(base_url=..., httpx_args={"auth": ClientCredentials(id, secret, token_url=...)})``.

    - The token is cached and refreshed ``refresh_margin`` seconds before ``expires_in`` runs out (default:
      60 s or a tenth of the lifetime, whichever is smaller; never more than half the lifetime), on ``clock``.
    - A refresh happens once for all concurrent callers (threads and asyncio tasks alike).
    - A request answered 401 is retried once with a new token, minted only if the token that got the 401 is
      still the cached one (otherwise another caller already refreshed). A second 401 is returned as is.
    - The token endpoint's 429 and 503 are waited out per ``Retry-After`` (``default_retry_after`` without
      one), at most ``max_attempts`` requests and never past ``deadline`` seconds per refresh; ``sleep`` waits.

    Raises, from the request that needed the token: ``TokenError`` (the endpoint refused, rate-limited past
    the deadline, or answered something that is not a token) or ``TransportError`` (no answer; operation
    ``oauthToken``, its cause suppressed because the httpx error holds the request, whose body is the secret).

    ``http`` is the ``httpx.Client`` token requests go through (default: a new one per request, ``timeout``
    seconds). Pass a plain ``Client``, not an ``AuthenticatedClient``: this sets the Authorization header.
    """

    requires_request_body = True  # a retried request must be able to send its body again

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        token_url: str,
        scope: str | Iterable[str] | None = None,
        refresh_margin: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        http: httpx.Client | None = None,
        timeout: float = 10.0,
        deadline: float = 120.0,
        max_attempts: int = 4,
        default_retry_after: float = 12.0,
    ) -> None:
        if not isinstance(client_id, str) or not client_id:
            raise ValueError("client_id must be a non-empty string")
        if not isinstance(client_secret, str) or not client_secret:
            raise ValueError("client_secret must be a non-empty string")
        try:
            url = httpx.URL(token_url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise ValueError("token_url is not a URL") from exc
        if not url.host or not (url.scheme == "https" or (url.scheme == "http" and url.host in _LOOPBACK)):
            raise ValueError("token_url must be an https URL (plain http only on a loopback host)")
        if refresh_margin is not None and not refresh_margin >= 0:
            raise ValueError("refresh_margin must be >= 0")
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self._client_id = client_id
        self._secret = _Secret(client_secret)
        self._token_url = str(url)
        self._host = url.host
        if scope is None or isinstance(scope, str):
            self._scope = scope
        else:
            self._scope = " ".join(scope)
        self._margin = refresh_margin
        self._clock = clock
        self._sleep = sleep
        self._http = http
        self._timeout = timeout
        self._deadline = deadline
        self._max_attempts = max_attempts
        self._default_retry_after = default_retry_after
        self._state = threading.Lock()  # guards the fields below; held only for microseconds
        self._mint_lock = threading.Lock()  # held for a whole token request: the single flight
        self._token: _Secret | None = None
        self._refresh_at = 0.0
        self._loop_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        #: How many token requests this instance has sent (for metrics and tests).
        self.token_requests = 0

    def __repr__(self) -> str:
        # The URL without user info or query: someone may have put a credential there.
        url = redact_url(self._token_url)
        return f"ClientCredentials(client_id={self._client_id!r}, token_url={url!r}, scope={self._scope!r})"

    # -- the cache --------------------------------------------------------------------------------------

    def _fresh(self, stale: str | None = None) -> str | None:
        """The cached token if it is not due for refresh and is not ``stale``."""
        with self._state:
            token = self._token
            if token is None or token.value == stale or self._clock() >= self._refresh_at:
                return None
            return token.value

    def _ensure_sync(self, stale: str | None = None) -> str:
        token = self._fresh(stale)
        if token is not None:
            return token
        with self._mint_lock:
            token = self._fresh(stale)  # another caller may have refreshed while we waited
            if token is not None:
                return token
            started = self._clock()
            token, lifetime = self._mint()
            margin = refresh_margin(lifetime) if self._margin is None else self._margin
            with self._state:
                self._token = _Secret(token)
                self._refresh_at = started + lifetime - min(margin, lifetime / 2)
            return token

    async def _ensure_async(self, stale: str | None = None) -> str:
        token = self._fresh(stale)
        if token is not None:
            return token
        loop = asyncio.get_running_loop()
        with self._state:
            lock = self._loop_locks.get(loop)
            if lock is None:
                lock = self._loop_locks[loop] = asyncio.Lock()
        async with lock:
            token = self._fresh(stale)
            if token is not None:
                return token
            return await asyncio.to_thread(self._ensure_sync, stale)

    # -- httpx.Auth -------------------------------------------------------------------------------------

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._ensure_sync()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            _log.info("API on %s answered 401; retrying once with a refreshed token", request.url.host)
            request.headers["Authorization"] = f"Bearer {self._ensure_sync(stale=token)}"
            yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._ensure_async()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            _log.info("API on %s answered 401; retrying once with a refreshed token", request.url.host)
            request.headers["Authorization"] = f"Bearer {await self._ensure_async(stale=token)}"
            yield request

    # -- the token request ------------------------------------------------------------------------------

    def _body(self) -> dict[str, str]:
        return token_request_body(self._client_id, self._secret.value, self._scope)

    def _scrub(self, text: str) -> str:
        text = text.replace(self._secret.value, REDACTED)
        token = self._token
        return text.replace(token.value, REDACTED) if token is not None else text

    def _post(self, until: float) -> tuple[int, str | None, bytes | None]:
        """Status, Retry-After and body (``None`` when longer than the cap) of one token request; a body
        still arriving at ``until`` (on ``clock``) is given up (``timeout`` bounds each read, not the sum)."""
        http = self._http if self._http is not None else httpx.Client(timeout=self._timeout)
        try:
            # Never a redirect, even when ``http`` follows them: a 307/308 would send the secret on.
            with http.stream(
                "POST",
                self._token_url,
                json=self._body(),
                headers={"Accept": "application/json"},
                follow_redirects=False,
            ) as response:
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    if self._clock() > until:
                        detail = f"the answer was not complete within the {self._deadline:g} s deadline"
                        raise TransportError(_OPERATION, "timeout", self._host, detail)
                    size += len(chunk)
                    if size > MAX_TOKEN_RESPONSE_BYTES:
                        return response.status_code, response.headers.get("Retry-After"), None
                    chunks.append(chunk)
                return response.status_code, response.headers.get("Retry-After"), b"".join(chunks)
        except httpx.HTTPError as exc:
            detail = self._scrub(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            # from None: the httpx error holds the request, and the request's body is the secret.
            raise TransportError(_OPERATION, kind_of(exc), self._host, detail[:300]) from None
        finally:
            if self._http is None:
                http.close()

    def _mint(self) -> tuple[str, int]:
        start = self._clock()
        attempt = 0
        while True:
            attempt += 1
            self.token_requests += 1
            _log.info("requesting an OAuth token from %s (attempt %d)", self._host, attempt)
            status, retry_after_header, body = self._post(start + self._deadline)
            if status == 200:
                return self._parse_token(body)
            if status in _RETRY_STATUSES:
                parsed = parse_retry_after(retry_after_header, now=time.time())
                wait = max(1.0, self._default_retry_after if parsed is None else parsed)
                if attempt >= self._max_attempts or self._clock() + wait > start + self._deadline:
                    raise TokenError("rate_limited", host=self._host, status_code=status, retry_after=wait)
                _log.info("token endpoint %s answered %d; waiting %.1fs", self._host, status, wait)
                self._sleep(wait)
                continue
            error, description = self._parse_error(body)
            raise TokenError(error, host=self._host, status_code=status, description=description)

    def _parse_error(self, body: bytes | None) -> tuple[str, str | None]:
        """The RFC 6749 ``error`` and ``error_description`` of a refusal, else ``unexpected_status``."""
        try:
            data = json.loads(body) if body else None
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            return "unexpected_status", None
        error = data.get("error")
        if not isinstance(error, str) or _ERROR_CODE.fullmatch(error) is None:
            return "unexpected_status", None
        description = data.get("error_description")
        if isinstance(description, str) and description.isprintable():
            text = self._scrub(description)
            return self._scrub(error), text if len(text) <= 200 else text[:197] + "..."
        return self._scrub(error), None

    def _parse_token(self, body: bytes | None) -> tuple[str, int]:
        def bad(reason: str) -> TokenError:
            return TokenError("invalid_response", host=self._host, status_code=200, description=reason)

        if body is None:
            raise bad(f"answer longer than {MAX_TOKEN_RESPONSE_BYTES} bytes")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise bad("answer is not JSON") from None
        if not isinstance(data, dict):
            raise bad("answer is not a JSON object")
        token = data.get("access_token")
        if (
            not isinstance(token, str)
            or len(token) > _MAX_TOKEN_LENGTH
            or _VISIBLE_ASCII.fullmatch(token) is None
        ):
            raise bad("access_token missing or not a non-empty string of visible ASCII")
        token_type = data.get("token_type")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise bad("token_type is not Bearer")
        lifetime = data.get("expires_in")
        if (
            not isinstance(lifetime, int)
            or isinstance(lifetime, bool)
            or not 0 < lifetime <= MAX_TOKEN_LIFETIME
        ):
            raise bad(f"expires_in is not an integer in 1..{MAX_TOKEN_LIFETIME}")
        return token, lifetime
