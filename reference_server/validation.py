"""Turning a raw request body into a valid create request, or into ``invalid-params`` entries.

Why through ``contract``: the spec's ``CreateQuestionnaireExportRequest`` schema is the only statement of
what a valid body is; this module only translates jsonschema's errors into names and reasons a client
can act on.
"""

from __future__ import annotations

import json
import math
import re
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


def _reasons(error: jsonschema.ValidationError, echo: bool) -> Iterable[tuple[str, str]]:
    kind = error.validator
    value: Any = error.validator_value
    schema: Any = error.schema
    if kind == "required" and isinstance(error.instance, dict):
        for prop in value:
            if prop not in error.instance:
                yield _prefix(error) + prop, "is required"
    elif kind == "additionalProperties" and isinstance(error.instance, dict):
        known = set(schema.get("properties", {}))
        if not echo:
            yield _name(error), "has fields that are not allowed (allowed: " + ", ".join(sorted(known)) + ")"
            return
        for prop in sorted(set(error.instance) - known):
            yield _prefix(error) + prop, "is not allowed"
    elif kind == "enum":
        yield _name(error), "must be one of " + ", ".join(str(v) for v in value)
    elif kind == "type":
        expected = value
        expected_text = " or ".join(expected) if isinstance(expected, list) else str(expected)
        article = "an" if expected_text[:1] in "aeiou" else "a"
        got = f", got {_short(error.instance)}" if echo else ""
        yield _name(error), f"must be {article} {expected_text}{got}"
    elif kind == "minLength":
        yield _name(error), f"must be at least {value} character(s) long"
    elif kind == "maxLength":
        yield _name(error), f"must be at most {value} character(s) long"
    elif echo:
        yield _name(error), error.message if len(error.message) <= 200 else error.message[:197] + "..."
    else:
        yield _name(error), f"does not satisfy {kind}"


def describe_errors(
    errors: Iterable[jsonschema.ValidationError], *, echo: bool = True
) -> list[tuple[str, str]]:
    """``(name, reason)`` pairs for schema errors, in a stable order; with ``echo`` False no reason quotes a
    value or a key the caller sent (the token endpoint's bodies hold a secret)."""
    params: list[tuple[str, str]] = []
    for error in sorted(errors, key=lambda e: (_name(e), str(e.validator))):
        for param in _reasons(error, echo):
            if param not in params:
                params.append(param)
    return params


#: Deepest nesting of arrays/objects accepted (a create request needs 1); checked before parsing.
MAX_DEPTH = 32
#: Longest number literal accepted (digits, sign, exponent); Python's own int limit is 4,300 digits.
MAX_NUMBER_CHARS = 100
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Rejected(ValueError):
    """Raised from inside the JSON parser's hooks; carries the ``(name, reason)`` to report."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(reason)
        self.param = (name, reason)


def _shown(text: str) -> str:
    """``text`` quoted for a message, shortened, with anything not printable ASCII escaped."""
    quoted = json.dumps(text if len(text) <= 40 else text[:37] + "...")
    return quoted


def _too_deep(text: str) -> bool:
    """Whether arrays/objects nest deeper than ``MAX_DEPTH`` (strings skipped), without parsing."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            name = key if not _SURROGATE.search(key) else BODY
            raise _Rejected(name, f"duplicate key {_shown(key)}: each key may appear once")
        result[key] = value
    return result


def _constant(literal: str) -> Any:
    raise _Rejected(BODY, f"{literal} is not valid JSON (numbers must be finite)")


def _integer(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARS:
        raise _Rejected(BODY, f"has a number longer than {MAX_NUMBER_CHARS} characters")
    return int(literal)


def _real(literal: str) -> float:
    value = float(literal) if len(literal) <= MAX_NUMBER_CHARS else math.inf
    if not math.isfinite(value):
        raise _Rejected(BODY, f"has a number out of range ({_shown(literal)})")
    return value


def _lone_surrogate(value: Any, path: str) -> tuple[str, str] | None:
    """The first string (key or value) holding a lone surrogate (an unpaired ``\\ud800`` escape)."""
    if isinstance(value, str):
        if _SURROGATE.search(value):
            return path or BODY, "contains a lone surrogate escape: not valid Unicode"
    elif isinstance(value, dict):
        for key, item in value.items():
            if _SURROGATE.search(key):
                return BODY, "has a key with a lone surrogate escape: not valid Unicode"
            found = _lone_surrogate(item, f"{path}/{key}" if path else key)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _lone_surrogate(item, f"{path}/{index}" if path else str(index))
            if found is not None:
                return found
    return None


def decode_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8, no duplicate keys, no NaN/Infinity, bounded depth and number length, valid
    Unicode; raises ``InvalidBody`` naming what is wrong (never ``ValueError`` or ``RecursionError``)."""
    if not raw.strip():
        raise InvalidBody([(BODY, "is required: send a JSON object")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidBody([(BODY, f"must be UTF-8 encoded JSON (invalid byte at {exc.start})")]) from None
    if _too_deep(text):
        raise InvalidBody([(BODY, f"is nested deeper than {MAX_DEPTH} levels")])
    try:
        document = json.loads(
            text,
            object_pairs_hook=_pairs,
            parse_constant=_constant,
            parse_int=_integer,
            parse_float=_real,
        )
    except _Rejected as exc:
        raise InvalidBody([exc.param]) from None
    except json.JSONDecodeError as exc:
        raise InvalidBody([(BODY, f"is not valid JSON ({exc.msg} at position {exc.pos})")]) from None
    except RecursionError:  # pragma: no cover - the depth scan rejects this first
        raise InvalidBody([(BODY, f"is nested deeper than {MAX_DEPTH} levels")]) from None
    found = _lone_surrogate(document, "")
    if found is not None:
        raise InvalidBody([found])
    return document


def parse_create_request(raw: bytes) -> dict[str, Any]:
    """The decoded body when it satisfies the spec's schema; raises ``InvalidBody`` otherwise."""
    document = decode_json(raw)
    params = describe_errors(contract.schema_validator(CREATE_REQUEST_POINTER).iter_errors(document))
    if params:
        raise InvalidBody(params)
    if not isinstance(document, dict):  # pragma: no cover - the schema requires an object
        raise InvalidBody([(BODY, "must be a JSON object")])
    return document
