"""Bearer tokens, webhook secrets and link signatures never reach a log line or an error message."""

from __future__ import annotations

import base64
import logging
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from reference_server.__main__ import build_config, build_parser, main
from reference_server.config import ServerConfig
from reference_server.seed import SPREADSHEET_QUESTIONNAIRE_ID
from reference_server.testing import running_server

from .server_test_helpers import EXPORTS, client_for, create, run_cli, wait_until_done

TOKEN = "tok-SECRET-0f9a8b7c6d5e"
OTHER_TOKEN = "tok-SECRET-other-1a2b3c"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"webhook-key-SECRET-0123456789ab").decode()


def test_access_log_has_no_tokens_or_signatures(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with running_server(
        tokens=(TOKEN, OTHER_TOKEN), webhook_url="http://127.0.0.1:9/hook", webhook_secret=WEBHOOK_SECRET
    ) as server:
        with client_for(server, TOKEN) as http:
            done = wait_until_done(http, create(http, SPREADSHEET_QUESTIONNAIRE_ID, "csv")["id"]).json()
            http.get(f"{EXPORTS}/unknown", headers={"Authorization": f"Bearer {OTHER_TOKEN}x"})
        link = done["downloadUrl"]
        signature = parse_qs(urlsplit(link).query)["signature"][0]
        assert httpx.get(link).status_code == 200
        assert httpx.get(link.replace("signature=", "signature=X")).status_code == 403
        assert httpx.get(f"{link}&token={TOKEN}").status_code == 200
    # Only the server's own loggers count: the test's httpx client logs the URLs it requests.
    server_records = [r for r in caplog.records if r.name.startswith(("reference_server", "uvicorn"))]
    text = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in server_records)
    assert any(r.name == "reference_server.webhooks" for r in server_records)
    access = [r for r in caplog.records if r.name == "reference_server.access"]
    assert len(access) >= 5  # the log really recorded the requests checked below
    assert any("/files/" in r.getMessage() and "REDACTED" in r.getMessage() for r in access)
    for secret in (TOKEN, OTHER_TOKEN, signature, WEBHOOK_SECRET, WEBHOOK_SECRET.removeprefix("whsec_")):
        assert secret not in text


def test_config_repr_and_errors_hide_secrets() -> None:
    config = ServerConfig(tokens=(TOKEN,), webhook_url="http://127.0.0.1:9/", webhook_secret=WEBHOOK_SECRET)
    assert TOKEN not in repr(config) and WEBHOOK_SECRET not in repr(config)
    bad = "whsec_not*base64*SECRET"
    with pytest.raises(ValueError) as excinfo:
        ServerConfig(tokens=(TOKEN,), webhook_url="http://127.0.0.1:9/", webhook_secret=bad)
    assert "SECRET" not in str(excinfo.value)


def test_cli_errors_do_not_echo_secrets() -> None:
    bad = "whsec_SECRET*not*base64"
    result = run_cli(["--token", TOKEN, "--webhook-url", "http://127.0.0.1:9/", "--webhook-secret", bad])
    assert result.returncode == 2
    assert "webhook secret" in result.stderr
    # The secret's own text, not the bare word: the usage line shows ``--oauth-client ID:SECRET``.
    assert "SECRET*" not in result.stderr + result.stdout


CLIENT_ID = "vci_logged"
CLIENT_SECRET = "vcs_SECRET-client-77e1d2c3"


def test_oauth_secrets_and_tokens_never_reach_a_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "client_credentials"}
    with running_server(
        tokens=(), oauth_clients=((CLIENT_ID, CLIENT_SECRET),), token_rate_limit="3/60"
    ) as server:
        first = httpx.post(server.token_url, json=body).json()["access_token"]
        in_query = httpx.post(f"{server.token_url}?client_secret={CLIENT_SECRET}", json=body)
        token = in_query.json()["access_token"]  # revokes ``first``
        assert httpx.post(server.token_url, json={**body, "extra": CLIENT_SECRET}).status_code == 400
        assert httpx.post(server.token_url, json=body).status_code == 429
        with client_for(server, token) as http:
            assert http.get(f"{EXPORTS}/unknown").status_code == 404
        with client_for(server, first) as http:  # revoked
            assert http.get(f"{EXPORTS}/unknown").status_code == 401
    server_records = [r for r in caplog.records if r.name.startswith(("reference_server", "uvicorn"))]
    access = [r.getMessage() for r in server_records if r.name == "reference_server.access"]
    assert sum("/oauth/token" in line for line in access) == 4  # the log really saw the token requests
    assert any("client_secret=REDACTED" in line for line in access)
    text = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in server_records)
    for secret in (CLIENT_SECRET, first, token):
        assert secret not in text


def test_oauth_config_repr_and_errors_hide_secrets() -> None:
    config = ServerConfig(oauth_clients=((CLIENT_ID, CLIENT_SECRET),))
    assert CLIENT_SECRET not in repr(config)
    for bad in (
        (CLIENT_ID, CLIENT_SECRET + " x"),
        (CLIENT_ID, CLIENT_SECRET + "\u00e9"),
        ("", CLIENT_SECRET),
    ):
        with pytest.raises(ValueError) as excinfo:
            ServerConfig(oauth_clients=(bad,))
        assert "SECRET" not in str(excinfo.value)


def test_cli_oauth_errors_do_not_echo_secrets() -> None:
    result = run_cli(["--oauth-client", CLIENT_SECRET])  # no colon: maybe a secret without its id
    assert result.returncode == 2 and "OAuth client #1" in result.stderr
    assert "SECRET-client" not in result.stderr + result.stdout
    for args in (
        ["--oauth-client", f"{CLIENT_ID}:{CLIENT_SECRET} with space"],
        ["--oauth-client", f"{CLIENT_ID}:{CLIENT_SECRET}", "--oauth-client", f"{CLIENT_ID}:{CLIENT_SECRET}"],
    ):
        with pytest.raises(ValueError, match="OAuth client #") as excinfo:  # what main would print
            build_config(build_parser().parse_args(args), {})
        assert "SECRET-client" not in str(excinfo.value)


@pytest.mark.parametrize(
    "argv",
    [
        ["--oauth-clint", f"{CLIENT_ID}:{CLIENT_SECRET}"],  # a mistyped option: its value is left over
        [f"{CLIENT_ID}:{CLIENT_SECRET}"],
        ["--oauth-client", f"{CLIENT_ID}:vcs_x", "SECRET-client-rest"],  # the rest of a secret with a space
        [f"--tokn={CLIENT_SECRET}"],
        [f"--to={CLIENT_SECRET}"],  # ambiguous: --token, --token-lifetime, --token-rate-limit
    ],
    ids=["mistyped-option", "positional", "secret-with-space", "unknown-option-equals", "ambiguous-equals"],
)
def test_argparse_errors_do_not_quote_arguments(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("error:") == 1
    assert "SECRET-client" not in err
    assert "unrecognized arguments" in err or "ambiguous option: --to could match" in err
