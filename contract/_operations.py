"""Operations, documented responses, request bodies and the lifecycle facts the rules read from the spec.

Why here: the suite, the server, the bench and the tests must never copy field sets, enums or media
types into Python, nor walk the spec themselves; every such fact is derived here, in one place.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from ._load import (
    common_fields,
    component_schema,
    discriminator,
    example_value,
    load_spec,
    resolve,
    resolve_pointer,
    status_variants,
)
from ._refs import escape, example_ref_name, ref_name, ref_of

#: Semantic roles the rules need (names of fields the docs give a meaning to); each is checked
#: against the spec at import so a renamed field fails loudly instead of silently skipping a rule.
REQUESTED_AT = "requestedAt"
EXPIRES_AT = "expiresAt"
DOWNLOAD_URL = "downloadUrl"
FAILED_STATUS = "failed"
CREATE_OP = "createQuestionnaireExport"
GET_OP = "getQuestionnaireExport"


@dataclass(frozen=True)
class Operation:
    """One operation of the spec: its id, HTTP method (upper case) and path template."""

    operation_id: str
    method: str
    path: str

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@functools.cache
def operations() -> dict[str, Operation]:
    """``{operation id: Operation}`` in spec order."""
    ops = {}
    for path, item in load_spec()["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                ops[op["operationId"]] = Operation(op["operationId"], method.upper(), path)
    return ops


def operation_for(method: str, path: str) -> str | None:
    """The operation id whose method and path template match a request (relative to the base URL)."""
    parts = path.split("?")[0].strip("/").split("/")
    for op in operations().values():
        template = op.path.strip("/").split("/")
        if op.method != method.upper() or len(template) != len(parts):
            continue
        if all(t.startswith("{") or t == p for t, p in zip(template, parts, strict=True)):
            return op.operation_id
    return None


def operation_path(operation_id: str, **params: str) -> str:
    """An operation's path, its ``{name}`` parameters replaced by ``params`` (left as templates if absent)."""
    path = operations()[operation_id].path
    for name, value in params.items():
        path = path.replace("{" + name + "}", value)
    return path


def _response(operation_id: str, status: int) -> tuple[dict[str, Any], str] | None:
    """The documented response for a status and its JSON pointer, following a `$ref`."""
    op = operations()[operation_id]
    responses = load_spec()["paths"][op.path][op.method.lower()]["responses"]
    key = str(status) if str(status) in responses else ("default" if "default" in responses else None)
    if key is None:
        return None
    pointer = f"/paths/{escape(op.path)}/{op.method.lower()}/responses/{key}"
    response = responses[key]
    ref = ref_of(response)
    if ref is not None:
        pointer = ref.removeprefix("#")
        response = resolve_pointer(pointer)
    return response, pointer


def documented_statuses(operation_id: str) -> list[str]:
    """The response keys an operation documents (``"200"``, ``"404"``, ``"default"``...), in spec order."""
    op = operations()[operation_id]
    return list(load_spec()["paths"][op.path][op.method.lower()]["responses"])


def media_types(operation_id: str, status: int) -> list[str] | None:
    """Documented media types of a response, or None when the status is not documented."""
    found = _response(operation_id, status)
    if found is None:
        return None
    return list(found[0].get("content", {}))


def body_schema(operation_id: str, status: int, media_type: str) -> tuple[str, dict[str, Any]] | None:
    """(JSON pointer, schema) of a documented response body, `$ref` kept as the pointer when present."""
    found = _response(operation_id, status)
    if found is None or media_type not in found[0].get("content", {}):
        return None
    response, pointer = found
    schema = response["content"][media_type]["schema"]
    ref = ref_of(schema)
    if ref is not None and len(schema) == 1:
        return ref.removeprefix("#"), component_schema(ref_name(ref))
    return f"{pointer}/content/{escape(media_type)}/schema", schema


def pending_status() -> str:
    """The status a freshly created export carries: the `const` of the 202 body's status."""
    _, schema = body_schema(CREATE_OP, 202, "application/json") or ("", {})
    prop, _ = discriminator()
    return str(schema["properties"][prop]["const"])


def terminal_statuses() -> list[str]:
    """Every status but the pending one, in spec order."""
    return [value for value in status_variants() if value != pending_status()]


def is_timestamp(schema: dict[str, Any]) -> bool:
    """Whether a property schema is a date-time (directly or through a ``$ref``)."""
    return resolve(schema).get("format") == "date-time"


@functools.cache
def timestamp_fields(status: str) -> tuple[str, ...]:
    """date-time fields of a variant, in spec order."""
    schema = component_schema(status_variants()[status].schema_name)
    return tuple(name for name, prop in schema.get("properties", {}).items() if is_timestamp(prop))


def completion_fields(status: str) -> tuple[str, ...]:
    """The variant's own timestamps that record when it ended (all but the link expiry)."""
    own = status_variants()[status].own_fields
    return tuple(f for f in timestamp_fields(status) if f in own and f != EXPIRES_AT)


@functools.cache
def immutable_fields() -> frozenset[str]:
    """Fields a terminal export must never change: the base fields and every completion time."""
    fields = set(common_fields())
    for status in terminal_statuses():
        fields.update(completion_fields(status))
    return frozenset(fields)


def enum_values(schema_name: str) -> list[str]:
    """The ``enum`` of a component schema, as strings."""
    return [str(v) for v in component_schema(schema_name)["enum"]]


def _assert_roles() -> None:
    variants = status_variants()
    allowed = set().union(*(v.allowed for v in variants.values()))
    missing = {REQUESTED_AT, EXPIRES_AT, DOWNLOAD_URL} - allowed
    if missing or FAILED_STATUS not in variants or not {CREATE_OP, GET_OP} <= set(operations()):
        raise RuntimeError(f"openapi.yaml no longer has the fields/operations the rules need: {missing}")


_assert_roles()


def create_body(questionnaire_id: str, fmt: str) -> dict[str, Any]:
    """A valid create request, built from the request schema: enum fields get `fmt`, strings the id."""
    _, schema = _request_schema()
    body: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        body[name] = fmt if "enum" in resolve(prop) else questionnaire_id
    return body


def _request_content() -> dict[str, Any]:
    op = operations()[CREATE_OP]
    content: dict[str, Any] = load_spec()["paths"][op.path][op.method.lower()]["requestBody"]["content"]
    media: dict[str, Any] = content["application/json"]
    return media


def _request_schema() -> tuple[str, dict[str, Any]]:
    name = ref_name(str(ref_of(_request_content()["schema"])))
    return name, component_schema(name)


def request_schema() -> dict[str, Any]:
    """The create request's body schema (the component it names)."""
    return _request_schema()[1]


def request_pointer() -> str:
    """The JSON pointer of the create request's body schema (for `schema_validator`)."""
    return f"/components/schemas/{_request_schema()[0]}"


def request_media_types() -> list[str]:
    """The media types the create request's body is documented with."""
    op = operations()[CREATE_OP]
    return list(load_spec()["paths"][op.path][op.method.lower()]["requestBody"]["content"])


def example_create_body(questionnaire_id: str) -> dict[str, Any]:
    """The spec's first example of the create request body, for another questionnaire."""
    example = next(iter(_request_content()["examples"].values()))
    value = dict(example_value(example_ref_name(example)))
    return {**value, _questionnaire_field(): questionnaire_id}


def _questionnaire_field() -> str:
    """The create request's one string field that is not an enum (the questionnaire id)."""
    names = [n for n, p in request_schema().get("properties", {}).items() if "enum" not in resolve(p)]
    if len(names) != 1:
        raise RuntimeError(f"the create request should have exactly one non-enum field, has {names}")
    return str(names[0])


def invalid_create_bodies(questionnaire_id: str, fmt: str) -> list[tuple[str, bytes]]:
    """Request bodies the spec forbids, each with a label: a bad enum value, each required field missing,
    an unknown key, and a body that is not JSON."""
    valid = create_body(questionnaire_id, fmt)
    _, schema = _request_schema()
    out: list[tuple[str, bytes]] = []
    for name, value in valid.items():
        if value == fmt:
            out.append(
                (f"POST with {name} {'not-' + fmt!r}", json.dumps({**valid, name: "not-" + fmt}).encode())
            )
    for name in schema.get("required", []):
        rest = {k: v for k, v in valid.items() if k != name}
        out.append((f"POST without {name}", json.dumps(rest).encode()))
    if schema.get("additionalProperties") is False:
        out.append(("POST with an unknown key", json.dumps({**valid, "conformanceExtra": 1}).encode()))
    out.append(("POST with a body that is not JSON", b"{not json"))
    return out
