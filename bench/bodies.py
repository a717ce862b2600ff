"""Response bodies for the benchmarks, all derived from the spec: valid ones and ways to break them.

Why derived: the field sets live in ``openapi.yaml``; the valid bodies are each variant's own example
and the invalid ones are built from ``contract.status_variants()``, so a change of the spec changes the
benchmark inputs with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from contract import component_schema, discriminator, status_variants


@dataclass(frozen=True)
class Body:
    """One raw response body and what it is (``status=pending``, ``status=failed: missing failedAt``)."""

    label: str
    raw: bytes


def variant_examples() -> dict[str, dict[str, Any]]:
    """``{status: the first example of that variant's schema}``, in the spec's order."""
    out = {}
    for status, variant in status_variants().items():
        examples = component_schema(variant.schema_name).get("examples") or []
        if not examples:
            raise ValueError(f"schema {variant.schema_name} has no example to benchmark with")
        out[status] = dict(examples[0])
    return out


def valid_bodies() -> list[Body]:
    """One body per status variant: the 1:1:1 mix."""
    return [
        Body(f"status={status}", json.dumps(example).encode())
        for status, example in variant_examples().items()
    ]


def _first_plain_string(schema_name: str, tag: str) -> str:
    for name, prop in component_schema(schema_name).get("properties", {}).items():
        if name != tag and prop.get("type") == "string" and "const" not in prop and "format" not in prop:
            return str(name)
    raise ValueError(f"schema {schema_name} has no plain string field to mistype")


def invalid_bodies() -> list[Body]:
    """Per variant: a field of another variant, a missing required field, a string field given a number."""
    tag, _ = discriminator()
    variants = status_variants()
    examples = variant_examples()
    out = []
    for status, variant in variants.items():
        example = examples[status]
        foreign = sorted(
            (name, other)
            for other, other_variant in variants.items()
            if other != status
            for name in other_variant.own_fields - variant.allowed
        )
        if foreign:
            name, owner = foreign[0]
            body = {**example, name: examples[owner][name]}
            out.append(Body(f"status={status}: foreign field {name}", json.dumps(body).encode()))
        missing = max(variant.required - {tag})
        body = {key: value for key, value in example.items() if key != missing}
        out.append(Body(f"status={status}: missing {missing}", json.dumps(body).encode()))
        mistyped = _first_plain_string(variant.schema_name, tag)
        body = {**example, mistyped: 12}
        out.append(Body(f"status={status}: {mistyped} is a number", json.dumps(body).encode()))
    return out
