"""Pre-signed download links: an expiry and an HMAC-SHA256 signature in the query string.

Why HMAC over (file name, expiry): the download route needs no bearer token, so the link itself must be
unforgeable and must stop working at ``expires``; changing either part invalidates the signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Literal

LinkCheck = Literal["valid", "invalid", "expired"]
#: The one form of ``expires`` a link accepts: decimal Unix seconds, no sign, no leading zeros.
_CANONICAL_EXPIRES = re.compile(r"[1-9][0-9]{0,11}")


def _mac(secret: bytes, name: str, expires: int) -> str:
    digest = hmac.new(secret, f"{name}\n{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(secret: bytes, name: str, expires: int) -> str:
    """The ``signature`` query value for file ``name`` valid until Unix second ``expires``."""
    return _mac(secret, name, expires)


def verify(
    secret: bytes, name: str, expires: str | None, signature: str | None, now_seconds: float
) -> LinkCheck:
    """``valid``, ``invalid`` (missing, not canonical, or tampered) or ``expired`` (right signature, past).

    Only the form ``sign`` produces verifies: ``expires=0…`` or ``+…`` is refused before any MAC is computed,
    and the signature is compared as the exact text ``sign`` returns (no padding, no other alphabet)."""
    if expires is None or signature is None or _CANONICAL_EXPIRES.fullmatch(expires) is None:
        return "invalid"
    expected = _mac(secret, name, int(expires))
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace")):
        return "invalid"
    return "valid" if now_seconds < int(expires) else "expired"
