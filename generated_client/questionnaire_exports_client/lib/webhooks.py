"""Verifying Svix / Standard Webhooks deliveries and parsing them into the generated event models.

Hand-written on the standard library (hmac, hashlib, base64) rather than taken from ``standardwebhooks``
1.1.0 (MIT, no dependencies): that package reads only the ``webhook-*`` header names, fixes the
tolerance at 5 minutes against the wall clock (so it cannot take an injected clock or a configured
tolerance), and lets ``ValueError``/``binascii.Error``/``UnicodeDecodeError`` escape on malformed input.
``svix`` handles both header names but brings a whole API client with it. The tests check this module
against ``standardwebhooks`` as an independent oracle.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping

from ..errors import ResponseValidationError
from ..models import ExportCompletedEvent, ExportFailedEvent
from .errors import WebhookVerificationError

WebhookEvent = ExportCompletedEvent | ExportFailedEvent

_SECRET_PREFIX = "whsec_"
#: Header name prefixes, Svix's first; one delivery must use a single set.
_HEADER_PREFIXES = ("svix-", "webhook-")
_SIGNATURE_VERSION = "v1"
_EVENT_MODELS: tuple[type[ExportCompletedEvent] | type[ExportFailedEvent], ...] = (
    ExportCompletedEvent,
    ExportFailedEvent,
)


def _secret_key(secret: str) -> bytes:
    """The HMAC key: the base64-decoded part of ``whsec_<base64>`` (the prefix is optional, as in Svix)."""
    if not isinstance(secret, str):
        raise WebhookVerificationError("bad-secret", "the webhook secret must be a str")
    encoded = secret.removeprefix(_SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError(
            "bad-secret", "the webhook secret is not base64 (after an optional prefix)"
        ) from None
    if not key:
        raise WebhookVerificationError("bad-secret", "the webhook secret is empty")
    return key


def _signature(key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
    return hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()


def _message_headers(headers: Mapping[str, str]) -> tuple[str, str, str]:
    """``(id, timestamp, signature)`` from the ``svix-*`` headers, or else the ``webhook-*`` ones."""
    lowered = {str(name).lower(): value for name, value in headers.items()}
    for prefix in _HEADER_PREFIXES:
        values = [lowered.get(prefix + part) for part in ("id", "timestamp", "signature")]
        if any(values):
            missing = [
                prefix + part
                for part, v in zip(("id", "timestamp", "signature"), values, strict=True)
                if not v
            ]
            if missing:
                raise WebhookVerificationError("missing-header", f"missing header {', '.join(missing)}")
            msg_id, timestamp, signature = (str(v) for v in values)
            return msg_id, timestamp, signature
    raise WebhookVerificationError("missing-header", "no svix-* or webhook-* signature headers")


def _check_timestamp(timestamp: str, tolerance: float, now: float) -> None:
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise WebhookVerificationError("bad-timestamp", "the timestamp header is not a number of seconds")
    if abs(now - int(timestamp)) > tolerance:
        raise WebhookVerificationError(
            "timestamp-outside-tolerance", f"the timestamp is more than {tolerance:g} seconds away from now"
        )


def _matches(expected: bytes, signature_header: str) -> bool:
    """Whether any ``v1,<base64>`` entry equals ``expected``.

    Compares the base64 text, as Svix does (so a non-canonical encoding of the right bytes is refused),
    with ``hmac.compare_digest``; other versions (``v1a``) are skipped, and every entry is compared, so
    timing does not reveal which one matched.
    """
    wanted = base64.b64encode(expected)
    found = False
    for entry in signature_header.split():
        version, _, encoded = entry.partition(",")
        if version == _SIGNATURE_VERSION:
            found = hmac.compare_digest(wanted, encoded.encode("utf-8", "replace")) or found
    return found


def _parse_event(body: bytes) -> WebhookEvent:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise WebhookVerificationError("invalid-payload", "the body is not JSON") from None
    if not isinstance(data, dict):
        raise WebhookVerificationError("invalid-payload", "the body is not a JSON object")
    parsed: list[WebhookEvent] = []
    for model in _EVENT_MODELS:
        try:
            parsed.append(model.from_dict(data))
        except (ResponseValidationError, KeyError, TypeError, ValueError):
            continue
    if len(parsed) != 1:
        raise WebhookVerificationError(
            "invalid-payload", "the body is neither an export-completed nor an export-failed event"
        )
    return parsed[0]


def verify_webhook(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: float = 300,
    now: Callable[[], float] = time.time,
) -> WebhookEvent:
    """Verify a webhook delivery and return its event (``ExportCompletedEvent`` or ``ExportFailedEvent``).

    ``body`` must be the raw request body, byte for byte; ``headers`` any mapping of the request's headers
    (``svix-id``/``svix-timestamp``/``svix-signature`` or the ``webhook-*`` names, any case). Checks, in
    order: the secret, the headers, the timestamp (at most ``tolerance`` seconds from ``now()``), at
    least one matching ``v1`` signature, and the payload against the spec. Raises
    ``WebhookVerificationError`` (``.reason`` says which check failed); its message never contains the
    secret or a signature.
    """
    if not isinstance(body, bytes | bytearray | memoryview):
        raise TypeError("body must be the raw request body as bytes")
    raw = bytes(body)
    key = _secret_key(secret)
    msg_id, timestamp, signature_header = _message_headers(headers)
    _check_timestamp(timestamp, tolerance, now())
    if not _matches(_signature(key, msg_id, timestamp, raw), signature_header):
        raise WebhookVerificationError("no-matching-signature", "no signature matches the body and secret")
    return _parse_event(raw)


def sign_webhook(body: bytes, secret: str, *, msg_id: str, timestamp: int) -> dict[str, str]:
    """The ``svix-*`` headers a sender attaches to ``body``: for tests, examples and reference senders."""
    if not msg_id:
        raise ValueError("msg_id must be non-empty")
    signature = base64.b64encode(
        _signature(_secret_key(secret), msg_id, str(int(timestamp)), bytes(body))
    ).decode()
    return {
        "svix-id": msg_id,
        "svix-timestamp": str(int(timestamp)),
        "svix-signature": f"{_SIGNATURE_VERSION},{signature}",
    }
