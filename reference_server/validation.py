"""Turning a raw request body into a valid create request, or into ``invalid-params`` entries.

Why through ``contract``: the spec's ``CreateQuestionnaireExportRequest`` schema is the only statement of
what a valid body is; this module only translates jsonschema's errors into names and reasons a client
can act on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import jsonschema

import contract

CREATE_REQUEST_POINTER = "/components/schemas/CreateQuestionnaireExportRequest"
BODY = "body"


class InvalidBody(Exception):
    """The body is not a valid create request; ``params`` are ``(name, reason)`` pairs."""

    def __init__(self, params: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in params))
        self.params = params


def _name(error: jsonschema.ValidationError) -> str:
    return "/".join(str(part) for part in error.absolute_path) or BODY


def _prefix(error: jsonschema.ValidationError) -> str:
    path = "/".join(str(part) for part in error.absolute_path)
    return f"{path}/" if path else ""


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _reasons(error: jsonschema.ValidationError) -> Iterable[tuple[str, str]]:
    kind = error.validator
    value: Any = error.validator_value
    schema: Any = error.schema
    if kind == "required" and isinstance(error.instance, dict):
        for prop in value:
            if prop not in error.instance:
                yield _prefix(error) + prop, "is required"
    elif kind == "additionalProperties" and isinstance(error.instance, dict):
        known = set(schema.get("properties", {}))
        for prop in sorted(set(error.instance) - known):
            yield _prefix(error) + prop, "is not allowed"
    elif kind == "enum":
        yield _name(error), "must be one of " + ", ".join(str(v) for v in value)
    elif kind == "type":
        expected = value
        expected_text = " or ".join(expected) if isinstance(expected, list) else str(expected)
        article = "an" if expected_text[:1] in "aeiou" else "a"
        yield _name(error), f"must be {article} {expected_text}, got {_short(error.instance)}"
    elif kind == "minLength":
        yield _name(error), f"must be at least {value} character(s) long"
    else:
        yield _name(error), error.message if len(error.message) <= 200 else error.message[:197] + "..."


def parse_create_request(raw: bytes) -> dict[str, Any]:
    """The decoded body when it satisfies the spec's schema; raises ``InvalidBody`` otherwise."""
    if not raw.strip():
        raise InvalidBody([(BODY, "is required: send a JSON object")])
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidBody([(BODY, "must be UTF-8 encoded JSON")]) from None
    except (json.JSONDecodeError, RecursionError) as exc:
        reason = (
            f"is not valid JSON ({exc.msg} at position {exc.pos})"
            if isinstance(exc, json.JSONDecodeError)
            else "is nested too deeply"
        )
        raise InvalidBody([(BODY, reason)]) from None
    validator = contract.schema_validator(CREATE_REQUEST_POINTER)
    errors = sorted(validator.iter_errors(document), key=lambda e: (_name(e), str(e.validator)))
    params: list[tuple[str, str]] = []
    for error in errors:
        for param in _reasons(error):
            if param not in params:
                params.append(param)
    if params:
        raise InvalidBody(params)
    if not isinstance(document, dict):  # pragma: no cover - the schema requires an object
        raise InvalidBody([(BODY, "must be a JSON object")])
    return document
