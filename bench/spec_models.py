"""pydantic v2 and msgspec models of the status union, built from the spec's schemas at run time.

Why built, not written: the comparison must be with the same field sets, enums and constraints the
generated client enforces, and those live in ``openapi.yaml`` only. Each JSON Schema keyword the status
variants use maps to the library's closest strict equivalent; an unknown one raises ``ValueError``.
msgspec has no URI type, so ``format: uri`` is a plain string there (it checks less than the others).
"""

from __future__ import annotations

import datetime
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
import pydantic

import contract
from contract import component_schema, discriminator, status_variants


@dataclass(frozen=True)
class FieldKind:
    """What a property is, reduced to what the variants use."""

    kind: str  # const, enum, date-time, uri, string
    values: tuple[Any, ...] = ()
    min_length: int = 0


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    return contract.resolve(schema)


def field_kind(schema: dict[str, Any]) -> FieldKind:
    """The kind of one property schema (following ``$ref``)."""
    resolved = _resolve(schema)
    if "const" in resolved:
        return FieldKind("const", (resolved["const"],))
    if "enum" in resolved:
        return FieldKind("enum", tuple(resolved["enum"]))
    if resolved.get("type") != "string":
        raise ValueError(f"no benchmark model for schema {resolved!r}")
    fmt = resolved.get("format")
    if fmt in ("date-time", "uri"):
        return FieldKind(str(fmt))
    if fmt is not None:
        raise ValueError(f"no benchmark model for format {fmt!r}")
    return FieldKind("string", min_length=int(resolved.get("minLength", 0)))


def variant_fields() -> dict[str, dict[str, tuple[FieldKind, bool]]]:
    """``{status: {field: (kind, required)}}`` for every variant, in the spec's order."""
    out = {}
    for status, variant in status_variants().items():
        props = component_schema(variant.schema_name).get("properties", {})
        out[status] = {name: (field_kind(prop), name in variant.required) for name, prop in props.items()}
    return out


def _literal(values: tuple[Any, ...]) -> Any:
    return typing.cast(Any, typing.Literal).__getitem__(values)


def _union(members: list[Any]) -> Any:
    return typing.cast(Any, typing.Union).__getitem__(tuple(members))


def _pydantic_type(kind: FieldKind) -> Any:
    if kind.kind in ("const", "enum"):
        return _literal(kind.values)
    if kind.kind == "date-time":
        return pydantic.AwareDatetime
    if kind.kind == "uri":
        return pydantic.AnyUrl
    return Annotated[str, pydantic.StringConstraints(min_length=kind.min_length)]


def pydantic_union() -> pydantic.TypeAdapter[Any]:
    """A ``TypeAdapter`` of the union, ``Field(discriminator=...)``, every model ``extra="forbid"``."""
    tag, mapping = discriminator()
    models = []
    for status, fields in variant_fields().items():
        definitions: dict[str, Any] = {
            name: (_pydantic_type(kind), ... if required else None)
            for name, (kind, required) in fields.items()
        }
        models.append(
            pydantic.create_model(
                mapping[status], __config__=pydantic.ConfigDict(extra="forbid"), **definitions
            )
        )
    union: Any = Annotated[_union(models), pydantic.Field(discriminator=tag)]
    return pydantic.TypeAdapter(union)


def _msgspec_type(kind: FieldKind) -> Any:
    if kind.kind in ("const", "enum"):
        return _literal(kind.values)
    if kind.kind == "date-time":
        return Annotated[datetime.datetime, msgspec.Meta(tz=True)]
    return Annotated[str, msgspec.Meta(min_length=kind.min_length)]


def msgspec_decoder() -> Callable[[bytes], Any]:
    """A JSON decoder of the union as tagged structs with ``forbid_unknown_fields=True``."""
    tag, mapping = discriminator()
    structs = []
    for status, fields in variant_fields().items():
        spec_fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
        for name, (kind, required) in fields.items():
            if name == tag:
                continue
            spec_fields.append((name, _msgspec_type(kind)) if required else (name, _msgspec_type(kind), None))
        spec_fields.sort(key=len)  # msgspec wants required fields before those with defaults
        structs.append(
            msgspec.defstruct(
                mapping[status], spec_fields, tag_field=tag, tag=status, forbid_unknown_fields=True
            )
        )
    decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(_union(structs))
    return decoder.decode
