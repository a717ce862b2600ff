"""Server configuration, shared by the CLI, ``create_app`` and ``testing.running_server``."""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import contract

from .clock import Clock, SystemClock
from .statuses import COMPLETED
from .webhooks import parse_webhook_secret

#: Folder under the per-user state directory that holds the default database.
STATE_FOLDER = "questionnaire-exports"


def default_db_path(environ: Mapping[str, str] | None = None) -> Path:
    """The default database: ``$XDG_STATE_HOME/questionnaire-exports/exports.sqlite3``, or the same under
    ``~/.local/state`` when ``XDG_STATE_HOME`` is unset or relative (XDG Base Directory rules).

    Per user, never the shared temporary folder: another user's (or another checkout's) pending jobs must
    not be resumed by a fresh start.
    """
    env = os.environ if environ is None else environ
    state_home = env.get("XDG_STATE_HOME", "")
    base = Path(state_home) if state_home and Path(state_home).is_absolute() else None
    if base is None:
        home = env.get("HOME")
        base = (Path(home) if home else Path.home()) / ".local" / "state"
    return base / STATE_FOLDER / "exports.sqlite3"


def check_public_url(url: str) -> str:
    """``url`` without a trailing ``/`` when it can prefix download links, else ``ValueError``.

    It must match the spec's ``downloadUrl`` pattern (read through ``contract``) and be an absolute URL
    with a host and no query or fragment.
    """
    pattern = _download_url_schema().get("pattern")
    if pattern is not None and re.search(pattern, url) is None:
        raise ValueError(f"public URL must match the spec's downloadUrl pattern {pattern!r}")
    parts = urlsplit(url)
    if not parts.hostname or parts.query or parts.fragment or any(c.isspace() for c in url):
        raise ValueError("public URL must be an absolute URL with a host and no query, fragment or spaces")
    return url.rstrip("/")


def _download_url_schema() -> dict[str, Any]:
    variant = contract.status_variants()[COMPLETED]
    schema: dict[str, Any] = contract.component_schema(variant.schema_name)["properties"]["downloadUrl"]
    return schema


#: Printable ASCII without spaces: what a client id or secret of ``--oauth-client`` may consist of.
_CREDENTIAL = re.compile(r"[\x21-\x7e]+")


def _length_bounds(field_name: str) -> tuple[int, int]:
    """``minLength``/``maxLength`` of a ``TokenRequest`` field: a configured credential must fit a request."""
    schema = contract.token_schema("TokenRequest")["properties"][field_name]
    return int(schema.get("minLength", 1)), int(schema.get("maxLength", 2**31))


def check_oauth_clients(clients: tuple[tuple[str, str], ...]) -> None:
    """``ValueError`` unless every ``(id, secret)`` pair is well formed and the ids are unique.

    The messages never contain a secret (and name an id only by its position).
    """
    ids: set[str] = set()
    for position, pair in enumerate(clients, start=1):
        if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            raise ValueError(f"OAuth client #{position} must be a (client id, client secret) pair of strings")
        for value, (name, what) in zip(pair, (("client_id", "id"), ("client_secret", "secret")), strict=True):
            low, high = _length_bounds(name)
            if _CREDENTIAL.fullmatch(value) is None or not low <= len(value) <= high:
                raise ValueError(
                    f"OAuth client #{position}: the {what} must be {low} to {high} printable ASCII"
                    " characters without spaces"
                )
        if pair[0] in ids:
            raise ValueError(f"OAuth client #{position}: the client id is given twice")
        ids.add(pair[0])


def _expires_in_bounds() -> tuple[int, int]:
    """The ``expires_in`` range the token document allows: the bounds of ``--token-lifetime``."""
    schema = contract.token_schema("TokenResponse")["properties"]["expires_in"]
    return int(schema["minimum"]), int(schema["maximum"])


#: The vendor's token endpoint: 5 requests a minute per application.
DEFAULT_TOKEN_RATE_LIMIT = "5/60"

#: Generous default: the vendor's documented limit was about 100 requests per minute; local use needs more.
DEFAULT_RATE_LIMIT = "1000/60"


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` requests per token in each ``window`` seconds."""

    limit: int
    window: float

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """Parse ``N/WINDOW_SECONDS`` (for example ``100/60``)."""
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*", text)
        if match is None:
            raise ValueError(f"rate limit must look like N/WINDOW_SECONDS, got {text!r}")
        limit, window = int(match.group(1)), float(match.group(2))
        if limit < 1 or window <= 0:
            raise ValueError("rate limit needs N >= 1 and WINDOW_SECONDS > 0")
        return cls(limit, window)


@dataclass(frozen=True)
class ServerConfig:
    """Everything the app needs. Secrets are excluded from ``repr`` so a logged config leaks nothing.

    ``db_path`` None with ``in_memory`` False means ``default_db_path()``. ``public_url`` (for example
    ``https://exports.example.com``) is the origin of download links instead of the bound address. ``export_delay`` is wall-clock
    seconds a job stays ``pending``; API timestamps and link expiry come from ``clock``,
    rate-limit windows from ``monotonic``.
    """

    tokens: tuple[str, ...] = field(default=(), repr=False)
    export_delay: float = 1.0
    db_path: Path | None = None
    in_memory: bool = False
    rate_limit: RateLimit | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_retry_scale: float = 1.0
    webhook_timeout: float = 15.0
    signing_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    clock: Clock = field(default_factory=SystemClock)
    max_body_bytes: int = 64 * 1024
    body_timeout: float = 10.0
    link_ttl_seconds: int = 24 * 60 * 60
    public_url: str | None = None
    #: Seconds, only ever compared with each other: the rate limiter's windows (tests inject a fake).
    monotonic: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    #: ``(client id, client secret)`` pairs accepted by ``POST /oauth/token``; empty: the endpoint is off.
    oauth_clients: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    #: Seconds an OAuth token stays valid, on ``clock`` (``expires_in`` is its whole seconds).
    token_lifetime: float = 3600.0
    #: Token requests per client id (unknown ids share one bucket), on ``monotonic``.
    token_rate_limit: RateLimit = field(default_factory=lambda: RateLimit.parse(DEFAULT_TOKEN_RATE_LIMIT))

    def __post_init__(self) -> None:
        if any(not t or t != t.strip() for t in self.tokens):
            raise ValueError("bearer tokens must be non-empty, without surrounding spaces")
        if not self.tokens and not self.oauth_clients:
            raise ValueError("at least one bearer token or one OAuth client is required")
        check_oauth_clients(self.oauth_clients)
        low, high = _expires_in_bounds()
        if not low <= self.token_lifetime <= high:
            raise ValueError(f"token lifetime must be {low} to {high} seconds (the range of expires_in)")
        if self.export_delay < 0:
            raise ValueError("export delay must be >= 0")
        if (self.webhook_url is None) != (self.webhook_secret is None):
            raise ValueError("webhook URL and webhook secret go together")
        if self.webhook_url is not None and not re.match(r"https?://", self.webhook_url):
            raise ValueError("webhook URL must be http:// or https://")
        if self.webhook_secret is not None:
            parse_webhook_secret(self.webhook_secret)
        if self.webhook_retry_scale < 0:
            raise ValueError("webhook retry scale must be >= 0")
        if not self.signing_secret:
            raise ValueError("signing secret must not be empty")
        if self.public_url is not None:
            object.__setattr__(self, "public_url", check_public_url(self.public_url))
        if self.webhook_timeout <= 0:
            raise ValueError("webhook timeout must be > 0")

    @property
    def database(self) -> Path | None:
        """The database file, or None for in-memory mode."""
        if self.in_memory:
            return None
        return self.db_path if self.db_path is not None else default_db_path()
