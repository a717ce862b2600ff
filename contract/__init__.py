"""The contract, read from ``openapi.yaml``: the one place field sets, enums and schemas come from.

Why: the reference server, the conformance suite and the tests all need the variant field sets, the
enums and the JSON Schemas of the spec. Reading them here keeps every rule written once, in the spec.
"""

from __future__ import annotations

from ._load import (
    SPEC_PATH,
    Variant,
    common_fields,
    component_schema,
    discriminator,
    download_media_types,
    download_url_pattern,
    format_checker,
    is_valid_fast,
    load_spec,
    schema_validator,
    status_variants,
    webhook_event_schemas,
)

__all__ = [
    "SPEC_PATH",
    "Variant",
    "common_fields",
    "component_schema",
    "discriminator",
    "download_media_types",
    "download_url_pattern",
    "format_checker",
    "is_valid_fast",
    "load_spec",
    "schema_validator",
    "status_variants",
    "webhook_event_schemas",
]
