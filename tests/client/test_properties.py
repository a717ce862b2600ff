"""Property-based: any valid body of any variant, drawn from the spec's schemas, parses into the class its
status names, and to_dict() gives back a body that validates against the spec and parses to an equal model."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from questionnaire_exports_client import models
from questionnaire_exports_client.api.exports import get_questionnaire_export
from questionnaire_exports_client.errors import ResponseValidationError

import contract

from ..strategies import component
from .conftest import client_answering

VARIANTS = contract.status_variants()
ANY_VARIANT = st.one_of([component(v.schema_name) for v in VARIANTS.values()])
UNION = contract.schema_validator("/components/schemas/QuestionnaireExport")
PROFILE = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@PROFILE
@given(ANY_VARIANT)
def test_valid_bodies_parse_into_the_class_status_names(body: dict[str, Any]) -> None:
    assert UNION.is_valid(body), "the strategy must only draw valid bodies"
    parsed = get_questionnaire_export.sync_detailed("id", client=client_answering(body)).parsed
    assert isinstance(parsed, (models.ExportPending, models.ExportCompleted, models.ExportFailed))
    assert type(parsed).__name__ == VARIANTS[body["status"]].schema_name
    round_trip = parsed.to_dict()
    assert UNION.is_valid(round_trip)
    assert set(round_trip) == set(body)
    assert type(parsed).from_dict(round_trip) == parsed


MODEL_SCHEMAS = [
    name for name, schema in contract.component_schemas().items() if schema.get("type") == "object"
]


@pytest.mark.parametrize("name", MODEL_SCHEMAS)
def test_every_model_round_trips(name: str) -> None:
    validator = contract.schema_validator(f"/components/schemas/{name}")
    model = getattr(models, name)

    @settings(max_examples=40, deadline=None, derandomize=True)
    @given(component(name))
    def check(body: dict[str, Any]) -> None:
        assert validator.is_valid(body)
        parsed = model.from_dict(body)
        assert validator.is_valid(parsed.to_dict())
        assert model.from_dict(parsed.to_dict()) == parsed

    check()


@PROFILE
@given(ANY_VARIANT, st.data())
def test_a_field_of_another_variant_is_always_rejected(body: dict[str, Any], data: st.DataObject) -> None:
    status = body["status"]
    foreign = sorted(set().union(*(v.allowed for v in VARIANTS.values())) - VARIANTS[status].allowed)
    field = data.draw(st.sampled_from(foreign))
    with pytest.raises(ResponseValidationError) as caught:
        get_questionnaire_export.sync_detailed("id", client=client_answering({**body, field: "x"}))
    assert str(caught.value) == f"HTTP 200: status={status}: field {field} is not allowed"


@PROFILE
@given(ANY_VARIANT, st.data())
def test_dropping_any_required_field_is_always_rejected(body: dict[str, Any], data: st.DataObject) -> None:
    status = body["status"]
    field = data.draw(st.sampled_from(sorted(VARIANTS[status].required - {"status"})))
    del body[field]
    with pytest.raises(ResponseValidationError) as caught:
        get_questionnaire_export.sync_detailed("id", client=client_answering(body))
    assert str(caught.value) == f"HTTP 200: status={status}: missing required field {field}"
