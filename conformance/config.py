"""Run configuration and the `quick` / `full` profiles.

Why profiles: a shared staging deployment must not be hammered (the vendor documents about 100 requests
per minute), while a loopback reference server can take a full Schemathesis run in seconds.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

PROFILES = ("quick", "full")
EXPIRY_POLICIES = ("rolling", "fixed")


@dataclass(frozen=True)
class ProfileDefaults:
    max_requests: int
    rate_limit: float | None  # requests per minute; None = unlimited
    st_phases: tuple[str, ...]
    st_max_examples: int
    st_share: float  # fraction of the request budget left to Schemathesis


QUICK = ProfileDefaults(
    max_requests=100, rate_limit=90.0, st_phases=("examples",), st_max_examples=2, st_share=0.5
)
FULL = ProfileDefaults(
    max_requests=400,
    rate_limit=None,
    st_phases=("examples", "coverage", "fuzzing", "stateful"),
    st_max_examples=25,
    st_share=0.9,
)


def is_loopback(url: str) -> bool:
    """True when the URL's host is a loopback address or `localhost`."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_header_token(value: str) -> bool:
    """Whether a bearer token can go into an HTTP header: non-empty printable ASCII without spaces."""
    return bool(value) and value.isascii() and value.isprintable() and " " not in value


@dataclass(frozen=True)
class OAuthConfig:
    """Client credentials the suite mints its own tokens with (instead of a static token).

    `id_env`/`secret_env` name the variables they came from, for messages; the secret is never printed.
    """

    client_id: str
    client_secret: str = field(repr=False)
    token_url: str = ""
    scope: str | None = None
    check_revocation: bool = False
    id_env: str = "CONFORMANCE_CLIENT_ID"
    secret_env: str = "CONFORMANCE_CLIENT_SECRET"
    #: Token requests one run may send, every attempt and check included (the vendor allows 5 a minute,
    #: shared with production; the embedded server, whose tokens live seconds, allows more).
    max_token_requests: int = 4


@dataclass
class RunConfig:
    """Everything one run needs. `token` is held here only, never printed."""

    base_url: str
    questionnaire_id: str | None
    token: str = field(repr=False)
    failing_questionnaire_id: str | None = None
    document_questionnaire_id: str | None = None
    profile: str = "quick"
    max_requests: int = 100
    rate_limit: float | None = None
    max_exports: int = 6
    read_only: bool = False
    export_ids: tuple[str, ...] = ()
    request_timeout: float = 10.0
    deadline: float = 300.0
    poll_timeout: float = 120.0
    max_polls: int = 60
    clock_skew: float = 5.0
    expiry_policy: str = "rolling"
    link_lifetime_hours: float = 24.0
    seed: int = 0
    schemathesis: bool = True
    st_phases: tuple[str, ...] = ()
    st_max_examples: int = 2
    st_share: float = 0.5
    max_body_bytes: int = 1024 * 1024
    max_download_bytes: int = 100 * 1024 * 1024
    require_coverage: bool = False
    oauth: OAuthConfig | None = None  # set: tokens are minted from client credentials, `token` is unused

    @property
    def loopback(self) -> bool:
        return is_loopback(self.base_url)

    @property
    def plain_http_loopback(self) -> bool:
        return self.loopback and urlsplit(self.base_url).scheme == "http"


def profile_defaults(name: str) -> ProfileDefaults:
    return QUICK if name == "quick" else FULL
