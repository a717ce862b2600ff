"""The token endpoint's document (``oauth-token.yaml``) and the OAuth schemes ``openapi.yaml`` declares."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from openapi_spec_validator import validate

import contract

TOKEN_SPEC = contract.load_token_spec()


def test_token_document_is_valid_openapi_3_1() -> None:
    assert TOKEN_SPEC["openapi"].startswith("3.1.")
    # Its 413/429 bodies reference openapi.yaml's Problem: resolve them beside the file.
    validate(TOKEN_SPEC, base_uri=contract.TOKEN_SPEC_PATH.as_uri())


def test_every_token_url_is_an_api_origin_plus_the_token_path() -> None:
    """Both hosts' schemes point at the documented endpoint on the origin of one of the API's servers."""
    urls = contract.oauth_token_urls()
    assert len(urls) == 2
    api_origins = {
        "{0.scheme}://{0.netloc}".format(urlsplit(s["url"])) for s in contract.load_spec()["servers"]
    }
    for url in urls.values():
        parts = urlsplit(url)
        assert parts.scheme == "https"
        assert f"{parts.scheme}://{parts.netloc}" in api_origins
        assert parts.path == contract.token_path()


def test_scopes_are_declared_for_the_flow() -> None:
    assert set(contract.oauth_scopes()) == {"vanta-api.all:read", "vanta-api.all:write"}


def test_request_example_is_valid_and_the_schema_refuses_other_grants() -> None:
    content = TOKEN_SPEC["paths"][contract.token_path()]["post"]["requestBody"]["content"]
    example = next(iter(content["application/json"]["examples"].values()))["value"]
    validator = contract.token_request_validator()
    assert list(validator.iter_errors(example)) == []
    assert not validator.is_valid({**example, "grant_type": "password"})
    assert not validator.is_valid({**example, "extra": 1})
    assert not validator.is_valid({k: v for k, v in example.items() if k != "client_secret"})


GOOD_TOKEN: dict[str, Any] = {"access_token": "abc.def", "expires_in": 3600, "token_type": "Bearer"}


@pytest.mark.parametrize(
    ("status", "media_type", "body", "valid"),
    [
        (200, "application/json", GOOD_TOKEN, True),
        (200, "application/json", {**GOOD_TOKEN, "token_type": "bearer", "scope": "x"}, True),
        (200, "application/json", {**GOOD_TOKEN, "expires_in": 0}, False),
        (200, "application/json", {**GOOD_TOKEN, "expires_in": "3600"}, False),
        (200, "application/json", {**GOOD_TOKEN, "access_token": "has space"}, False),
        (200, "application/json", {**GOOD_TOKEN, "token_type": "MAC"}, False),
        (400, "application/json", {"error": "invalid_scope"}, True),
        (400, "application/json", {"error": "invalid_scope", "error_description": 'a "quote"'}, False),
        (401, "application/json", {"error": "not_a_code"}, False),
        (429, "application/problem+json", {"title": "Too Many Requests", "status": 429}, True),
        (429, "application/problem+json", {"status": 429}, False),
    ],
    ids=lambda v: str(v)[:40],
)
def test_answer_schemas(status: int, media_type: str, body: Any, valid: bool) -> None:
    validator = contract.token_validator(status, media_type)
    assert validator is not None
    assert validator.is_valid(body) is valid


def test_undocumented_answers_have_no_validator() -> None:
    assert contract.token_validator(500, "application/json") is None
    assert contract.token_validator(200, "text/html") is None
    assert contract.token_media_types(503) is None


def test_required_headers() -> None:
    assert contract.token_required_headers(200) == ["cache-control"]
    assert contract.token_required_headers(429) == ["retry-after"]
    pattern = contract.token_header_pattern(200, "Cache-Control")
    assert pattern is not None


def test_error_codes_are_rfc_6749s() -> None:
    assert {"invalid_client", "invalid_scope", "invalid_request"} <= set(contract.token_error_codes())
