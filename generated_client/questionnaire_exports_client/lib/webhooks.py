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
import re
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


#: Bounds checked before anything is parsed: an unauthenticated sender controls every header.
_MAX_ID = 256
_MAX_TIMESTAMP_DIGITS = 20
_MAX_SIGNATURE_HEADER = 8192
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")
_DIGITS = re.compile(r"[0-9]+")


def _secret_key(secret: str) -> bytes:
    """The HMAC key: the base64-decoded part of ``whsec_<base64>`` (the prefix is optional, as in Svix)."""
    if not isinstance(secret, str):
        raise WebhookVerificationError("bad-secret", "the webhook secret must be a str")
    encoded = secret.removeprefix(_SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (binascii.Error, ValueError):  # UnicodeEncodeError is a ValueError
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
    wanted = {prefix + part for prefix in _HEADER_PREFIXES for part in ("id", "timestamp", "signature")}
    lowered: dict[str, object] = {}
    for name, value in headers.items():
        key = name.lower() if isinstance(name, str) else ""
        if key in wanted:
            lowered[key] = value
    for prefix in _HEADER_PREFIXES:
        values = [lowered.get(prefix + part) for part in ("id", "timestamp", "signature")]
        if any(v is not None and v != "" for v in values):
            missing = [
                prefix + part
                for part, v in zip(("id", "timestamp", "signature"), values, strict=True)
                if v is None or v == ""
            ]
            if missing:
                raise WebhookVerificationError("missing-header", f"missing header {', '.join(missing)}")
            msg_id, timestamp, signature = values
            if not (
                isinstance(msg_id, str) and len(msg_id) <= _MAX_ID and _PRINTABLE_ASCII.fullmatch(msg_id)
            ):
                raise WebhookVerificationError(
                    "bad-header", f"{prefix}id must be at most {_MAX_ID} printable ASCII characters"
                )
            if not (isinstance(signature, str) and len(signature) <= _MAX_SIGNATURE_HEADER):
                raise WebhookVerificationError(
                    "bad-header", f"{prefix}signature must be at most {_MAX_SIGNATURE_HEADER} characters"
                )
            if not isinstance(timestamp, str):
                raise WebhookVerificationError("bad-timestamp", "the timestamp header is not a string")
            return msg_id, timestamp, signature
    raise WebhookVerificationError("missing-header", "no svix-* or webhook-* signature headers")


def _check_timestamp(timestamp: str, tolerance: float, now: float) -> None:
    text = timestamp.strip(" \t")
    if len(text) > _MAX_TIMESTAMP_DIGITS or _DIGITS.fullmatch(text) is None:
        raise WebhookVerificationError("bad-timestamp", "the timestamp header is not a number of seconds")
    if not abs(now - int(text)) <= tolerance:
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
            candidate = encoded.encode("ascii", "replace")  # non-ASCII cannot match; it must not raise either
            found = hmac.compare_digest(wanted, candidate) or found
    return found


def _parse_event(body: bytes) -> WebhookEvent:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise WebhookVerificationError(
            "invalid-payload", "the body is not JSON (or is nested too deep)"
        ) from None
    if not isinstance(data, dict):
        raise WebhookVerificationError("invalid-payload", "the body is not a JSON object")
    parsed: list[WebhookEvent] = []
    for model in _EVENT_MODELS:
        try:
            parsed.append(model.from_dict(data))
        except (ResponseValidationError, KeyError, TypeError, ValueError, RecursionError):
            continue
    if len(parsed) != 1:
        raise WebhookVerificationError(
            "invalid-payload", "the body is neither an export-completed nor an export-failed event"
        )
    return parsed[0]


class WebhookVerifier:
    """Verifies deliveries for one endpoint secret: build it once, where the secret is configured.

    The secret is checked here, so a malformed one fails at start-up rather than at the first delivery
    (``WebhookVerificationError``, reason ``bad-secret``). Holds no per-delivery state, so one instance
    serves every thread. Its ``repr`` never shows the secret.
    """

    __slots__ = ("_key", "_now", "_tolerance")

    def __init__(self, secret: str, *, tolerance: float = 300, now: Callable[[], float] = time.time) -> None:
        if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or not tolerance >= 0:
            raise ValueError(f"tolerance must be a number of seconds >= 0, got {tolerance!r}")
        self._key = _secret_key(secret)
        self._tolerance = float(tolerance)
        self._now = now

    def __repr__(self) -> str:
        return f"WebhookVerifier(tolerance={self._tolerance:g})"

    def verify(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Verify one delivery and return its event; see ``verify_webhook``."""
        if not isinstance(body, bytes | bytearray | memoryview):
            raise TypeError("body must be the raw request body as bytes")
        raw = bytes(body)
        msg_id, timestamp, signature_header = _message_headers(headers)
        _check_timestamp(timestamp, self._tolerance, self._now())
        if not _matches(_signature(self._key, msg_id, timestamp, raw), signature_header):
            raise WebhookVerificationError(
                "no-matching-signature", "no signature matches the body and secret"
            )
        return _parse_event(raw)


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
    order: the secret, the headers (each bounded in length before it is read), the timestamp (at most
    ``tolerance`` seconds from ``now()``), at least one matching ``v1`` signature, and only then the payload
    against the spec. Raises ``WebhookVerificationError`` (``.reason`` says which check failed; a validly
    signed body that is not a valid event is ``invalid-payload``) for anything a sender can put in the body
    or the headers; its message never contains the secret or a signature. A body that is not bytes is a
    caller's mistake (``TypeError``). To check the secret once at start-up, build a ``WebhookVerifier``.
    """
    return WebhookVerifier(secret, tolerance=tolerance, now=now).verify(body, headers)


def webhook_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``svix-signature`` value ``v1,<base64 HMAC-SHA256>`` over ``"{msg_id}.{timestamp}.{body}"``.

    The one Svix signer of the project (the reference server, the tests' fake API and ``sign_webhook`` use
    it), reading ``secret`` by the verifier's rule: ``whsec_<base64>``, the prefix optional. A bad secret
    raises ``WebhookVerificationError`` (``bad-secret``) without repeating it.
    """
    if not msg_id:
        raise ValueError("msg_id must be non-empty")
    digest = _signature(_secret_key(secret), msg_id, str(int(timestamp)), bytes(body))
    return f"{_SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def sign_webhook(body: bytes, secret: str, *, msg_id: str, timestamp: int) -> dict[str, str]:
    """The ``svix-*`` headers a sender attaches to ``body``: for tests, examples and reference senders."""
    signature = webhook_signature(secret, msg_id, timestamp, body)
    return {"svix-id": msg_id, "svix-timestamp": str(int(timestamp)), "svix-signature": signature}
