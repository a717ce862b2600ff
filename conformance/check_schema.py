"""The `schema` rule: a response against its documented schema, union variants chosen by `status`.

Why not plain `oneOf` validation: its error names neither the variant nor the field. Picking the branch
with the discriminator gives "status=completed: missing required field expiresAt".
"""

from __future__ import annotations

import json
from typing import Any, cast

from jsonschema.exceptions import ValidationError

import contract
from contract import is_valid_fast, schema_validator


def _path(error: ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path)


def _messages(errors: list[ValidationError], prefix: str) -> list[str]:
    out = []
    for error in sorted(errors, key=lambda e: (list(map(str, e.absolute_path)), e.validator)):
        where = _path(error)
        target = error.instance
        if error.validator == "required" and isinstance(target, dict):
            for name in cast(list[str], error.validator_value):
                if name not in target:
                    field = f"{where}.{name}" if where else name
                    out.append(f"{prefix}missing required field {field}")
        elif error.validator == "additionalProperties" and isinstance(target, dict):
            known = set(error.schema.get("properties", {})) if isinstance(error.schema, dict) else set()
            for name in sorted(set(target) - known):
                field = f"{where}.{name}" if where else name
                out.append(f"{prefix}field {field} is not allowed")
        else:
            out.append(f"{prefix}{'field ' + where + ': ' if where else ''}{error.message}")
    return out


def error_messages(errors: list[ValidationError]) -> list[str]:
    """One message per way a body breaks a schema, naming the field (for validators other modules hold)."""
    return _messages(errors, "")


def union_messages(body: Any, schema: dict[str, Any]) -> list[str]:
    """Validate a discriminated union by its tag: one clear message per broken field."""
    disc = schema["discriminator"]
    prop = disc["propertyName"]
    mapping = {value: contract.ref_name(ref) for value, ref in disc["mapping"].items()}
    allowed = ", ".join(mapping)
    if not isinstance(body, dict):
        return [f"body is not a JSON object (expected one of the {prop} variants {allowed})"]
    if prop not in body:
        return [f"missing required field {prop} (one of {allowed})"]
    value = body[prop]
    if not isinstance(value, str) or value not in mapping:  # a list or an object is unhashable
        return [f"{prop} {value!r} is not one of {allowed}"]
    name = mapping[value]
    validator = schema_validator(f"/components/schemas/{name}")
    return _messages(list(validator.iter_errors(body)), f"{prop}={value}: ")


def validate_body(body: Any, pointer: str, schema: dict[str, Any]) -> list[str]:
    """Messages for every way `body` breaks the schema at `pointer` (empty when it conforms)."""
    try:
        if is_valid_fast(pointer, body):  # jsonschema-rs; the slow validator below only explains failures
            return []
        if "discriminator" in schema and "oneOf" in schema:
            messages = union_messages(body, schema)
        else:
            messages = _messages(list(schema_validator(pointer).iter_errors(body)), "")
    except RecursionError:
        return ["body is nested too deeply to validate"]
    if not messages:  # never a silent pass: the fast validator rejected it, so something is off
        return [
            f"the validators disagree: jsonschema-rs rejects the body at {pointer}, python-jsonschema "
            "finds no error (an edge case such as a date-time with a trailing newline)"
        ]
    return messages


def check_response(operation_id: str, status: int, media_type: str, content: bytes) -> list[str]:
    """The `schema` rule for one response. Undocumented statuses belong to other rules."""
    documented = contract.media_types(operation_id, status)
    if documented is None or not documented:
        return []
    if media_type not in documented:
        if status >= 400:
            return []  # the errors-auth rule owns problem+json
        return [f"Content-Type {media_type or '(none)'} for {status} is not one of {', '.join(documented)}"]
    found = contract.body_schema(operation_id, status, media_type)
    if found is None:
        return []
    try:
        body = json.loads(content)
    except RecursionError:
        return [f"{status} body is nested too deeply to decode"]
    except ValueError:
        return [f"{status} body is not valid JSON (or not UTF-8)"]
    pointer, schema = found
    return validate_body(body, pointer, schema)
