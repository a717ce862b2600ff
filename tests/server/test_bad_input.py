"""Every class of bad input answers 4xx problem+json naming the field; nothing answers 5xx."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from reference_server.app import create_app
from reference_server.config import ServerConfig
from reference_server.seed import SPREADSHEET_QUESTIONNAIRE_ID
from reference_server.testing import ServerHandle

from .server_test_helpers import EXPORTS, assert_problem, stalled_body_response

VALID = {"questionnaireId": SPREADSHEET_QUESTIONNAIRE_ID, "format": "csv"}
JSON = {"Content-Type": "application/json"}


def _names(response: httpx.Response) -> set[str]:
    body = assert_problem(response, 400)
    assert body["detail"]
    return {param["name"] for param in body["invalid-params"]}


@pytest.mark.parametrize(
    ("payload", "names"),
    [
        ({"questionnaireId": SPREADSHEET_QUESTIONNAIRE_ID}, {"format"}),
        ({"format": "csv"}, {"questionnaireId"}),
        ({}, {"questionnaireId", "format"}),
        ({**VALID, "format": "pdf"}, {"format"}),
        ({**VALID, "format": "CSV"}, {"format"}),
        ({**VALID, "format": None}, {"format"}),
        ({**VALID, "questionnaireId": 42}, {"questionnaireId"}),
        ({**VALID, "questionnaireId": ""}, {"questionnaireId"}),
        ({**VALID, "questionnaireId": ["a"]}, {"questionnaireId"}),
        ({**VALID, "extra": True}, {"extra"}),
        ({**VALID, "id": "x", "status": "pending"}, {"id", "status"}),
        ([VALID], {"body"}),
        ("csv", {"body"}),
        (None, {"body"}),
        (7, {"body"}),
    ],
)
def test_schema_violations_name_the_field(client: httpx.Client, payload: Any, names: set[str]) -> None:
    response = client.post(EXPORTS, content=json.dumps(payload), headers=JSON)
    assert _names(response) == names


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"", JSON),
        (b"{", JSON),
        (b'{"questionnaireId": "x", "format": }', JSON),
        (b"\xff\xfe{}", JSON),
        (b"[" * 5000 + b"]" * 5000, JSON),
        (b"NaN", JSON),
    ],
    ids=["empty", "truncated", "syntax", "not-utf8", "deep", "nan"],
)
def test_unparseable_bodies_name_the_body(
    client: httpx.Client, content: bytes, headers: dict[str, str]
) -> None:
    assert _names(client.post(EXPORTS, content=content, headers=headers)) == {"body"}


@pytest.mark.parametrize(
    "headers",
    [{"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"}, {}],
    ids=["text-plain", "form", "missing"],
)
def test_a_body_not_sent_as_json_is_415(client: httpx.Client, headers: dict[str, str]) -> None:
    request = client.build_request("POST", EXPORTS, content=json.dumps(VALID).encode(), headers=headers)
    assert request.headers.get("Content-Type") == headers.get("Content-Type")  # httpx adds none for bytes
    body = assert_problem(client.send(request), 415)
    assert "Content-Type must be application/json" in body["detail"]


def test_oversized_body_is_413(client: httpx.Client) -> None:
    big = json.dumps({**VALID, "questionnaireId": "a" * 100_000}).encode()
    assert "exceeds" in assert_problem(client.post(EXPORTS, content=big, headers=JSON), 413)["detail"]

    def chunks() -> Any:  # no Content-Length: the limit is enforced while streaming
        for _ in range(100):
            yield b" " * 1024

    assert_problem(client.post(EXPORTS, content=chunks(), headers=JSON), 413)


def test_json_content_type_with_charset_is_accepted(client: httpx.Client) -> None:
    headers = {"Content-Type": "application/json; charset=utf-8"}
    assert client.post(EXPORTS, content=json.dumps(VALID), headers=headers).status_code == 202


def test_unknown_questionnaire_is_404(client: httpx.Client) -> None:
    body = assert_problem(
        client.post(EXPORTS, json={**VALID, "questionnaireId": "ffffffffffffffffffffffff"}), 404
    )
    assert "questionnaire" in body["detail"]


def test_unknown_export_is_404(client: httpx.Client) -> None:
    for export_id in ("ffffffffffffffffffffffff", "not-hex", "%00", "a" * 2000, "é"):
        assert_problem(client.get(f"{EXPORTS}/{export_id}"), 404)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 404),
        ("GET", "/customer-trust", 404),
        ("GET", EXPORTS, 405),
        ("DELETE", EXPORTS, 405),
        ("PUT", f"{EXPORTS}/abc", 405),
        ("PATCH", f"{EXPORTS}/abc", 405),
        ("POST", f"{EXPORTS}/abc/extra", 404),
        ("OPTIONS", EXPORTS, 405),
    ],
)
def test_unknown_paths_and_methods_are_problems(
    client: httpx.Client, method: str, path: str, status: int
) -> None:
    response = client.request(method, path)
    assert_problem(response, status)
    if status == 405:
        assert response.headers["allow"]


def test_outside_the_api(server: ServerHandle) -> None:
    for path in ("/", "/files", "/files/", "/v2/customer-trust/questionnaires/exports"):
        assert_problem(httpx.get(server.origin + path), 404)
    assert_problem(httpx.get(server.origin + "/files/abc.csv"), 403)


@pytest.mark.parametrize(
    ("content", "name", "words"),
    [
        (b'{"questionnaireId": "a", "format": "csv", "format": "original"}', "format", "duplicate key"),
        (b'{"questionnaireId": "a", "format": NaN}', "body", "NaN"),
        (b'{"questionnaireId": "a", "format": Infinity}', "body", "Infinity"),
        (b'{"questionnaireId": "a", "format": -Infinity}', "body", "-Infinity"),
        (b'{"questionnaireId": 1' + b"0" * 5000 + b', "format": "csv"}', "body", "number longer"),
        (b'{"questionnaireId": 1e999, "format": "csv"}', "body", "out of range"),
        (b'{"questionnaireId": "\\ud800", "format": "csv"}', "questionnaireId", "lone surrogate"),
        (b'{"questionnaireId": "ok", "format": "csv", "\\udfff": 1}', "body", "lone surrogate"),
        (b'{"questionnaireId": ["\\ud800"], "format": "csv"}', "questionnaireId/0", "lone surrogate"),
        (b'{"questionnaireId": "\xed\xa0\x80", "format": "csv"}', "body", "UTF-8"),
        (b'{"a": ' * 33 + b"1" + b"}" * 33, "body", "nested deeper than 32"),
    ],
    ids=[
        "duplicate-key",
        "nan",
        "infinity",
        "minus-infinity",
        "5000-digit-int",
        "float-overflow",
        "surrogate-value",
        "surrogate-key",
        "surrogate-in-array",
        "utf8-encoded-surrogate",
        "depth-33",
    ],
)
def test_hostile_json_is_a_400_naming_the_problem(
    client: httpx.Client, content: bytes, name: str, words: str
) -> None:
    body = assert_problem(client.post(EXPORTS, content=content, headers=JSON), 400)
    [param] = body["invalid-params"]
    assert param["name"] == name
    assert words in param["reason"], param


def test_nesting_at_the_limit_is_parsed(client: httpx.Client) -> None:
    """32 levels parse (and then fail the schema on the field), so the bound is the documented one."""
    content = b'{"questionnaireId": ' + b"[" * 31 + b"]" * 31 + b', "format": "csv"}'
    assert _names(client.post(EXPORTS, content=content, headers=JSON)) == {"questionnaireId"}


def test_a_body_that_never_arrives_is_408() -> None:
    app = create_app(ServerConfig(tokens=("t",), in_memory=True, body_timeout=0.2))
    response = stalled_body_response(app, "/v1" + EXPORTS, {"authorization": "Bearer t"})
    assert "did not arrive" in assert_problem(response, 408)["detail"]
