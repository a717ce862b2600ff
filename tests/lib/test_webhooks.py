"""verify_webhook: the Standard Webhooks test vector, every rejection, and an independent oracle."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import standardwebhooks
from questionnaire_exports_client.lib import WebhookVerificationError, sign_webhook, verify_webhook
from questionnaire_exports_client.models import ExportCompletedEvent, ExportFailedEvent

from .conftest import spec_example

# The published Standard Webhooks test vector.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

SECRET = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0xMjM0NTY="
NOW = 1_700_000_000


def completed_body() -> bytes:
    return json.dumps(spec_example("ExportCompletedEvent")).encode()


def signed(
    body: bytes, *, secret: str = SECRET, timestamp: int = NOW, msg_id: str = "msg_1"
) -> dict[str, str]:
    return sign_webhook(body, secret, msg_id=msg_id, timestamp=timestamp)


def verify(body: bytes, headers: dict[str, str], secret: str = SECRET, **kwargs: Any) -> Any:
    return verify_webhook(body, headers, secret, now=lambda: float(NOW), **kwargs)


def test_standard_webhooks_vector_signs_as_published() -> None:
    headers = sign_webhook(VECTOR_BODY, VECTOR_SECRET, msg_id=VECTOR_ID, timestamp=VECTOR_TS)
    assert headers["svix-signature"] == VECTOR_SIGNATURE


def test_standard_webhooks_vector_verifies_up_to_the_payload() -> None:
    headers = {"svix-id": VECTOR_ID, "svix-timestamp": str(VECTOR_TS), "svix-signature": VECTOR_SIGNATURE}
    # The signature checks out; the vector's body is no export event, so only the payload check rejects it.
    with pytest.raises(WebhookVerificationError) as caught:
        verify_webhook(VECTOR_BODY, headers, VECTOR_SECRET, now=lambda: float(VECTOR_TS))
    assert caught.value.reason == "invalid-payload"
    headers["svix-signature"] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF="
    with pytest.raises(WebhookVerificationError) as caught:
        verify_webhook(VECTOR_BODY, headers, VECTOR_SECRET, now=lambda: float(VECTOR_TS))
    assert caught.value.reason == "no-matching-signature"


def test_completed_event_is_returned_typed() -> None:
    body = completed_body()
    event = verify(body, signed(body))
    assert isinstance(event, ExportCompletedEvent)
    assert event.export.id == spec_example("ExportCompletedEvent")["export"]["id"]


def test_failed_event_is_returned_typed() -> None:
    body = json.dumps(spec_example("ExportFailedEvent")).encode()
    event = verify(body, signed(body))
    assert isinstance(event, ExportFailedEvent)
    assert event.export.reason == spec_example("ExportFailedEvent")["export"]["reason"]


def test_webhook_header_names_and_any_case_are_accepted() -> None:
    body = completed_body()
    headers = {k.replace("svix-", "Webhook-").title(): v for k, v in signed(body).items()}
    assert isinstance(verify(body, headers), ExportCompletedEvent)


def test_secret_without_prefix_is_accepted() -> None:
    body = completed_body()
    assert isinstance(verify(body, signed(body), SECRET.removeprefix("whsec_")), ExportCompletedEvent)


def test_key_rotation_any_listed_signature_matches() -> None:
    body = completed_body()
    old = signed(body, secret="whsec_" + "b2xkLXNlY3JldA==")["svix-signature"]
    new = signed(body)["svix-signature"]
    headers = signed(body)
    headers["svix-signature"] = f"v1a,Zm9v {old} garbage v1,!!! {new}"
    assert isinstance(verify(body, headers), ExportCompletedEvent)


def rejection(
    body: bytes, headers: dict[str, str], secret: str = SECRET, **kwargs: Any
) -> WebhookVerificationError:
    with pytest.raises(WebhookVerificationError) as caught:
        verify(body, headers, secret, **kwargs)
    message = str(caught.value)
    assert secret not in message
    if secret.removeprefix("whsec_"):
        assert secret.removeprefix("whsec_") not in message
    for value in headers.values():
        if value.startswith("v1,"):
            assert value.split(",", 1)[1] not in message
    return caught.value


def test_tampered_body_is_rejected() -> None:
    body = completed_body()
    headers = signed(body)
    assert rejection(body.replace(b"original", b"csv"), headers).reason == "no-matching-signature"


def test_wrong_secret_is_rejected() -> None:
    body = completed_body()
    other = "whsec_" + "YW5vdGhlci1zZWNyZXQtdmFsdWU="
    assert rejection(body, signed(body), other).reason == "no-matching-signature"


@pytest.mark.parametrize("offset", [-301, 301, -86_400])
def test_timestamp_outside_tolerance_is_rejected(offset: int) -> None:
    body = completed_body()
    assert rejection(body, signed(body, timestamp=NOW + offset)).reason == "timestamp-outside-tolerance"


def test_tolerance_is_configurable() -> None:
    body = completed_body()
    headers = signed(body, timestamp=NOW - 600)
    assert isinstance(verify(body, headers, tolerance=900), ExportCompletedEvent)
    assert (
        rejection(body, signed(body, timestamp=NOW - 60), tolerance=30).reason
        == "timestamp-outside-tolerance"
    )


def test_timestamp_at_the_tolerance_edge_is_accepted() -> None:
    body = completed_body()
    assert isinstance(verify(body, signed(body, timestamp=NOW - 300)), ExportCompletedEvent)


@pytest.mark.parametrize("missing", ["svix-id", "svix-timestamp", "svix-signature"])
def test_missing_header_is_rejected(missing: str) -> None:
    body = completed_body()
    headers = signed(body)
    del headers[missing]
    error = rejection(body, headers)
    assert error.reason == "missing-header" and missing in str(error)


def test_no_headers_at_all_is_rejected() -> None:
    assert rejection(completed_body(), {}).reason == "missing-header"


@pytest.mark.parametrize("timestamp", ["1614265330.5", "-5", "soon", "١٢٣"])
def test_malformed_timestamp_is_rejected(timestamp: str) -> None:
    body = completed_body()
    headers = {**signed(body), "svix-timestamp": timestamp}
    assert rejection(body, headers).reason == "bad-timestamp"


@pytest.mark.parametrize("secret", ["whsec_", "whsec_not base64!", "whsec_YWJj*"])
def test_bad_secret_is_rejected(secret: str) -> None:
    body = completed_body()
    assert rejection(body, signed(body), secret).reason == "bad-secret"


@pytest.mark.parametrize(
    "body",
    [b"not json", b"\xff\xfe", b"[1, 2]", b'{"questionnaire": {"id": "q"}}'],
    ids=["text", "binary", "array", "partial"],
)
def test_signed_but_invalid_payload_is_rejected(body: bytes) -> None:
    assert rejection(body, signed(body)).reason == "invalid-payload"


def test_payload_with_fields_of_both_events_is_rejected() -> None:
    data = spec_example("ExportCompletedEvent")
    data["export"]["reason"] = "both"
    body = json.dumps(data).encode()
    assert rejection(body, signed(body)).reason == "invalid-payload"


def test_body_must_be_bytes() -> None:
    with pytest.raises(TypeError, match="bytes"):
        verify_webhook("text", {}, SECRET)  # type: ignore[arg-type]


@pytest.mark.parametrize("tamper", [False, True])
def test_agrees_with_the_standardwebhooks_library(tamper: bool) -> None:
    """The reference implementation, fed the same (fresh) delivery, reaches the same verdict."""
    now = int(datetime.now(UTC).timestamp())
    body = completed_body()
    headers = signed(body, timestamp=now)
    received = body + b" " if tamper else body
    webhook_headers = {k.replace("svix-", "webhook-"): v for k, v in headers.items()}
    try:
        standardwebhooks.Webhook(SECRET).verify(received, webhook_headers)
        oracle_accepts = True
    except standardwebhooks.WebhookVerificationError:
        oracle_accepts = False
    try:
        verify_webhook(received, headers, SECRET)
        ours_accepts = True
    except WebhookVerificationError:
        ours_accepts = False
    assert ours_accepts == oracle_accepts == (not tamper)
