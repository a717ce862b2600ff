"""The schema rule's messages name the variant chosen by `status` and the exact field."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.check_schema import check_response

BASE: dict[str, Any] = {"id": "e1", "format": "csv", "requestedAt": "2025-01-08T12:00:00.000Z"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {
                **BASE,
                "status": "completed",
                "completedAt": "2025-01-08T12:05:00Z",
                "downloadUrl": "https://x/y",
            },
            "status=completed: missing required field expiresAt",
        ),
        (
            {**BASE, "status": "pending", "downloadUrl": "https://x/y"},
            "status=pending: field downloadUrl is not allowed",
        ),
        ({**BASE, "status": "done"}, "status 'done' is not one of pending, completed, failed"),
        ({**BASE, "status": ["completed"]}, "status ['completed'] is not one of pending, completed, failed"),
        (
            {**BASE, "status": "pending", "requestedAt": "yesterday"},
            "status=pending: field requestedAt: 'yesterday' is not a 'date-time'",
        ),
    ],
)
def test_variant_messages(body: dict[str, Any], message: str) -> None:
    import json

    assert message in check_response(
        "getQuestionnaireExport", 200, "application/json", json.dumps(body).encode()
    )


def test_conforming_body_and_wrong_content_type() -> None:
    body = b'{"id": "e1", "status": "pending", "format": "csv", "requestedAt": "2025-01-08T12:00:00Z"}'
    assert check_response("getQuestionnaireExport", 200, "application/json", body) == []
    assert check_response("getQuestionnaireExport", 200, "text/plain", body) == [
        "Content-Type text/plain for 200 is not one of application/json"
    ]
