"""``python -m reference_server``: the one stdout line, tokens from the environment, graceful stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reference_server.__main__ import build_config, build_parser
from reference_server.config import default_db_path
from reference_server.seed import SPREADSHEET_QUESTIONNAIRE_ID

from .server_test_helpers import EXPORTS, assert_valid, run_cli

LINE = re.compile(r"^listening on (http://127\.0\.0\.1:(\d+)/v1)\n$")


def _start(args: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "reference_server", "--host", "127.0.0.1", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # the server prints it once it accepts connections
    match = LINE.match(line)
    if match is None:
        proc.kill()
        pytest.fail(f"unexpected first line {line!r}; stderr: {proc.communicate(timeout=10)[1]}")
    return proc, match.group(1)


@pytest.fixture
def stop() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_serves_the_api_and_stops_gracefully(tmp_path: Path, stop: list[subprocess.Popen[str]]) -> None:
    db = tmp_path / "cli.sqlite3"
    proc, base_url = _start(
        ["--db", str(db), "--export-delay", "0"], env={"REFERENCE_SERVER_TOKENS": "env-a, env-b"}
    )
    stop.append(proc)
    for token in ("env-a", "env-b"):
        response = httpx.post(
            f"{base_url}{EXPORTS}",
            json={"questionnaireId": SPREADSHEET_QUESTIONNAIRE_ID, "format": "csv"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 202
        assert_valid(response.json(), "ExportPending")
    assert httpx.get(f"{base_url}{EXPORTS}/x", headers={"Authorization": "Bearer nope"}).status_code == 401
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status reports it.
    assert proc.returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in err
    assert out == ""  # nothing after the one line
    assert "env-a" not in err and "env-b" not in err
    assert '"status": 202' in err  # the structured access log goes to stderr
    assert db.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "token"),
        (["--token", "t", "--rate-limit", "lots"], "rate limit"),
        (["--token", "t", "--webhook-url", "http://127.0.0.1:9/"], "webhook"),
        (["--token", "t", "--export-delay", "-1"], "delay"),
        (["--token", "t", "--public-url", "javascript:alert(1)//"], "public URL"),
        (["--token", "t", "--forwarded-allow-ips", "10.0.0.1,proxy"], "forwarded-allow-ips"),
        (["--token", "t", "--header-timeout", "0"], "timeout"),
    ],
)
def test_bad_arguments_exit_2(args: list[str], message: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "REFERENCE_SERVER_TOKENS"}
    result = run_cli(args, env)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--oauth-client", "vci_x:s", "--token-lifetime", "0"], "token lifetime"),
        (["--oauth-client", "vci_x:s", "--token-lifetime", "86401"], "token lifetime"),
        (["--oauth-client", "vci_x:s", "--token-rate-limit", "5"], "rate limit"),
        (["--oauth-client", "vci_x:"], "OAuth client #1"),
        (["--oauth-client", ":s"], "OAuth client #1"),
        (
            ["--oauth-client", "vci_x:s", "--oauth-client", "vci_y"],
            "OAuth client #2 must look like ID:SECRET",
        ),
    ],
)
def test_bad_oauth_arguments_are_refused(args: list[str], message: str) -> None:
    """In process: ``main`` turns this ``ValueError`` into exit 2 (``test_secrets_never_logged`` runs one)."""
    with pytest.raises(ValueError, match=message):
        build_config(build_parser().parse_args(args), {})


def test_the_default_database_is_per_user_and_named_at_startup(
    tmp_path: Path, stop: list[subprocess.Popen[str]]
) -> None:
    state = tmp_path / "state"
    (tmp_path / "tmp").mkdir()
    env = {"XDG_STATE_HOME": str(state), "TMPDIR": str(tmp_path / "tmp")}
    proc, base_url = _start(["--token", "t", "--export-delay", "60"], env=env)
    stop.append(proc)
    expected = state / "questionnaire-exports" / "exports.sqlite3"
    response = httpx.post(
        f"{base_url}{EXPORTS}",
        json={"questionnaireId": SPREADSHEET_QUESTIONNAIRE_ID, "format": "csv"},
        headers={"Authorization": "Bearer t"},
    )
    assert response.status_code == 202
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert f"database {expected}: resumed 0 pending export(s)" in err
    assert expected.exists()
    assert list((tmp_path / "tmp").iterdir()) == []  # nothing in the (shared) temporary folder

    again, _ = _start(["--token", "t", "--export-delay", "60"], env=env)
    stop.append(again)
    again.send_signal(signal.SIGTERM)
    _, err = again.communicate(timeout=20)
    assert f"database {expected}: resumed 1 pending export(s)" in err  # the job left pending above


def test_default_db_path_follows_xdg_rules(tmp_path: Path) -> None:
    assert default_db_path({"XDG_STATE_HOME": str(tmp_path), "HOME": "/h"}) == (
        tmp_path / "questionnaire-exports" / "exports.sqlite3"
    )
    for state_home in ("", "relative/dir"):
        assert default_db_path({"XDG_STATE_HOME": state_home, "HOME": str(tmp_path)}) == (
            tmp_path / ".local" / "state" / "questionnaire-exports" / "exports.sqlite3"
        )


def test_make_serve_passes_serve_args_through() -> None:
    dry_run = subprocess.run(
        [
            "make",
            "-n",
            "--no-print-directory",
            "serve",
            "SERVE_ARGS=--export-delay 0.5 --public-url https://x.example",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
        env={k: v for k, v in os.environ.items() if not k.startswith("MAKE")},  # also when run by make
    )
    [command] = [line for line in dry_run.stdout.splitlines() if "-m reference_server" in line]
    assert command.endswith("--export-delay 0.5 --public-url https://x.example"), command


def test_oauth_clients_without_a_static_token(stop: list[subprocess.Popen[str]]) -> None:
    """``--oauth-client`` alone: the stderr ``auth:`` line names the modes and the token URL, no secret."""
    secret = "vcs_cli:with:colons-SECRET"  # split at the first colon only
    env = {"REFERENCE_SERVER_OAUTH_CLIENTS": "vci_env:vcs_env-SECRET"}
    proc, base_url = _start(
        ["--in-memory", "--oauth-client", f"vci_cli:{secret}", "--token-lifetime", "120"], env=env
    )
    stop.append(proc)
    token_url = base_url.removesuffix("/v1") + "/oauth/token"
    tokens = []
    for client_id, client_secret in (("vci_cli", secret), ("vci_env", "vcs_env-SECRET")):
        body = {"client_id": client_id, "client_secret": client_secret, "grant_type": "client_credentials"}
        answer = httpx.post(token_url, json=body)
        assert answer.status_code == 200 and answer.json()["expires_in"] == 120
        tokens.append(answer.json()["access_token"])
    response = httpx.get(f"{base_url}{EXPORTS}/x", headers={"Authorization": f"Bearer {tokens[0]}"})
    assert response.status_code == 404  # authenticated; no such export
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    [auth] = [line for line in err.splitlines() if line.startswith("auth: ")]
    assert auth == (
        f"auth: OAuth client credentials for 2 client(s) at POST {token_url}"
        " (tokens last 120 s; 5 requests per 60 s per client)"
    )
    assert "SECRET" not in err and not any(token in err for token in tokens)


def test_make_serve_with_an_oauth_client() -> None:
    dry_run = subprocess.run(
        ["make", "-n", "--no-print-directory", "serve", "SERVE_ARGS=--oauth-client vci_dev:vcs_dev"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
        env={k: v for k, v in os.environ.items() if not k.startswith("MAKE")},
    )
    [command] = [line for line in dry_run.stdout.splitlines() if "-m reference_server" in line]
    args = command.split("-m reference_server", 1)[1].split()
    parsed = build_parser().parse_args(args)
    config = build_config(parsed, {})
    assert config.oauth_clients == (("vci_dev", "vcs_dev"),) and config.tokens == ("dev-token",)
