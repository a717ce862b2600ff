"""Hypothesis strategies for valid bodies, built from the spec's own schemas (not from copied field lists).

Covers the JSON Schema subset openapi.yaml uses: $ref, object with properties/required, string with const,
enum, minLength and the formats date-time and uri, integer with bounds, arrays of those.
"""

from __future__ import annotations

import datetime
from typing import Any

from hypothesis import strategies as st

import contract

_OFFSETS = st.sampled_from(["Z", "z", "+00:00", "+05:30", "-08:00"])
_DATETIMES = st.datetimes(min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2100, 1, 1))


@st.composite
def _rfc3339(draw: st.DrawFn) -> str:
    moment = draw(_DATETIMES)
    fraction = draw(
        st.sampled_from(["", ".000", f".{moment.microsecond // 1000:03d}", f".{moment.microsecond:06d}"])
    )
    separator = draw(st.sampled_from(["T", "t"]))
    return moment.strftime(f"%Y-%m-%d{separator}%H:%M:%S") + fraction + draw(_OFFSETS)


_URIS = st.builds(
    lambda host, path, query: f"https://{host}.example.com/{path}{query}",
    st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9._~-]{1,30}(/[A-Za-z0-9._~-]{1,30}){0,3}", fullmatch=True),
    st.sampled_from(["", "?expires=1736424600&signature=abc", "?token=x.y.z"]),
)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    return contract.resolve(schema)


def from_schema(schema: dict[str, Any], *, all_optional: bool = True) -> st.SearchStrategy[Any]:
    """A strategy of values valid against ``schema`` (the subset above; anything else is an error)."""
    schema = _resolve(schema)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date-time":
            return _rfc3339()
        if fmt == "uri":
            return _URIS
        if fmt == "uri-reference":
            return st.sampled_from(
                ["about:blank", "/problems/rate-limit", "https://example.com/p#x", "x?y=1"]
            )
        if fmt is not None:
            raise NotImplementedError(f"format {fmt}")
        return st.text(min_size=schema.get("minLength", 0), max_size=40)
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "array":
        return st.lists(from_schema(schema["items"]), max_size=3)
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {name: from_schema(sub) for name, sub in properties.items() if name in required},
            optional={name: from_schema(sub) for name, sub in properties.items() if name not in required}
            if all_optional
            else {},
        )
    raise NotImplementedError(f"schema {schema}")


def component(name: str) -> st.SearchStrategy[Any]:
    """Valid instances of ``components/schemas/<name>``."""
    return from_schema(contract.component_schema(name))
