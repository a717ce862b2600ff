"""``ClientCredentials`` agrees with ``oauth-token.yaml``: it sends what the document accepts and accepts
exactly the token answers the document allows (the client cannot read the YAML, so this test pins the two).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from questionnaire_exports_client.lib import ClientCredentials, TokenError
from questionnaire_exports_client.lib.oauth import MAX_TOKEN_LIFETIME

import contract

GOOD: dict[str, Any] = {"access_token": "tok-abcdef0123", "expires_in": 3600, "token_type": "Bearer"}


def _fetch(answer: httpx.Response, bodies: list[bytes], **kwargs: Any) -> str:
    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return answer

    auth = ClientCredentials(
        "vci_contract",
        "vcs_contract-secret",
        token_url="https://auth.test" + contract.token_path(),
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        max_attempts=1,
        **kwargs,
    )
    request = next(auth.sync_auth_flow(httpx.Request("GET", "https://api.test/v1/x")))
    return str(request.headers["Authorization"])


@pytest.mark.parametrize("scope", [None, "vanta-api.all:read", list(contract.oauth_scopes())], ids=str)
def test_the_request_body_is_a_valid_token_request(scope: Any) -> None:
    bodies: list[bytes] = []
    _fetch(httpx.Response(200, json=GOOD), bodies, scope=scope)
    (body,) = bodies
    errors = [e.message for e in contract.token_request_validator().iter_errors(json.loads(body))]
    assert errors == []


def _answers() -> list[dict[str, Any]]:
    return [
        GOOD,
        {**GOOD, "token_type": "bearer", "scope": "vanta-api.all:read"},
        {**GOOD, "expires_in": 1},
        {**GOOD, "expires_in": 0},
        {**GOOD, "expires_in": MAX_TOKEN_LIFETIME},
        {**GOOD, "expires_in": MAX_TOKEN_LIFETIME + 1},
        {**GOOD, "expires_in": 3600.5},
        {**GOOD, "expires_in": "3600"},
        {**GOOD, "access_token": ""},
        {**GOOD, "access_token": "two words"},
        {**GOOD, "token_type": "MAC"},
        {k: v for k, v in GOOD.items() if k != "token_type"},
    ]


@pytest.mark.parametrize("answer", _answers(), ids=lambda a: json.dumps(a)[:60])
def test_the_helper_accepts_exactly_what_the_document_allows(answer: dict[str, Any]) -> None:
    allowed = contract.token_validator(200, "application/json")
    assert allowed is not None
    try:
        header = _fetch(httpx.Response(200, json=answer), [])
    except TokenError:
        accepted = False
    else:
        accepted = header == f"Bearer {answer['access_token']}"
    assert accepted is allowed.is_valid(answer)


@pytest.mark.parametrize("code", contract.token_error_codes())
def test_every_documented_error_code_reaches_the_token_error(code: str) -> None:
    with pytest.raises(TokenError) as caught:
        _fetch(httpx.Response(400, json={"error": code, "error_description": "no"}), [])
    assert caught.value.error == code
