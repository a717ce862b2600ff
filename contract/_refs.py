"""The one place a ``$ref`` is read: local references to component schemas, JSON pointer tokens."""

from __future__ import annotations

from typing import Any

_COMPONENT_PREFIX = "#/components/schemas/"
_EXAMPLE_PREFIX = "#/components/examples/"


def ref_name(ref: str) -> str:
    """The component schema name a local ``$ref`` (``#/components/schemas/<name>``) points to."""
    if not ref.startswith(_COMPONENT_PREFIX):
        raise ValueError(f"not a component schema $ref: {ref!r}")
    return ref[len(_COMPONENT_PREFIX) :]


def ref_of(schema: dict[str, Any]) -> str | None:
    """The ``$ref`` of a schema node, or None when it has none."""
    ref = schema.get("$ref")
    return None if ref is None else str(ref)


def escape(token: str) -> str:
    """One JSON pointer token (``/`` and ``~`` escaped)."""
    return token.replace("~", "~0").replace("/", "~1")


def example_ref_name(example: dict[str, Any]) -> str:
    """The ``components/examples`` name an example's ``$ref`` (``#/components/examples/<name>``) points to."""
    ref = str(ref_of(example))
    if not ref.startswith(_EXAMPLE_PREFIX):
        raise ValueError(f"not a component example $ref: {ref!r}")
    return ref[len(_EXAMPLE_PREFIX) :]
