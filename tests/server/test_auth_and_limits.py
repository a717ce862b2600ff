"""Authentication, tenancy and rate limiting."""

from __future__ import annotations

import httpx
import pytest

from reference_server.seed import SPREADSHEET_QUESTIONNAIRE_ID
from reference_server.testing import ServerHandle, running_server

from .server_test_helpers import EXPORTS, assert_problem, client_for, create

BODY = {"questionnaireId": SPREADSHEET_QUESTIONNAIRE_ID, "format": "csv"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dGVuYW50LWEtdG9rZW46"},
        {"Authorization": "tenant-a-token"},
        {"Authorization": "Bearer tenant-a-token-with-suffix"},
    ],
    ids=["missing", "wrong", "empty", "basic-scheme", "no-scheme", "prefix-of-valid"],
)
def test_bad_credentials_answer_401(server: ServerHandle, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=server.base_url, headers=headers) as http:
        for response in (http.post(EXPORTS, json=BODY), http.get(f"{EXPORTS}/507f1f77bcf86cd799439011")):
            assert_problem(response, 401)
            # RFC 6750 section 3.1: a token that was sent and refused is named invalid_token.
            presented = headers.get("Authorization", "").lower().startswith("bearer ")
            challenge = 'Bearer error="invalid_token"' if presented else "Bearer"
            assert response.headers["www-authenticate"] == challenge
            sent = headers.get("Authorization", "").partition(" ")[2]
            assert not sent or sent not in response.text  # the credential is never echoed


def test_scheme_is_case_insensitive(server: ServerHandle) -> None:
    with httpx.Client(base_url=server.base_url, headers={"Authorization": "bearer tenant-a-token"}) as http:
        assert http.post(EXPORTS, json=BODY).status_code == 202


def test_another_tenants_export_answers_exactly_like_an_unknown_id(server: ServerHandle) -> None:
    with client_for(server, "tenant-a-token") as a, client_for(server, "tenant-b-token") as b:
        export_id = create(a, SPREADSHEET_QUESTIONNAIRE_ID, "csv")["id"]
        assert a.get(f"{EXPORTS}/{export_id}").status_code == 200
        foreign = b.get(f"{EXPORTS}/{export_id}")
        unknown = b.get(f"{EXPORTS}/ffffffffffffffffffffffff")
        assert_problem(foreign, 404)
        assert foreign.json() == assert_problem(unknown, 404)
        assert foreign.headers["content-type"] == unknown.headers["content-type"]
        # Tenant B's own exports are visible to B only.
        own = create(b, SPREADSHEET_QUESTIONNAIRE_ID, "original")["id"]
        assert b.get(f"{EXPORTS}/{own}").status_code == 200
        assert_problem(a.get(f"{EXPORTS}/{own}"), 404)


def test_rate_limit_per_token_with_retry_after() -> None:
    with (
        running_server(tokens=("one", "two"), rate_limit="3/60") as server,
        client_for(server, "one") as one,
        client_for(server, "two") as two,
    ):
        for _ in range(3):
            assert one.get(f"{EXPORTS}/unknown").status_code == 404
        limited = one.post(EXPORTS, json=BODY)
        body = assert_problem(limited, 429)
        retry_after = limited.headers["retry-after"]
        assert retry_after.isdigit() and 1 <= int(retry_after) <= 60
        assert retry_after in body["detail"]
        # Another token has its own budget; unauthenticated calls are refused before counting.
        assert two.get(f"{EXPORTS}/unknown").status_code == 404
        assert_problem(httpx.get(f"{server.base_url}{EXPORTS}/unknown"), 401)


class FakeMonotonic:
    """Seconds that move only when the test says so (the limiter's injected clock)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_window_resets() -> None:
    clock = FakeMonotonic()
    with running_server(rate_limit="2/30", monotonic=clock) as server, client_for(server) as http:
        statuses = [http.get(f"{EXPORTS}/x").status_code for _ in range(3)]
        assert statuses == [404, 404, 429]
        clock.now += 29.5  # still inside the window: still limited, and told to wait the rest of it
        limited = http.get(f"{EXPORTS}/x")
        assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
        clock.now += 0.5  # the window is over: a fresh budget
        assert [http.get(f"{EXPORTS}/x").status_code for _ in range(3)] == [404, 404, 429]
