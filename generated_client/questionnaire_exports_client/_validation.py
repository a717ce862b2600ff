"""Strict checks that make parsed bodies follow the spec (hand-written; generate.sh never writes it).

Why: the upstream generator's ``from_dict`` trusts the body. It drops unknown keys, accepts ``id: 123`` for a
string, lets ``fromisoformat`` take date-only or naive date-times, and parses a ``oneOf`` by trying each member
in turn, so a ``pending`` body that carries ``downloadUrl`` parses and the real cause of a failure is swallowed.
The templates emit, for every model, a ``Shape`` read from the spec (field kinds, required fields, closed or
not), and for every union with a discriminator a ``dispatch`` on it; both raise ``ResponseValidationError``
naming the status and the field.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from .errors import ResponseValidationError
from .redact import REDACTED

T = TypeVar("T")

# ASCII digits only: Python's \d also matches other scripts' digits, which RFC 3339 does not allow.
# _DATE_TIME is the shape (for the message), _STRICT_DATE_TIME the ranges (hours, minutes, offsets).
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII)
_STRICT_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt](?:[01]\d|2[0-3]):[0-5]\d:(?P<second>[0-5]\d|60)(?:\.\d+)?"
    r"(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)",
    re.ASCII,
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_NO_SPACE = re.compile(r"[^\x00-\x20\x7f<>\"{}|\\^`]*")

# RFC 3986 section 3, as ABNF says it (appendix A); the host of an IP-literal is checked by ipaddress.
_PCHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"
_REG_NAME = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*"
_USERINFO = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2})*"
_URI = re.compile(
    rf"[A-Za-z][A-Za-z0-9+.\-]*:"
    rf"(?:"
    rf"//(?:{_USERINFO}@)?(?P<host>\[[^\]/?#@]*\]|{_REG_NAME})(?::[0-9]*)?(?:/{_PCHAR}*)*"
    rf"|/(?:{_PCHAR}+(?:/{_PCHAR}*)*)?"
    rf"|{_PCHAR}+(?:/{_PCHAR}*)*"
    rf"|"
    rf")"
    rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:\#(?:{_PCHAR}|[/?])*)?",
    re.ASCII,
)
_IP_FUTURE = re.compile(r"[vV][0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+", re.ASCII)


class Field:
    """How one field of a model is checked: its kind and, where the spec gives them, its constraints."""

    __slots__ = ("choices", "kind", "maximum", "min_length", "minimum", "pattern")

    def __init__(
        self,
        kind: str,
        *,
        choices: Sequence[object] = (),
        min_length: int = 0,
        minimum: float | None = None,
        maximum: float | None = None,
        pattern: str | None = None,
    ) -> None:
        self.kind = kind
        self.choices = tuple(choices)
        self.min_length = min_length
        self.minimum = minimum
        self.maximum = maximum
        # The spec's `pattern` (an ECMA-262 regex; the spec keeps to the part Python reads alike), unanchored
        # as JSON Schema says.
        self.pattern = re.compile(pattern) if pattern is not None else None


class Shape:
    """A model's fields as the spec states them: ``closed`` when ``additionalProperties`` is false."""

    __slots__ = ("closed", "context", "fast", "fields", "names", "pinned", "required", "required_set")

    def __init__(
        self, context: str, fields: Mapping[str, Field], required: Sequence[str], closed: bool
    ) -> None:
        self.context = context
        self.fields = fields
        self.required = tuple(required)
        self.closed = closed
        self.pinned = tuple((name, spec) for name, spec in fields.items() if spec.kind == "const")
        # For the fast path: sets to compare key views with, and one cheap predicate per field.
        self.names = frozenset(fields)
        self.required_set = frozenset(required)
        self.fast = {name: _fast_predicate(spec) for name, spec in fields.items()}


def check_object(shape: Shape, data: object) -> Mapping[str, Any]:
    """Return ``data`` if it is an object that follows ``shape``; raise ``ResponseValidationError`` otherwise.

    Checked in the order a reader needs: missing fields, then fields that do not belong, then values. A valid
    body takes a fast path of set comparisons and one predicate per field; only a body that fails it is walked
    again, slowly, to say exactly what is wrong.
    """
    if type(data) is dict and _passes_fast(shape, data):
        return data
    return _check_slowly(shape, data)


def _passes_fast(shape: Shape, data: dict[str, Any]) -> bool:
    keys = data.keys()
    if not shape.required_set <= keys or (shape.closed and not keys <= shape.names):
        return False
    fast = shape.fast
    for key, value in data.items():
        predicate = fast.get(key)
        if predicate is not None and not predicate(value):
            return False
    return True


def _check_slowly(shape: Shape, data: object) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise ResponseValidationError(f"{shape.context}: body must be a JSON object, got {_json_type(data)}")
    for name, pinned in shape.pinned:  # a body of another variant is reported as such, not by its fields
        if name in data:
            problem = _check_value(pinned, data[name])
            if problem is not None:
                raise ResponseValidationError(f"{shape.context}: field {name} {problem}", field=name)
    for name in shape.required:
        if name not in data:
            raise ResponseValidationError(f"{shape.context}: missing required field {name}", field=name)
    fields = shape.fields
    if shape.closed:
        for key in data:
            if key not in fields:
                raise ResponseValidationError(f"{shape.context}: field {key} is not allowed", field=key)
    for key, value in data.items():
        spec = fields.get(key)
        if spec is not None:
            problem = _check_value(spec, value)
            if problem is not None:
                raise ResponseValidationError(f"{shape.context}: field {key} {problem}", field=key)
    return data


# Strict enough to need no calendar check but for days 29-31 (like fromisoformat: no year 0, no leap second).
_FAST_DATE_TIME = re.compile(
    r"(?!0000)\d{4}-(?:0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt](?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?"
    r"(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)",
    re.ASCII,
)


def _fast_predicate(spec: Field) -> Callable[[object], bool]:
    """A predicate that accepts only values ``_check_value`` accepts (it may refuse some that it would accept)."""
    kind, min_length = spec.kind, spec.min_length
    if spec.pattern is not None:
        return lambda v: _check_value(spec, v) is None
    if kind == "string":
        return lambda v: type(v) is str and len(v) >= min_length and (v.isascii() or _is_text(v))
    if kind == "date-time":
        return _fast_date_time
    if kind in ("const", "enum"):
        choices = frozenset(c for c in spec.choices if type(c) is str)
        if len(choices) == len(spec.choices):
            return lambda v: type(v) is str and v in choices
    return lambda v: _check_value(spec, v) is None


def _fast_date_time(value: object) -> bool:
    if type(value) is not str:
        return False
    match = _FAST_DATE_TIME.fullmatch(value)
    return match is not None and (match.group(1) < "29" or _check_date_time(value) is None)


def dispatch(data: object, tag: str, parsers: Mapping[str, Callable[[Mapping[str, Any]], T]]) -> T:
    """Parse a ``oneOf`` member chosen by its discriminator ``tag``, and only that member."""
    allowed = ", ".join(parsers)
    if not isinstance(data, dict):
        raise ResponseValidationError(f"body must be a JSON object, got {_json_type(data)}")
    if tag not in data:
        raise ResponseValidationError(f"missing required field {tag} (one of {allowed})", field=tag)
    value = data[tag]
    parser = parsers.get(value) if isinstance(value, str) else None
    if parser is None:
        raise ResponseValidationError(f"{tag} {_show(value)} is not one of {allowed}", field=tag)
    return parser(data)


def parse_datetime(value: str) -> datetime.datetime:
    """Convert a date-time ``check_object`` accepted (``fromisoformat`` rejects RFC 3339's lower-case t/z)."""
    return datetime.datetime.fromisoformat(value.upper())


def _check_value(spec: Field, value: object) -> str | None:
    """What is wrong with ``value`` (completing "field X ..."), or ``None``."""
    kind = spec.kind
    if kind in _STRING_KINDS:
        if not isinstance(value, str):
            return f"must be a string, got {_describe(value)}"
        if not _is_text(value):
            return "must be Unicode text, got a string with a lone surrogate (a \\ud800-style escape)"
        if len(value) < spec.min_length:
            return f"must have at least {spec.min_length} character(s), got {_show(value)}"
        problem = _STRING_KINDS[kind](value)
        if problem is None and spec.pattern is not None and spec.pattern.search(value) is None:
            return f"must match the pattern {spec.pattern.pattern}, got {_show(value)}"
        return problem
    if kind == "const":
        expected = spec.choices[0]
        if type(value) is not type(expected) or value != expected:
            return f"must be {_show(expected)}, got {_show(value)}"
        return None
    if kind == "enum":
        if not any(type(value) is type(choice) and value == choice for choice in spec.choices):
            return f"must be one of {', '.join(str(c) for c in spec.choices)}, got {_show(value)}"
        return None
    if kind in ("integer", "number"):
        numeric = (int,) if kind == "integer" else (int, float)
        if isinstance(value, bool) or not isinstance(value, numeric):
            return f"must be {'an integer' if kind == 'integer' else 'a number'}, got {_describe(value)}"
        if spec.minimum is not None and value < spec.minimum:
            return f"must be at least {spec.minimum:g}, got {value}"
        if spec.maximum is not None and value > spec.maximum:
            return f"must be at most {spec.maximum:g}, got {value}"
        return None
    expected_type = _CONTAINER_KINDS.get(kind)
    if expected_type is not None and not isinstance(value, expected_type):
        return f"must be {'an' if kind in ('object', 'array') else 'a'} {kind}, got {_json_type(value)}"
    return None


def _is_text(value: str) -> bool:
    """Whether ``value`` is Unicode text. JSON's ``\\udc80`` escapes can carry lone surrogates, which no
    encoder takes: an id holding one would make ``quote()`` raise when the next request is built."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_date_time(value: str) -> str | None:
    if _DATE_TIME.fullmatch(value) is None:
        return f"must be an RFC 3339 date-time with a time-zone offset, got {_show(value)}"
    strict = _STRICT_DATE_TIME.fullmatch(value)
    if strict is not None and strict.group("second") == "60":
        return f"must be an RFC 3339 date-time without a leap second (Python cannot hold one), got {_show(value)}"
    try:
        ok = strict is not None and bool(parse_datetime(value))
    except ValueError:
        ok = False
    return None if ok else f"must be a valid RFC 3339 date-time, got {_show(value)}"


def _check_date(value: str) -> str | None:
    try:
        ok = _DATE.fullmatch(value) is not None and bool(datetime.date.fromisoformat(value))
    except ValueError:
        ok = False
    return None if ok else f"must be an RFC 3339 full-date, got {_show(value)}"


def _check_uri(value: str) -> str | None:
    """RFC 3986's ``URI`` (absolute, fragment allowed), and a host whenever there is an authority.

    Stricter than RFC 3986 in one respect, on purpose: ``http://:80`` and ``http://user@`` (an authority with an
    empty host) are refused, since no client can fetch them.
    """
    match = _URI.fullmatch(value)
    if match is None or not _valid_ip_literal(match.group("host")):
        return f"must be an absolute URI, got {_show(value)}"
    if match.group("host") == "":
        return f"must be an absolute URI with a host, got {_show(value)}"
    return None


def _valid_ip_literal(host: str | None) -> bool:
    if host is None or not host.startswith("["):
        return True
    inside = host[1:-1]
    if _IP_FUTURE.fullmatch(inside) is not None:
        return True
    try:
        ipaddress.IPv6Address(inside)
    except ValueError:
        return False
    return "%" not in inside  # a zone id needs RFC 6874's %25, which RFC 3986 does not know


def _check_uri_reference(value: str) -> str | None:
    return None if _NO_SPACE.fullmatch(value) is not None else f"must be a URI reference, got {_show(value)}"


def _no_check(value: str) -> str | None:
    return None


_STRING_KINDS: dict[str, Callable[[str], str | None]] = {
    "string": _no_check,
    "date-time": _check_date_time,
    "date": _check_date,
    "uri": _check_uri,
    "uri-reference": _check_uri_reference,
}
_CONTAINER_KINDS: dict[str, type | tuple[type, ...]] = {"object": dict, "array": list, "boolean": bool}


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _describe(value: object) -> str:
    """``null``, ``integer 12``, ``string 'x'``: the JSON type, then the value when it says more."""
    return "null" if value is None else f"{_json_type(value)} {_show(value)}"


def _show(value: object) -> str:
    """A short, safe rendering of a value for a message: query strings (pre-signed links) are never shown."""
    if isinstance(value, str):
        if "?" in value:
            value = value.split("?", 1)[0] + "?" + REDACTED
        text = value if len(value) <= 60 else value[:57] + "..."
        if not _is_text(text):  # a message must be printable on any UTF-8 stream
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
        return "'" + text.replace("'", "\\'") + "'"
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def brief(error: BaseException) -> str:
    """A short description of a parsing error (``json`` messages hold positions, never the body)."""
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= 120 else text[:117] + "..."
