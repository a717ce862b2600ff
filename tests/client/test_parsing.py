"""The generated client enforces the conditional-field rules: each body parses as exactly its variant or
raises ResponseValidationError naming the status and the field, with the HTTP status and raw body attached."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from questionnaire_exports_client.api.exports import create_questionnaire_export, get_questionnaire_export
from questionnaire_exports_client.errors import QuestionnaireExportsError, ResponseValidationError
from questionnaire_exports_client.models import (
    CreateQuestionnaireExportRequest,
    ExportCompleted,
    ExportFailed,
    ExportPending,
    Problem,
)

import contract

from .conftest import client_answering

EXAMPLES = {s: dict(contract.example_value(f"Export{s.capitalize()}")) for s in contract.status_variants()}
CLASSES: dict[str, type[ExportPending | ExportCompleted | ExportFailed]] = {
    "pending": ExportPending,
    "completed": ExportCompleted,
    "failed": ExportFailed,
}
ALLOWED = ", ".join(contract.status_variants())


def get(body: Any, status: int = 200) -> Any:
    return get_questionnaire_export.sync_detailed(
        "507f1f77bcf86cd799439011", client=client_answering(body, status)
    ).parsed


def rejects(body: Any, message: str, field: str | None) -> None:
    with pytest.raises(ResponseValidationError) as caught:
        get(body)
    error = caught.value
    assert str(error) == f"HTTP 200: {message}"
    assert error.field == field
    assert error.status_code == 200
    assert error.content and isinstance(error, QuestionnaireExportsError)


# --- the five cases the issue names -------------------------------------------------------------------------


def test_pending_with_download_url_is_rejected() -> None:
    rejects(
        {**EXAMPLES["pending"], "downloadUrl": EXAMPLES["completed"]["downloadUrl"]},
        "status=pending: field downloadUrl is not allowed",
        "downloadUrl",
    )


def test_completed_without_expires_at_is_rejected() -> None:
    body = {k: v for k, v in EXAMPLES["completed"].items() if k != "expiresAt"}
    rejects(body, "status=completed: missing required field expiresAt", "expiresAt")


def test_failed_without_error_message_is_rejected() -> None:
    body = {k: v for k, v in EXAMPLES["failed"].items() if k != "errorMessage"}
    rejects(body, "status=failed: missing required field errorMessage", "errorMessage")


def test_unknown_status_is_rejected_listing_the_allowed_values() -> None:
    rejects({**EXAMPLES["pending"], "status": "done"}, f"status 'done' is not one of {ALLOWED}", "status")


def test_requested_at_of_the_wrong_type_is_rejected() -> None:
    rejects(
        {**EXAMPLES["pending"], "requestedAt": 12},
        "status=pending: field requestedAt must be a string, got integer 12",
        "requestedAt",
    )


# --- the full matrix, derived from the spec ---------------------------------------------------------------


def _enum_of(schema_name: str, field: str) -> list[str]:
    schema = contract.resolve(contract.component_schema(schema_name)["properties"][field])
    return list(schema.get("enum", []))


def _matrix() -> Iterator[tuple[str, Any, str, str | None]]:
    for status, variant in contract.status_variants().items():
        example = EXAMPLES[status]
        for field in sorted(variant.required):
            body = {k: v for k, v in example.items() if k != field}
            if field == "status":
                yield (
                    f"{status}: no status",
                    body,
                    f"missing required field status (one of {ALLOWED})",
                    "status",
                )
            else:
                yield f"{status}: no {field}", body, f"status={status}: missing required field {field}", field
        for other, other_variant in contract.status_variants().items():
            for field in sorted(other_variant.own_fields - variant.allowed):
                body = {**example, field: EXAMPLES[other][field]}
                yield (
                    f"{status}: {other}'s {field}",
                    body,
                    f"status={status}: field {field} is not allowed",
                    field,
                )
        yield (
            f"{status}: unknown key",
            {**example, "extra": True},
            f"status={status}: field extra is not allowed",
            "extra",
        )
        for field in sorted(variant.allowed - {"status"}):
            enum = _enum_of(variant.schema_name, field)
            for value, shown in ((None, "null"), (12, "integer 12")):
                expected = (
                    f"must be one of {', '.join(sorted(enum))}, got {shown.split()[-1]}"
                    if enum
                    else f"must be a string, got {shown}"
                )
                yield (
                    f"{status}: {field}={value}",
                    {**example, field: value},
                    f"status={status}: field {field} {expected}",
                    field,
                )
    for bad in ("Completed", "COMPLETED", "done", ""):
        yield (
            f"status {bad!r}",
            {**EXAMPLES["completed"], "status": bad},
            f"status '{bad}' is not one of {ALLOWED}",
            "status",
        )
    yield (
        "status not a string",
        {**EXAMPLES["pending"], "status": 1},
        f"status 1 is not one of {ALLOWED}",
        "status",
    )
    for stamp in (
        "2025-01-08",
        "2025-01-08T12:00:00",
        "2025-01-08 12:00:00Z",
        "2025-02-30T12:00:00Z",
        "1736337600",
    ):
        for status, variant in contract.status_variants().items():
            for field in sorted(variant.allowed):
                schema = contract.component_schema(variant.schema_name)["properties"][field]
                if contract.is_timestamp(schema):
                    body = {**EXAMPLES[status], field: stamp}
                    problem = (
                        "a valid RFC 3339 date-time"
                        if stamp == "2025-02-30T12:00:00Z"
                        else "an RFC 3339 date-time with a time-zone offset"
                    )
                    yield (
                        f"{status}: {field}={stamp}",
                        body,
                        f"status={status}: field {field} must be {problem}, got '{stamp}'",
                        field,
                    )
    pattern = contract.component_schema("ExportCompleted")["properties"]["downloadUrl"]
    for url, shown, problem in (
        ("/exports/1.csv?signature=abc", "'/exports/1.csv?REDACTED'", "be an absolute URI"),
        ("exports.csv", "'exports.csv'", "be an absolute URI"),
        ("https://", "'https://'", "be an absolute URI with a host"),
        ("https://host/a b", "'https://host/a b'", "be an absolute URI"),
        ("javascript:alert(1)", "'javascript:alert(1)'", f"match the pattern {pattern['pattern']}"),
        (
            "ftp://files.example/x.csv",
            "'ftp://files.example/x.csv'",
            f"match the pattern {pattern['pattern']}",
        ),
        ("data:text/html,<b>x</b>", "'data:text/html,<b>x</b>'", "be an absolute URI"),
    ):
        yield (
            f"downloadUrl {url!r}",
            {**EXAMPLES["completed"], "downloadUrl": url},
            f"status=completed: field downloadUrl must {problem}, got {shown}",
            "downloadUrl",
        )
    yield (
        "format not in enum",
        {**EXAMPLES["pending"], "format": "xlsx"},
        "status=pending: field format must be one of csv, original, got 'xlsx'",
        "format",
    )
    yield (
        "empty id",
        {**EXAMPLES["pending"], "id": ""},
        "status=pending: field id must have at least 1 character(s), got ''",
        "id",
    )
    yield "array body", [EXAMPLES["pending"]], "body must be a JSON object, got array", None


MATRIX = list(_matrix())


@pytest.mark.parametrize(("name", "body", "message", "field"), MATRIX, ids=[m[0] for m in MATRIX])
def test_matrix_of_invalid_bodies(name: str, body: Any, message: str, field: str | None) -> None:
    rejects(body, message, field)


def test_the_matrix_covers_every_field_for_every_status() -> None:
    """Per status: each allowed field missing or mistyped, each other field present, and an unknown key."""
    every_field = frozenset().union(*(v.allowed for v in contract.status_variants().values()))
    for status in contract.status_variants():
        covered = {field for name, _, _, field in MATRIX if name.startswith(f"{status}: ")}
        assert covered == every_field | {"extra"}, status


@pytest.mark.parametrize("status", list(contract.status_variants()))
def test_every_valid_example_parses_into_its_class(status: str) -> None:
    parsed = get(EXAMPLES[status])
    assert isinstance(parsed, CLASSES[status]) and type(parsed) is CLASSES[status]
    assert parsed.status == status
    assert parsed.to_dict()["id"] == EXAMPLES[status]["id"]


def test_secrets_in_a_bad_download_url_are_not_echoed() -> None:
    body = {**EXAMPLES["completed"], "downloadUrl": "exports.csv?signature=TOPSECRET"}
    with pytest.raises(ResponseValidationError) as caught:
        get(body)
    assert "TOPSECRET" not in str(caught.value)
    assert b"TOPSECRET" in caught.value.content  # nothing is lost: the raw body is kept


def test_a_body_that_is_not_json_keeps_the_response() -> None:
    with pytest.raises(ResponseValidationError, match=r"^HTTP 200: body is not valid JSON") as caught:
        get_questionnaire_export.sync_detailed(
            "x", client=client_answering(b"<html>oops</html>", 200, "text/html")
        )
    assert caught.value.content == b"<html>oops</html>"


# --- create (202) and errors ------------------------------------------------------------------------------


def create(body: Any, status: int) -> Any:
    request = CreateQuestionnaireExportRequest(questionnaire_id="65a5d6e2f1a2b3c4d5e6f7a8", format_="csv")
    return create_questionnaire_export.sync_detailed(
        client=client_answering(body, status), body=request
    ).parsed


def test_create_answers_the_pending_variant() -> None:
    assert type(create(EXAMPLES["pending"], 202)) is ExportPending


def test_create_answering_another_variant_is_rejected_by_its_status() -> None:
    with pytest.raises(
        ResponseValidationError,
        match=r"^HTTP 202: status=pending: field status must be 'pending', got 'completed'$",
    ):
        create(EXAMPLES["completed"], 202)


ERRORS = [
    (code, contract.example_value(name))
    for code, name in (
        (400, "ProblemBadRequest"),
        (401, "ProblemUnauthorized"),
        (404, "ProblemQuestionnaireNotFound"),
        (429, "ProblemTooManyRequests"),
    )
]


@pytest.mark.parametrize(("code", "body"), ERRORS, ids=[str(c) for c, _ in ERRORS])
def test_error_responses_parse_into_the_problem_model(code: int, body: dict[str, Any]) -> None:
    parsed = create(body, code)
    assert isinstance(parsed, Problem)
    assert parsed.status == code and parsed.title == body["title"]
    assert parsed.to_dict() == body
    if code != 400:
        assert isinstance(get(body, code), Problem)


def test_a_problem_without_title_is_rejected() -> None:
    with pytest.raises(ResponseValidationError, match=r"^HTTP 404: Problem: missing required field title$"):
        get({"status": 404}, 404)


def test_problem_extension_members_are_kept() -> None:
    parsed = get({"title": "Not Found", "status": 404, "traceId": "abc"}, 404)
    assert parsed["traceId"] == "abc"


def test_from_dict_alone_raises_without_http_context() -> None:
    with pytest.raises(ResponseValidationError) as caught:
        ExportPending.from_dict({**EXAMPLES["pending"], "expiresAt": "2025-01-09T12:00:00Z"})
    assert (
        caught.value.status_code is None
        and str(caught.value) == "status=pending: field expiresAt is not allowed"
    )
