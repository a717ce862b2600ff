"""Server configuration, shared by the CLI, ``create_app`` and ``testing.running_server``."""

from __future__ import annotations

import re
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .clock import Clock, SystemClock
from .webhooks import parse_webhook_secret

#: Default database location: survives restarts of the server, stays out of the working tree.
DEFAULT_DB_PATH = Path(tempfile.gettempdir()) / "reference_server" / "exports.sqlite3"
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

    ``db_path`` None with ``in_memory`` False means ``DEFAULT_DB_PATH``. ``export_delay`` is wall-clock
    seconds a job stays ``pending``; API timestamps and link expiry come from ``clock``.
    """

    tokens: tuple[str, ...] = field(repr=False)
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
    link_ttl_seconds: int = 24 * 60 * 60

    def __post_init__(self) -> None:
        if not self.tokens or any(not t or t != t.strip() for t in self.tokens):
            raise ValueError("at least one non-empty bearer token without surrounding spaces is required")
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

    @property
    def database(self) -> Path | None:
        """The database file, or None for in-memory mode."""
        if self.in_memory:
            return None
        return self.db_path if self.db_path is not None else DEFAULT_DB_PATH
