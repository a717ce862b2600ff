"""Bearer tokens the suite mints from client credentials (`oauth-token.yaml`), refreshed before they expire.

Why the suite mints its own: the vendor's tokens last an hour and a new one revokes the application's
previous one, so a pasted token dies mid-run and a job minting for production's application logs production
out. Every token request goes through `Target.token_post` (budget under `errors-auth`, rate limit, time
limit, body cap, no redirect); every answer is checked against the document; at most `max_token_requests`
are sent per run (the vendor allows 5 a minute, shared with production), so nothing here can loop.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from questionnaire_exports_client.lib import MAX_TOKEN_LIFETIME, MAX_TOKEN_RESPONSE_BYTES, parse_retry_after
from questionnaire_exports_client.lib.backoff import Backoff
from questionnaire_exports_client.lib.oauth import refresh_margin, token_request_body
from questionnaire_exports_client.lib.schedule import Schedule

import contract

from . import check_token
from .check_token import label
from .config import OAuthConfig, is_header_token
from .context import Context
from .rules import ERRORS_AUTH
from .transport import CannotRun, Sent, TargetUnreachable, TokenUnavailable

#: Attempts of one mint while the endpoint answers 429 (each one counts against the run's cap).
MINT_ATTEMPTS = 3


def token_error_code(name: str) -> str:
    """An RFC 6749 error code the token document lists (fails at import when the document drops it)."""
    if name not in contract.token_error_codes():
        raise LookupError(f"oauth-token.yaml does not list the error code {name!r}")
    return name


#: What to do about a refusal, by RFC 6749 code.
_HINTS = {
    token_error_code("invalid_scope"): "check --scope",
    token_error_code("unauthorized_client"): "may this application use the client-credentials grant?",
}
_RAW_TOKEN = re.compile(r'"access_token"\s*:\s*"((?:[^"\\]|\\.)*)"')
_RATE_LIMITED = 429


class _Refused(Exception):
    """The token endpoint gave no usable token; the message is the one line saying why."""


@dataclass(frozen=True)
class Minted:
    token: str = field(repr=False)
    lifetime: int | None  # `expires_in` when usable
    sent_at: float  # source clock, before the request: refresh is reckoned from here
    received_at: float  # source clock, after the answer: expiry is waited out from here

    def refresh_at(self) -> float:
        if self.lifetime is None:
            return float("inf")
        return self.sent_at + self.lifetime - min(refresh_margin(self.lifetime), self.lifetime / 2)

    def expires_at(self) -> float | None:
        return None if self.lifetime is None else self.received_at + self.lifetime


class MintedTokens:
    """The `TokenSource` of a client-credentials run: mints at `start`, refreshes a margin before expiry.

    `clock` and `sleep` (monotonic seconds) are injectable for tests. Thread-safe: Schemathesis' worker asks
    for the token as well.
    """

    def __init__(
        self,
        ctx: Context,
        oauth: OAuthConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._ctx = ctx
        self.oauth = oauth
        self.clock = clock
        self.sleep = sleep
        self.requests = 0  # token requests sent
        self.minted: Minted | None = None
        self.held = False  # refreshing stopped: the expired-token check waits the current token out
        self._ours: set[str] = set()
        self._lock = threading.RLock()
        self._rng = random.Random(ctx.config.seed)

    # -- TokenSource ------------------------------------------------------------------------------------

    def current(self) -> str:
        with self._lock:
            minted = self.minted
            if minted is None:
                raise TokenUnavailable("no token minted yet")
            if not self.held and self.clock() >= minted.refresh_at():
                try:
                    minted = self._take(self._mint())
                except (_Refused, TargetUnreachable) as exc:
                    raise TokenUnavailable(f"token refresh failed: {exc}") from None
            return minted.token

    def is_ours(self, token: str) -> bool:
        with self._lock:
            return token in self._ours

    # -- minting ----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Say what is about to happen, then mint the run's first token; `CannotRun` when none comes."""
        oauth = self.oauth
        revocation = (
            "; --check-revocation mints one more token to prove the older one is revoked"
            if oauth.check_revocation
            else ""
        )
        self._ctx.progress(
            f"oauth: minting tokens for client {oauth.client_id} at {self._ctx.redactor.url(oauth.token_url)}"
            f" (at most {oauth.max_token_requests} token requests); each one revokes every other token of "
            f"this application: use a dedicated application for conformance, never production's{revocation}"
        )
        try:
            self._take(self._mint())
        except _Refused as exc:
            raise CannotRun(str(exc)) from None
        except TargetUnreachable as exc:
            raise CannotRun(f"the token endpoint did not answer: {exc}") from None

    def supersede(self) -> tuple[str, str]:
        """Mint a newer token now (the older one is revoked at once); returns (older, newer)."""
        with self._lock:
            older = self.current()
            try:
                newer = self._take(self._mint()).token
            except (_Refused, TargetUnreachable) as exc:
                raise TokenUnavailable(f"minting a newer token failed: {exc}") from None
            return older, newer

    def can_request(self, n: int = 1) -> bool:
        return self.requests + n <= self.oauth.max_token_requests

    def request(self, secret: str) -> Sent:
        """One token request with `secret`, its answer checked against `oauth-token.yaml`."""
        oauth = self.oauth
        if not self.can_request():
            raise _Refused(
                f"the run's cap of {oauth.max_token_requests} token requests is reached (the vendor allows 5 "
                "a minute per application, shared with production)"
            )
        self.requests += 1
        body = json.dumps(token_request_body(oauth.client_id, secret, oauth.scope)).encode()
        max_bytes = min(self._ctx.config.max_body_bytes, MAX_TOKEN_RESPONSE_BYTES)
        sent = self._ctx.target.token_post(
            ERRORS_AUTH, oauth.token_url, body, max_bytes=max_bytes, learn=self._learn
        )
        self._ctx.tally.exercise(ERRORS_AUTH)
        for message in check_token.check_answer(sent, oauth.token_url):
            self._ctx.fail(ERRORS_AUTH, label(), message, sent)
        return sent

    def _learn(self, response: httpx.Response) -> None:
        """Every access token of an answer goes to the redactor before its reproduction is made."""
        text = response.content.decode("utf-8", errors="replace")
        for match in _RAW_TOKEN.finditer(text):
            raw = match.group(1)
            self._ctx.redactor.add(raw)
            with contextlib.suppress(ValueError):  # the token as JSON escapes spell it, and as it is
                self._ctx.redactor.add(json.loads(f'"{raw}"'))

    def _mint(self) -> Minted:
        """A new token; 429 waited out per `Retry-After` within the run's deadline and `MINT_ATTEMPTS`."""
        schedule = Schedule(
            max(0.001, self._ctx.target.remaining_time()),
            Backoff(min_delay=1.0, max_delay=30.0),
            self.clock,
            self._rng,
        )
        while True:
            schedule.start_attempt()
            sent_at = self.clock()
            sent = self.request(self.oauth.client_secret)
            if sent.status != _RATE_LIMITED:
                return self._accept(sent, sent_at)
            header = sent.response.headers.get("retry-after")
            retry_after = parse_retry_after(header, now=time.time())
            delay = schedule.next_delay(retry_after) if schedule.attempts < MINT_ATTEMPTS else None
            if delay is None or not self.can_request():
                asked = f", Retry-After {retry_after:g} s" if retry_after is not None else ""
                raise _Refused(
                    f"the token endpoint kept answering 429 (rate limited{asked}) after {schedule.attempts} "
                    "attempt(s) within the run's deadline; it allows 5 token requests a minute per "
                    "application, shared with production"
                )
            self.sleep(delay)

    def adopt(self, sent: Sent, sent_at: float) -> bool:
        """Take the token of an answer the suite did not ask for as its own (a server that accepted a wrong
        secret has just revoked the previous token); False when the answer holds none."""
        try:
            self._take(self._accept(sent, sent_at))
        except _Refused:
            return False
        return True

    def _accept(self, sent: Sent, sent_at: float) -> Minted:
        body = sent.json()
        if sent.status != 200 or sent.cut or not isinstance(body, dict):
            raise _Refused(self._refusal(sent))
        token = body.get("access_token")
        if not isinstance(token, str) or not is_header_token(token):
            raise _Refused(
                "the token endpoint answered 200 without a usable access_token (see the errors-auth findings)"
            )
        lifetime = body.get("expires_in")
        usable = (
            isinstance(lifetime, int)
            and not isinstance(lifetime, bool)
            and 0 < lifetime <= MAX_TOKEN_LIFETIME
        )
        return Minted(token, lifetime if usable else None, sent_at, self.clock())

    def _take(self, minted: Minted) -> Minted:
        with self._lock:
            self._ctx.redactor.add(minted.token)
            self._ours.add(minted.token)
            self.minted = minted
            return minted

    def _refusal(self, sent: Sent) -> str:
        """Why an answer gave no token, in one line with what to check."""
        status = sent.status
        url = self.oauth.token_url
        if 300 <= status < 400:
            return f"the token URL redirected ({status}; not followed): check --token-url"
        if sent.cut:
            return f"the token endpoint's answer was cut ({sent.cut}): check --token-url"
        body = sent.json()
        error = body.get("error") if isinstance(body, dict) else None
        media = sent.media_type or "no Content-Type"
        if body is None:
            shown = self._ctx.redactor.url(url)
            return f"the token URL {shown} does not look like a token endpoint (got {status} {media}): check --token-url"
        if not isinstance(error, str) or error not in contract.token_error_codes():
            return f"the token endpoint answered {status} {media} without a token"
        if status == 401:
            return (
                f"the token endpoint refused the client credentials ({status} {error}): check "
                f"{_pair(self.oauth.id_env, self.oauth.secret_env)}"
            )
        hint = _HINTS.get(error, "see oauth-token.yaml")
        return f"the token endpoint refused the token request ({status} {error}): {hint}"


def _pair(id_env: str, secret_env: str) -> str:
    """`CONFORMANCE_CLIENT_ID/SECRET` for the usual names, both names in full otherwise."""
    stem = id_env.removesuffix("ID")
    if stem != id_env and secret_env.startswith(stem):
        return f"{id_env}/{secret_env.removeprefix(stem)}"
    return f"{id_env}/{secret_env}"
