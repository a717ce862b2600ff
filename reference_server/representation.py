"""The one mapping from an export row to what the API answers and what the webhooks carry.

Why one place: the response body and the webhook ``export`` object show the same row, and the spec
gives the fields of each (``components/schemas``). Both are assembled here from one dictionary of the
row's values under the spec's names, keeping exactly the fields the target schema lists, in its order;
a required field the row cannot fill is a bug and raises instead of sending a body the spec forbids.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import contract

from .clock import format_timestamp
from .statuses import TAG, TERMINAL
from .store import ExportRecord, WebhookEvent, new_message_id

__all__ = ["DownloadLink", "event_type", "pick", "response_body", "row_values", "webhook_event"]

#: Webhook field -> REST field, where the spec names one value twice (``ExportFailedEventExport.reason``
#: "carries what the REST API calls ``errorMessage``").
EVENT_ALIASES: Mapping[str, str] = {"reason": "errorMessage"}


@dataclass(frozen=True)
class DownloadLink:
    """A signed link to a completed export's file, valid until ``expires`` (Unix seconds)."""

    url: str
    expires: int


def row_values(record: ExportRecord, link: DownloadLink | None = None) -> dict[str, Any]:
    """Every value the row (and its link, if any) gives, under the spec's REST field names; None = absent."""
    return {
        "id": record.id,
        TAG: record.status,
        "format": record.format,
        "requestedAt": format_timestamp(record.requested_at),
        "completedAt": None if record.completed_at is None else format_timestamp(record.completed_at),
        "downloadUrl": None if link is None else link.url,
        "expiresAt": None if link is None else format_timestamp(link.expires * 1000),
        "failedAt": None if record.failed_at is None else format_timestamp(record.failed_at),
        "errorMessage": record.error_message,
    }


def pick(
    values: Mapping[str, Any], schema: Mapping[str, Any], aliases: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Exactly the properties of the object ``schema`` that ``values`` fills, in the schema's order.

    ``aliases`` maps a schema property to the key of ``values`` that holds it. Raises ``RuntimeError``
    when a required property has no value.
    """
    renamed = aliases or {}
    body = {
        name: values[renamed.get(name, name)]
        for name in schema["properties"]
        if values.get(renamed.get(name, name)) is not None
    }
    missing = frozenset(schema.get("required", ())) - body.keys()
    if missing:
        title = schema.get("title", "body")
        raise RuntimeError(f"{title} for export {values.get('id')} lacks required fields {sorted(missing)}")
    return body


def response_body(record: ExportRecord, link: DownloadLink | None = None) -> dict[str, Any]:
    """The API's body for ``record``: the variant its status names, exactly that variant's fields."""
    variant = contract.status_variants()[record.status]
    return pick(row_values(record, link), contract.component_schema(variant.schema_name))


def _export_schema(event: str) -> dict[str, Any]:
    """The schema of the ``export`` object of webhook ``event``."""
    export = contract.component_schema(contract.webhook_event_schemas()[event])["properties"]["export"]
    return contract.resolve(export)


def event_type(status: str) -> str:
    """The webhook event for a terminal ``status``: the one whose ``export`` fields that variant holds."""
    if status not in TERMINAL:
        raise LookupError(f"status {status!r} sends no webhook")
    allowed = contract.status_variants()[status].allowed
    matches = [
        event
        for event in contract.webhook_event_schemas()
        if {EVENT_ALIASES.get(f, f) for f in _export_schema(event)["properties"]} <= allowed
    ]
    if len(matches) != 1:
        raise LookupError(f"the spec defines {len(matches)} webhook events for status {status!r}, not 1")
    return matches[0]


def webhook_event(record: ExportRecord) -> WebhookEvent:
    """The outbox message for ``record`` in its terminal state (a new ``svix-id``, the exact JSON signed)."""
    event = event_type(record.status)
    body = {
        "questionnaire": {"id": record.questionnaire_id},
        "export": pick(row_values(record), _export_schema(event), EVENT_ALIASES),
    }
    return WebhookEvent(
        svix_id=new_message_id(),
        event_type=event,
        body=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        attempts=0,
    )
