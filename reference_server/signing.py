"""Pre-signed download links: an expiry and an HMAC-SHA256 signature in the query string.

Why HMAC over (file name, expiry): the download route needs no bearer token, so the link itself must be
unforgeable and must stop working at ``expires``; changing either part invalidates the signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Literal

LinkCheck = Literal["valid", "invalid", "expired"]


def _mac(secret: bytes, name: str, expires: int) -> str:
    digest = hmac.new(secret, f"{name}\n{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(secret: bytes, name: str, expires: int) -> str:
    """The ``signature`` query value for file ``name`` valid until Unix second ``expires``."""
    return _mac(secret, name, expires)


def verify(
    secret: bytes, name: str, expires: str | None, signature: str | None, now_seconds: float
) -> LinkCheck:
    """``valid``, ``invalid`` (missing, malformed or tampered) or ``expired`` (signature right, time past)."""
    if expires is None or signature is None or not expires.isascii() or not expires.isdigit():
        return "invalid"
    if len(expires) > 12:
        return "invalid"
    expected = _mac(secret, name, int(expires))
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace")):
        return "invalid"
    return "valid" if now_seconds < int(expires) else "expired"
