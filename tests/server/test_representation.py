"""One mapping from a row to the API body and the webhook payload: the spec's own examples come back out.

The spec's examples of the three variants and of both webhook events describe the same two exports, so a
row built from an example must map to exactly that example, key order included.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

import contract
from reference_server import representation, statuses
from reference_server.clock import to_millis
from reference_server.store import ExportRecord

QUESTIONNAIRE_ID = contract.example_value("ExportCompletedEvent")["questionnaire"]["id"]


def _millis(value: str | None) -> int | None:
    return None if value is None else to_millis(datetime.fromisoformat(value))


def _example(status: str) -> dict[str, Any]:
    body: dict[str, Any] = contract.example_value(contract.status_variants()[status].schema_name)
    return body


def _record(body: dict[str, Any]) -> ExportRecord:
    """The row behind an API example."""
    requested = _millis(body["requestedAt"])
    assert requested is not None
    return ExportRecord(
        id=body["id"],
        owner="owner",
        questionnaire_id=QUESTIONNAIRE_ID,
        format=body["format"],
        status=body[statuses.TAG],
        requested_at=requested,
        completed_at=_millis(body.get("completedAt")),
        failed_at=_millis(body.get("failedAt")),
        error_message=body.get("errorMessage"),
    )


def test_statuses_are_the_spec_union() -> None:
    assert tuple(contract.status_variants()) == statuses.STATUSES
    assert {statuses.PENDING, *statuses.TERMINAL} == set(statuses.STATUSES)
    assert len({statuses.PENDING, statuses.COMPLETED, statuses.FAILED}) == 3
    assert contract.discriminator()[0] == statuses.TAG


@pytest.mark.parametrize("status", list(contract.status_variants()))
def test_a_row_maps_to_the_spec_example_of_its_status(status: str) -> None:
    example = _example(status)
    link = None
    if "downloadUrl" in example:
        expires = _millis(example["expiresAt"])
        assert expires is not None
        link = representation.DownloadLink(example["downloadUrl"], expires // 1000)
    body = representation.response_body(_record(example), link)
    assert list(body.items()) == list(example.items())


@pytest.mark.parametrize("status", sorted(statuses.TERMINAL))
def test_a_finished_row_maps_to_the_spec_example_of_its_webhook(status: str) -> None:
    event = representation.webhook_event(_record(_example(status)))
    expected = contract.example_value(contract.webhook_event_schemas()[event.event_type])
    assert json.loads(event.body) == expected
    assert event.svix_id.startswith("msg_") and event.attempts == 0


def test_a_row_missing_a_required_field_raises() -> None:
    completed = _record(_example(statuses.COMPLETED))
    with pytest.raises(RuntimeError, match="downloadUrl"):
        representation.response_body(completed)  # no link: the spec requires one
    with pytest.raises(LookupError):
        representation.event_type(statuses.PENDING)
