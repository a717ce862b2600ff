"""A fake token endpoint in front of the fake API: client credentials in, tokens that expire and get revoked.

Why in front of the fake API: that fake knows one static token. This ASGI wrapper answers
`POST /oauth/token` and maps every live minted token onto the static one (an expired or revoked one answers
401), so every rule of the suite runs unchanged while the token endpoint misbehaves one switch at a time.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

import contract
from reference_server.serving import serve_in_thread

from .fake_api import TOKEN, FakeApi, FakeConfig, FakeState

CLIENT_ID = "vci_fake_client"
CLIENT_SECRET = "vcs_fake-secret-9Qm2Zr7Xt4Lp"
#: Token endpoint faults: each breaks `oauth-token.yaml` or refuses in one way.
MODES = (
    "no_cache_control",  # 200 without Cache-Control: no-store
    "expires_in_zero",
    "expires_in_string",  # "3600"
    "token_type_mac",
    "wrong_secret_403",  # a wrong secret answers 403, a status the document does not have
    "wrong_secret_accepted",  # a wrong secret gets a token
    "invalid_client",  # every request: 401 invalid_client
    "invalid_scope",  # every request: 400 invalid_scope
    "html",  # a 200 HTML login page
    "redirect",  # 302 to a login host
    "echo_secret",  # 401 invalid_client echoing the secret in the body, Content-Type and another header
    "spaced_token",  # an access_token with a space: unusable, and shown in the finding that says so
    "control_token",  # an access_token with a control character (JSON \u0001): unusable, never shown
)


@dataclass
class TokenConfig:
    lifetime: int = 3600
    mode: str | None = None
    revokes: bool = True  # a new token revokes the previous one
    expiry_enforced: bool = True
    rate_limited: int = 0  # the next N token requests answer 429
    retry_after: str | None = "1"


@dataclass
class TokenState:
    config: TokenConfig = field(default_factory=TokenConfig)
    requests: int = 0
    bodies: list[Any] = field(default_factory=list)
    expiry: dict[str, float] = field(default_factory=dict)  # token -> time.monotonic() it expires at
    revoked: set[str] = field(default_factory=set)
    active: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    clock: Callable[[], float] = time.monotonic  # when tokens expire; a test may share its fake clock


async def _answer(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _json(status: int, data: Any, **headers: str) -> tuple[int, bytes, dict[str, str]]:
    return status, json.dumps(data).encode(), {"content-type": "application/json", **headers}


class FakeTokens:
    """The ASGI app: `POST /oauth/token` here, everything else to the fake API with the token mapped."""

    def __init__(self, state: TokenState, api: ASGIApp) -> None:
        self.state = state
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.api(scope, receive, send)
            return
        if scope["path"] == contract.token_path() and scope["method"] == "POST":
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            await _answer(send, *self.token(body))
            return
        headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
        auth = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        token = auth.removeprefix("Bearer ")
        with self.state.lock:
            expiry = self.state.expiry.get(token)
            dead = token in self.state.revoked or (
                expiry is not None and self.state.config.expiry_enforced and self.state.clock() >= expiry
            )
        if expiry is not None and dead:
            problem = {
                "type": "about:blank",
                "title": "Unauthorized",
                "status": 401,
                "detail": "Token expired.",
            }
            await _answer(
                send, 401, json.dumps(problem).encode(), {"content-type": "application/problem+json"}
            )
            return
        if expiry is not None:
            headers.append((b"authorization", f"Bearer {TOKEN}".encode()))
        elif auth:
            headers.append((b"authorization", auth.encode("latin-1")))
        await self.api({**scope, "headers": headers}, receive, send)

    def token(self, raw: bytes) -> tuple[int, bytes, dict[str, str]]:
        state, config = self.state, self.state.config
        mode = config.mode
        with state.lock:
            state.requests += 1
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            state.bodies.append(body)
            if state.config.rate_limited > 0:
                state.config.rate_limited -= 1
                extra = {} if config.retry_after is None else {"retry-after": config.retry_after}
                problem = {"type": "about:blank", "title": "Too Many Requests", "status": 429}
                return (
                    429,
                    json.dumps(problem).encode(),
                    {"content-type": "application/problem+json", **extra},
                )
        if mode == "html":
            return 200, b"<html><body>Sign in</body></html>", {"content-type": "text/html"}
        if mode == "redirect":
            return 302, b"", {"location": "https://login.example.invalid/sso"}
        if mode == "invalid_scope":
            return _json(400, {"error": "invalid_scope"})
        if mode == "echo_secret":
            secret = body.get("client_secret", "") if isinstance(body, dict) else ""
            return _json(
                401, {"error": "invalid_client", "error_description": f"bad {secret}"}, **{"x-echo": secret}
            )
        valid = contract.token_request_validator().is_valid(body)
        if not valid:
            return _json(400, {"error": "invalid_request"})
        right = body["client_id"] == CLIENT_ID and body["client_secret"] == CLIENT_SECRET
        if mode == "wrong_secret_403" and not right:
            return _json(403, {"error": "invalid_client"})
        if mode == "invalid_client" or not (right or mode == "wrong_secret_accepted"):
            return _json(
                401, {"error": "invalid_client", "error_description": "Client authentication failed."}
            )
        return self.mint()

    def mint(self) -> tuple[int, bytes, dict[str, str]]:
        state, config = self.state, self.state.config
        token = "fake-minted-" + secrets.token_urlsafe(18)
        with state.lock:
            if config.revokes and state.active is not None:
                state.revoked.add(state.active)
            state.active = token
            state.expiry[token] = state.clock() + config.lifetime
        answer: dict[str, Any] = {
            "access_token": token,
            "expires_in": config.lifetime,
            "token_type": "Bearer",
        }
        if config.mode == "expires_in_zero":
            answer["expires_in"] = 0
        if config.mode == "expires_in_string":
            answer["expires_in"] = str(config.lifetime)
        if config.mode == "spaced_token":
            answer["access_token"] = token.replace("-", " ", 1)
        if config.mode == "control_token":
            answer["access_token"] = token.replace("-", "\x01", 1)
        if config.mode == "token_type_mac":
            answer["token_type"] = "MAC"
        headers = {} if config.mode == "no_cache_control" else {"cache-control": "no-store"}
        return _json(200, answer, **headers)


@dataclass
class RunningTokens:
    state: TokenState
    api: FakeState
    origin: str

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    def reset(self, config: TokenConfig | None = None) -> RunningTokens:
        """Forget every token and request; switch to `config` (a server shared by a module's tests)."""
        with self.state.lock:
            self.state.config = config or TokenConfig()
            self.state.requests = 0
            self.state.bodies.clear()
            self.state.expiry.clear()
            self.state.revoked.clear()
            self.state.active = None
            self.state.clock = time.monotonic
        return self

    @property
    def token_url(self) -> str:
        return self.origin + contract.token_path()


@contextlib.contextmanager
def running_tokens(config: TokenConfig | None = None) -> Iterator[RunningTokens]:
    """The fake API behind a fake token endpoint, on one free loopback port."""
    api_state = FakeState(config=FakeConfig())
    state = TokenState(config=config or TokenConfig())
    app = FakeTokens(state, FakeApi(api_state).app)
    with serve_in_thread(app, name="fake-tokens", date_header=True) as served:  # type: ignore[arg-type]
        api_state.base_url = served.origin
        yield RunningTokens(state=state, api=api_state, origin=served.origin)
