"""``POST /oauth/token``: every answer as ``oauth-token.yaml`` documents it, one active token per client,
expiry on the injected clock, the per-client rate limit on the injected monotonic clock, tenancy by client."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import contract
from reference_server.app import create_app
from reference_server.clock import ManualClock
from reference_server.config import ServerConfig
from reference_server.seed import SPREADSHEET_QUESTIONNAIRE_ID
from reference_server.testing import ServerHandle, running_server

from .server_test_helpers import EXPORTS, assert_problem, client_for, create, stalled_body_response

CLIENT_A = ("vci_alpha", "vcs_alpha-SECRET-5f1e2d")
CLIENT_B = ("vci_beta", "vcs_beta-SECRET-9a8b7c")
STATIC = "static-token-0a1b2c"
GRANT = contract.token_schema("TokenRequest")["properties"]["grant_type"]["enum"][0]
SCOPES = " ".join(contract.oauth_scopes())
JSON = {"Content-Type": "application/json"}


class Monotonic:
    """An injected monotonic clock for the rate limiter: moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def body_for(client: tuple[str, str] = CLIENT_A, **changes: Any) -> dict[str, Any]:
    """A valid token request for ``client``; a change to ``None`` drops that field."""
    body: dict[str, Any] = {"client_id": client[0], "client_secret": client[1], "scope": SCOPES}
    body["grant_type"] = GRANT
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def documented(response: httpx.Response) -> Any:
    """Fail unless the answer is one ``oauth-token.yaml`` documents (status, media type, headers, body)."""
    assert response.status_code in contract.token_statuses(), response.text
    media_type = response.headers["content-type"].split(";")[0].strip()
    validator = contract.token_validator(response.status_code, media_type)
    assert validator is not None, f"{response.status_code} {media_type} is not documented"
    body = response.json()
    errors = [error.message for error in validator.iter_errors(body)]
    assert not errors, f"{errors} in {body!r}"
    for name in contract.token_required_headers(response.status_code):
        assert name in response.headers, f"{response.status_code} lacks {name}"
        pattern = contract.token_header_pattern(response.status_code, name)
        assert pattern is None or re.search(pattern, response.headers[name]), response.headers[name]
    return body


def mint(server: ServerHandle, client: tuple[str, str] = CLIENT_A) -> str:
    response = httpx.post(server.token_url, json=body_for(client))
    assert response.status_code == 200, response.text
    token: str = documented(response)["access_token"]
    return token


@pytest.fixture(scope="module")
def server() -> Iterator[ServerHandle]:
    """Two OAuth clients and a static token; a rate limit high enough that only its own tests reach it."""
    with running_server(
        tokens=(STATIC,), oauth_clients=(CLIENT_A, CLIENT_B), token_rate_limit="100000/60", in_memory=True
    ) as handle:
        yield handle


@pytest.fixture(scope="module")
def persistent(server: ServerHandle) -> Iterator[httpx.Client]:
    """One keep-alive connection to the token endpoint (a client per example would dominate the run)."""
    with httpx.Client(base_url=server.origin, timeout=10) as http:
        yield http


def test_a_token_answer_follows_the_document_and_the_token_works(server: ServerHandle) -> None:
    response = httpx.post(server.token_url, json=body_for())
    body = documented(response)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store" and response.headers["pragma"] == "no-cache"
    assert body["expires_in"] == 3600 and body["token_type"] == "Bearer"
    assert "scope" not in body  # the scope granted is always the one asked for
    assert len(body["access_token"]) >= 43  # secrets.token_urlsafe(32)
    with client_for(server, body["access_token"]) as http:
        create(http, SPREADSHEET_QUESTIONNAIRE_ID, "csv")
    assert_problem(httpx.post(server.origin + "/v1" + EXPORTS, json={}), 401)


def test_the_token_path_is_the_documents_and_outside_v1(server: ServerHandle) -> None:
    assert server.token_url == server.origin + contract.token_path()
    assert_problem(httpx.post(server.base_url + contract.token_path(), json=body_for()), 404)


def test_scope_is_optional(server: ServerHandle) -> None:
    assert documented(httpx.post(server.token_url, json=body_for(scope=None)))["token_type"] == "Bearer"


_SECRET = CLIENT_A[1]
_CASES: dict[str, tuple[bytes, dict[str, str], int, str]] = {
    "missing-secret": (json.dumps(body_for(client_secret=None)).encode(), JSON, 400, "invalid_request"),
    "missing-grant": (json.dumps(body_for(grant_type=None)).encode(), JSON, 400, "invalid_request"),
    "extra-field": (json.dumps(body_for(extra=_SECRET)).encode(), JSON, 400, "invalid_request"),
    "secret-not-a-string": (json.dumps(body_for(client_secret=12345)).encode(), JSON, 400, "invalid_request"),
    "secret-too-long": (
        json.dumps(body_for(client_secret=_SECRET * 100)).encode(),
        JSON,
        400,
        "invalid_request",
    ),
    "id-not-a-string": (json.dumps(body_for(client_id=[_SECRET])).encode(), JSON, 400, "invalid_request"),
    "empty-scope": (json.dumps(body_for(scope="")).encode(), JSON, 400, "invalid_request"),
    "array": (json.dumps([body_for()]).encode(), JSON, 400, "invalid_request"),
    "empty-body": (b"", JSON, 400, "invalid_request"),
    "not-json": (b"client_id=vci_alpha&client_secret=" + _SECRET.encode(), JSON, 400, "invalid_request"),
    "form-encoded": (
        b"grant_type=client_credentials&client_secret=" + _SECRET.encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
        400,
        "invalid_request",
    ),
    "no-content-type": (json.dumps(body_for()).encode(), {}, 400, "invalid_request"),
    "duplicate-key": (
        b'{"client_id": "vci_alpha", "client_id": "vci_beta", "client_secret": "x", "grant_type": "x"}',
        JSON,
        400,
        "invalid_request",
    ),
    "nan": (b'{"client_id": NaN}', JSON, 400, "invalid_request"),
    "huge-number": (b'{"client_id": 1' + b"0" * 5000 + b"}", JSON, 400, "invalid_request"),
    "float-overflow": (b'{"client_id": 1e999}', JSON, 400, "invalid_request"),
    "deep": (b'{"client_id": ' + b"[" * 40 + b"]" * 40 + b"}", JSON, 400, "invalid_request"),
    "bad-utf8": (b'{"client_id": "\xff"}', JSON, 400, "invalid_request"),
    "lone-surrogate": (b'{"client_id": "\\ud800", "client_secret": "x"}', JSON, 400, "invalid_request"),
    "password-grant": (
        json.dumps(body_for(grant_type="password")).encode(),
        JSON,
        400,
        "unsupported_grant_type",
    ),
    "unknown-scope": (json.dumps(body_for(scope="vanta-api.all:admin")).encode(), JSON, 400, "invalid_scope"),
    "double-space-scope": (
        json.dumps(body_for(scope=SCOPES.replace(" ", "  "))).encode(),
        JSON,
        400,
        "invalid_scope",
    ),
    "wrong-secret": (json.dumps(body_for(client_secret=_SECRET + "x")).encode(), JSON, 401, "invalid_client"),
    "unknown-id": (json.dumps(body_for(client_id="vci_nobody")).encode(), JSON, 401, "invalid_client"),
    "other-clients-secret": (
        json.dumps(body_for(client_secret=CLIENT_B[1])).encode(),
        JSON,
        401,
        "invalid_client",
    ),
}


@pytest.mark.parametrize(("raw", "headers", "status", "code"), list(_CASES.values()), ids=list(_CASES))
def test_each_refusal_is_the_documented_rfc6749_error(
    server: ServerHandle, raw: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    response = httpx.post(server.token_url, content=raw, headers=headers)
    body = documented(response)
    assert (response.status_code, body["error"]) == (status, code), body
    assert response.headers["cache-control"] == "no-store"
    for secret in (_SECRET, CLIENT_B[1]):
        assert secret not in response.text  # neither echoed nor quoted in error_description


def test_the_cases_cover_every_code_the_server_can_answer() -> None:
    """The server answers four of the document's codes; the rest are the vendor's (no case can reach them)."""
    answered = {code for *_, code in _CASES.values()}
    assert answered == {"invalid_request", "invalid_client", "invalid_scope", "unsupported_grant_type"}
    assert answered <= set(contract.token_error_codes())


def test_a_body_over_the_limit_is_a_413_problem(server: ServerHandle) -> None:
    raw = json.dumps(body_for(scope="x" * (64 * 1024))).encode()
    response = httpx.post(server.token_url, content=raw, headers=JSON)
    documented(response)
    assert_problem(response, 413)


def test_a_body_that_never_arrives_is_invalid_request_not_an_undocumented_408() -> None:
    app = create_app(ServerConfig(oauth_clients=(CLIENT_A,), in_memory=True, body_timeout=0.05))
    response = stalled_body_response(app, contract.token_path(), {})
    assert documented(response)["error"] == "invalid_request"
    assert "did not arrive" in response.json()["error_description"]


def test_other_methods_are_405_problems(server: ServerHandle) -> None:
    response = httpx.get(server.token_url)
    assert assert_problem(response, 405) and response.headers["allow"] == "POST"


def test_without_oauth_clients_there_is_no_token_endpoint() -> None:
    with running_server(tokens=("t",), in_memory=True) as server:
        assert_problem(httpx.post(server.token_url, json=body_for()), 404)


def test_a_new_token_revokes_the_previous_one_at_once(server: ServerHandle) -> None:
    first = mint(server, CLIENT_B)
    with client_for(server, first) as http:
        assert http.get(f"{EXPORTS}/ffffffffffffffffffffffff").status_code == 404  # authenticated
        second = mint(server, CLIENT_B)
        refused = http.get(f"{EXPORTS}/ffffffffffffffffffffffff")
    assert_problem(refused, 401)
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    with client_for(server, second) as http:
        assert http.get(f"{EXPORTS}/ffffffffffffffffffffffff").status_code == 404
    assert server.runtime.oauth.issued[CLIENT_B[0]] >= 2


def test_a_token_expires_after_its_lifetime_on_the_injected_clock() -> None:
    clock = ManualClock()
    with running_server(
        tokens=(), oauth_clients=(CLIENT_A,), token_lifetime=10, clock=clock, in_memory=True
    ) as server:
        response = httpx.post(server.token_url, json=body_for())
        assert documented(response)["expires_in"] == 10
        with client_for(server, response.json()["access_token"]) as http:
            export_id = create(http, SPREADSHEET_QUESTIONNAIRE_ID, "csv")["id"]
            clock.advance(9.999)
            assert http.get(f"{EXPORTS}/{export_id}").status_code == 200
            clock.advance(0.001)
            expired = http.get(f"{EXPORTS}/{export_id}")
        assert_problem(expired, 401)
        assert expired.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        with client_for(server, mint(server)) as http:  # the next token sees the same export
            assert http.get(f"{EXPORTS}/{export_id}").status_code == 200


def test_tenancy_is_by_client(server: ServerHandle) -> None:
    with client_for(server, mint(server, CLIENT_A)) as a:
        export_id = create(a, SPREADSHEET_QUESTIONNAIRE_ID, "csv")["id"]
    with client_for(server, mint(server, CLIENT_B)) as b, client_for(server, STATIC) as static:
        assert_problem(b.get(f"{EXPORTS}/{export_id}"), 404)
        assert_problem(static.get(f"{EXPORTS}/{export_id}"), 404)
        static_id = create(static, SPREADSHEET_QUESTIONNAIRE_ID, "csv")["id"]
        assert static.get(f"{EXPORTS}/{static_id}").status_code == 200  # the static token still works
    with client_for(server, mint(server, CLIENT_A)) as a_again:
        assert a_again.get(f"{EXPORTS}/{export_id}").status_code == 200
        assert_problem(a_again.get(f"{EXPORTS}/{static_id}"), 404)


def test_five_token_requests_a_minute_per_client_then_429_with_retry_after() -> None:
    monotonic = Monotonic()
    with running_server(
        tokens=(), oauth_clients=(CLIENT_A, CLIENT_B), monotonic=monotonic, in_memory=True
    ) as server:

        def ask(client: tuple[str, str] = CLIENT_A, **changes: Any) -> httpx.Response:
            return httpx.post(server.token_url, json=body_for(client, **changes))

        statuses = [ask().status_code for _ in range(3)]
        statuses += [ask(client_secret="wrong").status_code, ask(grant_type="password").status_code]
        assert statuses == [200, 200, 200, 401, 400]  # a wrong secret and a bad body count too
        monotonic.now += 20
        limited = ask()
        documented(limited)
        assert_problem(limited, 429)
        assert limited.headers["retry-after"] == "40"
        assert ask(CLIENT_B).status_code == 200  # per client
        monotonic.now += 39.5
        assert ask().headers["retry-after"] == "1"  # whole seconds, at least 1
        monotonic.now += 0.5
        assert ask().status_code == 200  # the window has passed


def test_unknown_client_ids_share_one_bucket() -> None:
    monotonic = Monotonic()
    with running_server(
        tokens=(), oauth_clients=(CLIENT_A,), token_rate_limit="2/60", monotonic=monotonic, in_memory=True
    ) as server:
        answers = [httpx.post(server.token_url, json=body_for(client_id=f"vci_{n}")) for n in range(4)]
        assert [a.status_code for a in answers] == [401, 401, 429, 429]  # ids never seen before: limited
        assert httpx.post(server.token_url, json=body_for()).status_code == 200  # a known id: its own


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_fields = list(contract.token_schema("TokenRequest")["properties"])
_field_values = st.one_of(
    _json_values, st.sampled_from([CLIENT_A[0], CLIENT_A[1], GRANT, SCOPES, "", " ", CLIENT_B[1]])
)
_documents = (
    st.dictionaries(st.one_of(st.sampled_from(_fields), st.text(max_size=8)), _field_values, max_size=6)
    | _json_values
)
_bodies = st.one_of(
    _documents.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=64),
    st.tuples(_documents.map(lambda v: json.dumps(v).encode()), st.binary(max_size=4)).map(
        lambda p: p[0] + p[1]
    ),
)


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=_bodies,
    content_type=st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain"]),
)
def test_any_body_gets_a_documented_answer_never_5xx(
    persistent: httpx.Client, raw: bytes, content_type: str
) -> None:
    response = persistent.post(contract.token_path(), content=raw, headers={"Content-Type": content_type})
    documented(response)
    assert CLIENT_A[1] not in response.text and CLIENT_B[1] not in response.text
