"""Loading ``openapi.yaml`` and deriving validators and field sets from it."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import jsonschema_rs
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ._refs import ref_name, ref_of

#: The spec, shipped inside this package (a link to the repository's top-level ``openapi.yaml``).
SPEC_PATH = Path(__file__).resolve().parent / "openapi.yaml"

_SPEC_URI = "urn:questionnaire-exports:openapi"
#: The formats the spec uses; each must really be checked (see ``format_checker``).
_REQUIRED_FORMATS = ("date-time", "uri", "uri-reference")


@functools.cache
def load_spec() -> dict[str, Any]:
    """The parsed spec (cached; treat it as read-only)."""
    with SPEC_PATH.open(encoding="utf-8") as handle:
        return cast(dict[str, Any], yaml.safe_load(handle))


def component_schema(name: str) -> dict[str, Any]:
    """``components/schemas/<name>`` as written in the spec."""
    return cast(dict[str, Any], load_spec()["components"]["schemas"][name])


@functools.cache
def format_checker() -> FormatChecker:
    """A format checker that really checks the spec's formats.

    python-jsonschema skips a format silently when its optional library is missing; failing here
    instead turns a missing install into a loud error.
    """
    checker = FormatChecker()
    missing = [name for name in _REQUIRED_FORMATS if name not in checker.checkers]
    if missing:
        raise RuntimeError(
            f"jsonschema cannot check formats {missing}: install rfc3339-validator and rfc3986-validator"
        )
    return checker


@functools.cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(load_spec(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(_SPEC_URI, resource)
    return registry


def schema_validator(pointer: str) -> Draft202012Validator:
    """A compiled JSON Schema 2020-12 validator, formats checked, for a JSON pointer into the spec.

    Example: ``schema_validator("/components/schemas/QuestionnaireExport")``.
    """
    return _schema_validator(pointer)


@functools.cache
def _schema_validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": f"{_SPEC_URI}#{pointer}"}, registry=_registry(), format_checker=format_checker()
    )


def is_valid_fast(pointer: str, instance: Any) -> bool:
    """Whether ``instance`` is valid at ``pointer``, by jsonschema-rs (formats checked): about 300x faster.

    Use it as a fast path only; build messages with ``schema_validator``. A test checks that whatever it
    accepts the reference validator accepts too.
    """
    return bool(_fast_validator(pointer).is_valid(instance))


@functools.cache
def _fast_validator(pointer: str) -> Any:
    registry = jsonschema_rs.Registry([(_SPEC_URI, load_spec())])
    return jsonschema_rs.validator_for(
        {"$ref": f"{_SPEC_URI}#{pointer}"}, registry=registry, validate_formats=True
    )


@dataclass(frozen=True)
class Variant:
    """One member of the status union: its tag value and its field sets, as the spec states them."""

    status: str
    schema_name: str
    required: frozenset[str]
    allowed: frozenset[str]

    @property
    def own_fields(self) -> frozenset[str]:
        """Fields this variant has that the others (taken together) do not all share."""
        return self.allowed - common_fields()


def discriminator() -> tuple[str, dict[str, str]]:
    """The status union's discriminator: property name and ``{value: schema name}``."""
    union = component_schema("QuestionnaireExport")
    disc = union["discriminator"]
    mapping = {value: ref_name(ref) for value, ref in disc["mapping"].items()}
    return disc["propertyName"], mapping


@functools.cache
def status_variants() -> dict[str, Variant]:
    """``{status value: Variant}`` in the spec's order."""
    _, mapping = discriminator()
    variants = {}
    for value, name in mapping.items():
        schema = component_schema(name)
        variants[value] = Variant(
            status=value,
            schema_name=name,
            required=frozenset(schema.get("required", ())),
            allowed=frozenset(schema.get("properties", {})),
        )
    return variants


@functools.cache
def common_fields() -> frozenset[str]:
    """Fields every variant allows (the base fields)."""
    sets = [v.allowed for v in status_variants().values()]
    return frozenset.intersection(*sets)


def download_media_types() -> dict[str, tuple[str, ...]]:
    """``{format: media types}`` the downloaded file may have (``ExportFormat``'s ``x-download-media-types``)."""
    table = component_schema("ExportFormat")["x-download-media-types"]
    return {fmt: tuple(types) for fmt, types in table.items()}


def download_url_pattern() -> str:
    """The ``pattern`` the spec gives ``ExportCompleted.downloadUrl`` (its http(s)-only requirement)."""
    return str(component_schema("ExportCompleted")["properties"]["downloadUrl"]["pattern"])


def webhook_event_schemas() -> dict[str, str]:
    """``{event type: component schema name}`` from the spec's ``webhooks`` section."""
    events = {}
    for event, item in load_spec().get("webhooks", {}).items():
        body = item["post"]["requestBody"]["content"]["application/json"]["schema"]
        events[event] = ref_name(str(ref_of(body)))
    return events


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema node with every leading ``$ref`` followed to the component it names."""
    while (ref := ref_of(schema)) is not None:
        schema = component_schema(ref_name(ref))
    return schema


def resolve_pointer(pointer: str) -> Any:
    """The node a JSON pointer (``/a/b~1c``, with or without a leading ``#``) names in the spec."""
    node: Any = load_spec()
    for part in pointer.removeprefix("#").strip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def component_schemas() -> dict[str, dict[str, Any]]:
    """``{name: schema}`` of every component schema, as written (treat as read-only)."""
    return cast(dict[str, dict[str, Any]], load_spec()["components"]["schemas"])


def example_names() -> list[str]:
    """Names of the spec's ``components/examples``, in spec order."""
    return list(load_spec()["components"].get("examples", {}))


def example_value(name: str) -> Any:
    """A deep copy of ``components/examples/<name>/value`` (safe to modify)."""
    return copy.deepcopy(load_spec()["components"]["examples"][name]["value"])


def spec_document() -> dict[str, Any]:
    """A deep copy of the whole spec, for a consumer that wants the document itself (e.g. Schemathesis'
    ``schemathesis.openapi.from_dict``, which modifies what it is given)."""
    return copy.deepcopy(load_spec())
