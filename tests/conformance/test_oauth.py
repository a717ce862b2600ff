"""`conformance run` with client credentials against a fake token endpoint: the up-front line, redaction,
token answers judged by `oauth-token.yaml`, every reason it cannot mint (exit 2, bounded), the new checks."""

from __future__ import annotations

import io
import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import run_cli

from .fake_api import FAILING_QUESTIONNAIRE, OK_QUESTIONNAIRE
from .fake_token import CLIENT_ID, CLIENT_SECRET, RunningTokens, TokenConfig, running_tokens
from .hostile import hostile_server

ENV = {"CONFORMANCE_CLIENT_ID": CLIENT_ID, "CONFORMANCE_CLIENT_SECRET": CLIENT_SECRET}


@pytest.fixture(scope="module")
def shared() -> Iterator[RunningTokens]:
    with running_tokens() as server:
        yield server


@pytest.fixture
def tokens(shared: RunningTokens) -> RunningTokens:
    return shared.reset()


class _Out(io.StringIO):
    """Stdout that remembers how many token requests the fake had seen when the up-front line came."""

    def __init__(self, server: RunningTokens | None) -> None:
        super().__init__()
        self.server = server
        self.requests_at_line: int | None = None

    def write(self, text: str) -> int:
        if "oauth: minting" in text and self.server is not None and self.requests_at_line is None:
            self.requests_at_line = self.server.state.requests
        return super().write(text)


def _run(
    server: RunningTokens | None, tmp: Path, *extra: str, env: dict[str, str] | None = None, base: str = ""
) -> tuple[int, str, dict[str, Any], list[str], _Out]:
    paths = [tmp / "r.json", tmp / "j.xml", tmp / "r.html"]
    argv = [
        "run", "--base-url", base or (server.base_url if server else ""), "--questionnaire-id", OK_QUESTIONNAIRE,
        "--failing-questionnaire-id", FAILING_QUESTIONNAIRE, "--poll-timeout", "2", "--no-schemathesis",
        "--report-json", str(paths[0]), "--junit", str(paths[1]), "--report-html", str(paths[2]), *extra,
    ]  # fmt: skip
    out = _Out(server)
    code = run_cli(argv, env=ENV if env is None else env, out=out)
    files = [p.read_text() for p in paths if p.exists()]
    report = json.loads(files[0]) if files else {}
    return code, out.getvalue(), report, files, out


def _outcomes(report: dict[str, Any]) -> dict[str, str]:
    return {rule["id"]: rule["outcome"] for rule in report["rules"]}


def _no_secret(outputs: list[str], *secrets: str) -> None:
    for text in outputs:
        for secret in (CLIENT_SECRET, *secrets):
            assert secret not in text
        assert not re.search(r"minted-(?!REDACTED)", text)  # any spelling of the fake's tokens


def _exit_2(code: int, output: str, files: list[str]) -> str:
    assert code == 2, output
    assert "Traceback" not in output
    last = output.strip().splitlines()[-1]
    assert last.startswith("conformance: "), output
    assert len(files) == 3 and json.loads(files[0])["error"] in last
    return last


def test_mints_its_own_token_says_so_first_and_shows_neither_secret_nor_token(
    tokens: RunningTokens, tmp_path: Path
) -> None:
    code, output, report, files, out = _run(tokens, tmp_path, "--profile", "quick")
    assert code == 0, output
    line = next(line for line in output.splitlines() if "oauth: minting" in line)
    assert f"client {CLIENT_ID} at {tokens.token_url}" in line
    assert "revokes every other token of this application" in line and "dedicated application" in line
    assert out.requests_at_line == 0  # said before the first token request
    assert set(_outcomes(report).values()) == {"passed"}
    assert tokens.state.requests == 2  # the run's token and the wrong-secret check: within 4
    assert [body.get("client_id") for body in tokens.state.bodies] == [CLIENT_ID, CLIENT_ID]
    assert all("scope" not in body for body in tokens.state.bodies)  # no --scope: none sent
    assert any(
        "expired-token check not exercised: tokens last 3600 s, longer than" in n for n in report["notes"]
    )
    _no_secret([output, *files], *tokens.state.expiry)


def test_scope_is_sent_and_the_token_variable_ignored(tokens: RunningTokens, tmp_path: Path) -> None:
    env = {**ENV, "CONFORMANCE_TOKEN": "static-token-never-used-1234"}
    code, output, *_ = _run(tokens, tmp_path, "--scope", "vanta-api.all:read", env=env)
    assert code == 0, output
    assert "CONFORMANCE_TOKEN is ignored" in output
    assert tokens.state.bodies[0]["scope"] == "vanta-api.all:read"


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"CONFORMANCE_CLIENT_ID": CLIENT_ID}, "CONFORMANCE_CLIENT_SECRET"),
        ({"CONFORMANCE_CLIENT_SECRET": CLIENT_SECRET}, "CONFORMANCE_CLIENT_ID"),
        ({"MY_ID": CLIENT_ID, "CONFORMANCE_CLIENT_SECRET": CLIENT_SECRET}, "MY_SECRET"),
    ],
)
def test_one_variable_of_the_pair_is_bad_usage(env: dict[str, str], missing: str, tmp_path: Path) -> None:
    extra = ("--client-id-env", "MY_ID", "--client-secret-env", "MY_SECRET") if "MY_ID" in env else ()
    code, output, _, files, _ = _run(None, tmp_path, *extra, env=env, base="http://127.0.0.1:9/v1")
    last = _exit_2(code, output, files)
    assert f"set {missing} too" in last
    _no_secret([output, *files])


def test_credentials_that_do_not_fit_the_token_request_are_bad_usage(tmp_path: Path) -> None:
    env = {**ENV, "CONFORMANCE_CLIENT_ID": "x" * 300}
    code, output, _, files, _ = _run(None, tmp_path, env=env, base="http://127.0.0.1:9/v1")
    last = _exit_2(code, output, files)
    assert "CONFORMANCE_CLIENT_ID does not fit oauth-token.yaml's token request (maxLength)" in last


@pytest.mark.parametrize(
    ("url", "expected"),
    [("ftp://127.0.0.1/oauth/token", "http(s)"), ("http://auth.example.com/oauth/token", "https")],
)
def test_token_url_must_be_https_off_loopback(url: str, expected: str, tmp_path: Path) -> None:
    code, output, _, files, _ = _run(None, tmp_path, "--token-url", url, base="http://127.0.0.1:9/v1")
    assert expected in _exit_2(code, output, files)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        pytest.param(
            "invalid_client",
            "the token endpoint refused the client credentials (401 invalid_client): check "
            "CONFORMANCE_CLIENT_ID/SECRET",
            id="invalid_client",
        ),
        pytest.param(
            "invalid_scope",
            "the token endpoint refused the token request (400 invalid_scope): check --scope",
            id="invalid_scope",
        ),
        pytest.param(
            "html", "does not look like a token endpoint (got 200 text/html): check --token-url", id="html"
        ),
        pytest.param(
            "redirect", "the token URL redirected (302; not followed): check --token-url", id="redirect"
        ),
        pytest.param("echo_secret", "refused the client credentials (401 invalid_client)", id="echo_secret"),
        pytest.param("spaced_token", "answered 200 without a usable access_token", id="spaced_token"),
        pytest.param("control_token", "answered 200 without a usable access_token", id="control_token"),
    ],
)
def test_cannot_mint_exits_2_with_one_line(
    shared: RunningTokens, mode: str, expected: str, tmp_path: Path
) -> None:
    server = shared.reset(TokenConfig(mode=mode))
    posts = server.api.posts
    code, output, _, files, _ = _run(server, tmp_path)
    assert server.state.requests == 1  # one token request, nothing sent to the API
    assert server.api.posts == posts
    assert expected in _exit_2(code, output, files)
    _no_secret([output, *files])


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_refused_token_url_names_kind_and_host(tmp_path: Path) -> None:
    port = _closed_port()
    url = f"http://127.0.0.1:{port}/oauth/token"
    code, output, _, files, _ = _run(None, tmp_path, "--token-url", url, base="http://127.0.0.1:9/v1")
    assert f"connection refused by 127.0.0.1:{port}" in _exit_2(code, output, files)


@pytest.mark.parametrize("mode", ["trickle_headers", "endless_body", "trickle_body"])
def test_hostile_token_endpoint_is_exit_2_within_the_request_timeout(mode: str, tmp_path: Path) -> None:
    with hostile_server(mode) as server:
        url = server.base_url.removesuffix("/v1") + "/oauth/token"
        started = time.monotonic()
        extra = ("--token-url", url, "--request-timeout", "0.5")
        code, output, _, files, _ = _run(None, tmp_path, *extra, base="http://127.0.0.1:9/v1")
        assert time.monotonic() - started < 5  # a bound on behaviour: ten times the request timeout
        assert server.received() == 1
    last = _exit_2(code, output, files)
    assert "token" in last
    _no_secret([output, *files])


_BROKEN_ANSWERS = {
    "no_cache_control": "token endpoint 200: missing the required header cache-control",
    "expires_in_zero": "token endpoint 200: field expires_in: 0 is less than the minimum of 1",
    "expires_in_string": "token endpoint 200: field expires_in: '3600' is not of type 'integer'",
    "token_type_mac": "token endpoint 200: field token_type: 'MAC' does not match",
    "wrong_secret_403": "token endpoint 403: a status oauth-token.yaml does not document",
    "wrong_secret_accepted": "a token request with a wrong client secret answered 200",
}


@pytest.mark.parametrize("mode", list(_BROKEN_ANSWERS))
def test_token_answers_that_break_the_document_are_errors_auth_findings(
    shared: RunningTokens, mode: str, tmp_path: Path
) -> None:
    server = shared.reset(TokenConfig(mode=mode))
    message = _BROKEN_ANSWERS[mode]
    code, output, report, files, _ = _run(server, tmp_path)
    assert server.state.requests <= 4
    assert code == 1, output
    assert {rule for rule, outcome in _outcomes(report).items() if outcome == "failed"} == {"errors-auth"}
    found = [f for f in report["findings"] if f["operation"] == "POST /oauth/token"]
    assert any(message in f["message"] for f in found), found
    assert all(f["rule"] == "errors-auth" for f in found)
    _no_secret([output, *files], *server.state.expiry)


def test_a_429_beyond_the_deadline_is_exit_2(shared: RunningTokens, tmp_path: Path) -> None:
    server = shared.reset(TokenConfig(rate_limited=10, retry_after="3600"))
    code, output, _, files, _ = _run(server, tmp_path, "--deadline", "60")
    assert server.state.requests == 1  # not waited: the deadline would pass first
    last = _exit_2(code, output, files)
    assert (
        "kept answering 429 (rate limited, Retry-After 3600 s)" in last
        and "5 token requests a minute" in last
    )


@pytest.mark.parametrize("revokes", [True, False], ids=["revokes", "does-not-revoke"])
def test_check_revocation(shared: RunningTokens, revokes: bool, tmp_path: Path) -> None:
    server = shared.reset(TokenConfig(revokes=revokes))
    code, output, report, *_ = _run(server, tmp_path, "--check-revocation")
    assert server.state.requests == 3
    assert "--check-revocation mints one more token" in output
    messages = [f["message"] for f in report["findings"]]
    if revokes:
        assert code == 0, output
        assert messages == []
    else:
        assert code == 1, output
        assert messages == ["GET with a superseded token (a newer one was minted) answered 404, expected 401"]
