"""Client credentials end to end against the real reference server (OAuth only, no static token at all):
the embedded `CONFORMANCE_CLIENT_ID/SECRET` mode, `--base-url` with `--check-revocation`, and the slow full run."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import run_cli
from reference_server import seed, testing

CLIENT = ("vci_conformance_ci", "vcs_reference-secret-5Tq8Wm2Rz")
ENV = {"CONFORMANCE_CLIENT_ID": CLIENT[0], "CONFORMANCE_CLIENT_SECRET": CLIENT[1]}


def _run(argv: list[str], tmp: Path) -> tuple[int, str, dict[str, Any], list[str]]:
    paths = [tmp / "r.json", tmp / "j.xml", tmp / "r.html", tmp / "run.har"]
    reports = ["--report-json", str(paths[0]), "--junit", str(paths[1]), "--report-html", str(paths[2])]
    out = io.StringIO()
    code = run_cli(["run", *argv, *reports, "--har-out", str(paths[3])], env=ENV, out=out)
    files = [p.read_text() for p in paths if p.exists()]
    return code, out.getvalue(), json.loads(files[0]), files


def _conforming_and_every_rule_exercised(code: int, output: str, report: dict[str, Any]) -> None:
    assert code == 0, output
    assert {rule["id"]: rule["outcome"] for rule in report["rules"]} == {
        rule["id"]: "passed" for rule in report["rules"]
    }


def _nothing_secret(output: str, files: list[str]) -> None:
    for text in (output, *files):
        assert CLIENT[1] not in text
        assert not re.search(r'access_token\\?"\s*:\s*\\?"(?!REDACTED)', text)
        assert not re.search(r"Bearer (?!REDACTED)", text)
    assert "REDACTED" in files[3]  # the HAR file has the token requests, their secret and tokens hidden


def test_embedded_mode_with_client_credentials_is_conforming_with_the_expired_token_check(
    tmp_path: Path,
) -> None:
    # The embedded server's tokens last 2 s: the run waits the current one out (+ --clock-skew 2).
    code, output, report, files = _run(["--no-schemathesis", "--clock-skew", "2"], tmp_path)
    _conforming_and_every_rule_exercised(code, output, report)
    assert "oauth: minting tokens for client vci_conformance_ci" in output
    assert "for the token to expire" in output
    assert not [note for note in report["notes"] if "not exercised" in note], report["notes"]
    _nothing_secret(output, files)


@pytest.fixture
def oauth_server() -> Iterator[testing.ServerHandle]:
    with testing.running_server(tokens=(), oauth_clients=(CLIENT,), in_memory=True) as server:
        yield server


def test_check_revocation_passes_against_the_reference_server(
    oauth_server: testing.ServerHandle, tmp_path: Path
) -> None:
    argv = ["--base-url", oauth_server.base_url, "--questionnaire-id", str(seed.SPREADSHEET_QUESTIONNAIRE_ID)]
    code, output, report, files = _run([*argv, "--no-schemathesis", "--check-revocation"], tmp_path)
    _conforming_and_every_rule_exercised(code, output, report)
    assert f"at {oauth_server.origin}/oauth/token" in output  # the default: the base URL's origin
    assert "3 token request(s) sent (at most 4 a run)" in report["notes"]  # token, wrong secret, newer token
    assert any("expired-token check not exercised: tokens last 3600 s" in n for n in report["notes"])
    _nothing_secret(output, files)


@pytest.mark.slow
def test_the_full_embedded_run_refreshes_tokens_under_schemathesis(tmp_path: Path) -> None:
    """`CONFORMANCE_CLIENT_ID=... make conformance`: every phase, tokens refreshed every 1.8 s meanwhile."""
    code, output, report, files = _run([], tmp_path)
    _conforming_and_every_rule_exercised(code, output, report)
    (sent,) = [note for note in report["notes"] if "token request(s) sent" in note]
    assert int(sent.split()[0]) > 2, (
        sent
    )  # at least one refresh, besides the token and the wrong-secret check
    _nothing_secret(output, files)
