"""Bearer tokens, webhook secrets and link signatures never reach a log line or an error message."""

from __future__ import annotations

import base64
import logging
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from reference_server.config import ServerConfig
from reference_server.seed import SPREADSHEET_QUESTIONNAIRE_ID
from reference_server.testing import running_server

from .server_test_helpers import EXPORTS, client_for, create, wait_until_done

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
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "reference_server",
            "--port",
            "0",
            "--token",
            TOKEN,
            "--webhook-url",
            "http://127.0.0.1:9/",
            "--webhook-secret",
            bad,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "webhook secret" in result.stderr
    # The secret's own text, not the bare word: the usage line shows ``--oauth-client ID:SECRET``.
    assert "SECRET*" not in result.stderr + result.stdout
