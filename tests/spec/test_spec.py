"""The contract itself: a valid OpenAPI 3.1 document whose examples obey its own schemas, formats included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

import contract
from contract import schema_validator

from ..strategies import component

SPEC = contract.load_spec()


def test_spec_is_valid_openapi_3_1() -> None:
    assert SPEC["openapi"].startswith("3.1.")
    validate(SPEC)


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        pointer = node["$ref"].removeprefix("#/").split("/")
        target: Any = SPEC
        for part in pointer:
            target = target[part]
        node = target
    return node


def _media_examples() -> Iterator[tuple[str, str, Any]]:
    """(where, schema pointer, example value) for every example attached to a media type or a schema."""
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            bodies = [("requestBody", op.get("requestBody", {}))]
            bodies += [(f"responses/{code}", resp) for code, resp in op["responses"].items()]
            for where, body in bodies:
                for media in _resolve(body).get("content", {}).values():
                    ref = media["schema"]["$ref"].removeprefix("#")
                    for name, example in media.get("examples", {}).items():
                        yield f"{method.upper()} {path} {where} {name}", ref, _resolve(example)["value"]
    for event, item in SPEC["webhooks"].items():
        media = item["post"]["requestBody"]["content"]["application/json"]
        for name, example in media["examples"].items():
            yield (
                f"webhook {event} {name}",
                media["schema"]["$ref"].removeprefix("#"),
                _resolve(example)["value"],
            )
    for name, schema in SPEC["components"]["schemas"].items():
        for index, example in enumerate(schema.get("examples", [])):
            yield f"schema {name} example {index}", f"/components/schemas/{name}", example


EXAMPLES = list(_media_examples())


@pytest.mark.parametrize(("where", "pointer", "example"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_example_validates_against_its_schema(where: str, pointer: str, example: Any) -> None:
    errors = [error.message for error in schema_validator(pointer).iter_errors(example)]
    assert errors == [], f"{where}: {errors}"


def test_examples_cover_every_variant_and_every_error() -> None:
    wheres = " ".join(e[0] for e in EXAMPLES)
    for status in contract.status_variants():
        assert f"responses/200 {status}" in wheres
    for code in ("400", "401", "404", "413", "415", "429"):
        assert f"responses/{code}" in wheres
    for event in SPEC["webhooks"]:
        assert f"webhook {event} " in wheres, f"webhook {event} has no example"


@pytest.mark.parametrize(
    ("pointer", "value"),
    [
        ("/components/schemas/Timestamp", "2025-01-08"),
        ("/components/schemas/Timestamp", "2025-01-08T12:00:00"),
        ("/components/schemas/Timestamp", "2025-13-08T12:00:00Z"),
        ("/components/schemas/Timestamp", "yesterday"),
        # Values that pass the spec's http(s) ``pattern``, so only the ``uri`` format can refuse them.
        ("/components/schemas/ExportCompleted/properties/downloadUrl", "https://storage example.com/x"),
        ("/components/schemas/ExportCompleted/properties/downloadUrl", "https://[::1/x"),
    ],
)
def test_format_checking_really_bites(pointer: str, value: str) -> None:
    """python-jsonschema skips formats silently unless configured; ours is, so bad values fail."""
    assert not schema_validator(pointer).is_valid(value)
    # ...and the same value passes a validator without a format checker, which is the trap we avoid.
    assert Draft202012Validator(_resolve({"$ref": "#" + pointer})).is_valid(value)


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "ftp://storage.example.com/x.csv", "data:text/csv,a", "/relative/path"]
)
def test_download_url_must_be_http_or_https(url: str) -> None:
    """A pre-signed link is http(s): the spec's ``pattern`` refuses every other scheme, and relative links."""
    assert not schema_validator("/components/schemas/ExportCompleted/properties/downloadUrl").is_valid(url)


@pytest.mark.parametrize("url", ["https://s.example.com/x?sig=1", "HTTP://127.0.0.1:8080/files/a.csv"])
def test_download_url_accepts_http_and_https_in_any_case(url: str) -> None:
    assert schema_validator("/components/schemas/ExportCompleted/properties/downloadUrl").is_valid(url)


def test_webhook_operations_carry_no_bearer_token() -> None:
    """The root ``security`` would apply to webhooks too (OpenAPI 3.1); deliveries are Svix-signed instead."""
    for item in SPEC["webhooks"].values():
        assert item["post"]["security"] == []


def test_a_bad_date_time_example_would_fail() -> None:
    example = dict(SPEC["components"]["examples"]["ExportPending"]["value"], requestedAt="2025-01-08")
    assert not schema_validator("/components/schemas/QuestionnaireExport").is_valid(example)


def test_format_checker_refuses_to_work_without_format_libraries(monkeypatch: pytest.MonkeyPatch) -> None:
    from jsonschema import FormatChecker

    contract.format_checker.cache_clear()
    monkeypatch.setattr(FormatChecker, "checkers", {})
    try:
        with pytest.raises(RuntimeError, match="cannot check formats"):
            contract.format_checker()
    finally:
        monkeypatch.undo()
        contract.format_checker.cache_clear()


def _matching_members(body: Any) -> list[str]:
    members = [
        contract.ref_name(ref["$ref"])
        for ref in SPEC["components"]["schemas"]["QuestionnaireExport"]["oneOf"]
    ]
    return [name for name in members if schema_validator(f"/components/schemas/{name}").is_valid(body)]


@pytest.mark.parametrize("status", ["pending", "completed", "failed"])
def test_each_variant_example_matches_exactly_one_member(status: str) -> None:
    example = SPEC["components"]["examples"][f"Export{status.capitalize()}"]["value"]
    assert _matching_members(example) == [contract.status_variants()[status].schema_name]


def _rule_breakers() -> Iterator[tuple[str, dict[str, Any]]]:
    """Bodies that break a conditional-field rule, derived from the spec's own examples and field sets."""
    examples = {
        s: SPEC["components"]["examples"][f"Export{s.capitalize()}"]["value"]
        for s in contract.status_variants()
    }
    for status, variant in contract.status_variants().items():
        for field in sorted(variant.required):
            body = dict(examples[status])
            del body[field]
            yield f"{status} without {field}", body
        for other, other_variant in contract.status_variants().items():
            for field in sorted(other_variant.own_fields - variant.allowed):
                yield f"{status} with {other}'s {field}", {**examples[status], field: examples[other][field]}
        yield f"{status} with an unknown field", {**examples[status], "extra": 1}
    yield "unknown status", {**examples["pending"], "status": "done"}
    yield "wrong-case status", {**examples["pending"], "status": "Pending"}


BREAKERS = list(_rule_breakers())


@pytest.mark.parametrize(("name", "body"), BREAKERS, ids=[b[0] for b in BREAKERS])
def test_bodies_that_break_a_rule_match_no_member(name: str, body: dict[str, Any]) -> None:
    assert _matching_members(body) == []
    assert not schema_validator("/components/schemas/QuestionnaireExport").is_valid(body)


def test_variants_pin_status_and_forbid_extra_fields() -> None:
    tag, mapping = contract.discriminator()
    assert tag == "status"
    for value, name in mapping.items():
        schema = SPEC["components"]["schemas"][name]
        assert schema["properties"][tag]["const"] == value
        assert schema["additionalProperties"] is False
    # An empty parameter list would make the test above skip, not fail: every variant must have breakers.
    assert {name.split()[0] for name, _ in BREAKERS} >= set(mapping)


def _mutations(body: dict[str, Any]) -> Iterator[Any]:
    yield body
    for key in body:
        yield {k: v for k, v in body.items() if k != key}
        for bad in (
            None,
            12,
            "",
            "2025-01-08",
            "2025-01-08T12:00:00",
            "2025-02-30T12:00:00Z",
            "/rel",
            "x y",
            "done",
        ):
            yield {**body, key: bad}
    yield {**body, "downloadUrl": "https://storage.example.com/a?signature=x"}
    yield {**body, "errorMessage": "boom"}
    yield [body]


@pytest.mark.parametrize(
    "name", ["QuestionnaireExport", "ExportCompletedEvent", "ExportFailedEvent", "Problem"]
)
def test_fast_validator_never_accepts_what_the_reference_validator_refuses(name: str) -> None:
    """The conformance suite trusts jsonschema-rs's 'valid' and explains failures with python-jsonschema."""
    pointer = f"/components/schemas/{name}"
    variants = [component(v.schema_name) for v in contract.status_variants().values()]
    strategy = st.one_of(variants) if name == "QuestionnaireExport" else component(name)
    reference = schema_validator(pointer)

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(strategy)
    def check(body: dict[str, Any]) -> None:
        for candidate in _mutations(body):
            if contract.is_valid_fast(pointer, candidate):
                assert reference.is_valid(candidate), candidate

    check()


def test_every_format_has_download_media_types() -> None:
    table = contract.download_media_types()
    assert set(table) == set(contract.component_schema("ExportFormat")["enum"])
    assert all(types for types in table.values())
