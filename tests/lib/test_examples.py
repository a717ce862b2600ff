"""The scripts in examples/ run end to end against the reference server."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from questionnaire_exports_client import AuthenticatedClient
from questionnaire_exports_client.lib import sign_webhook

from reference_server.seed import EXPORT_COLUMNS, FAILING_QUESTIONNAIRE_ID, SPREADSHEET_QUESTIONNAIRE_ID
from reference_server.testing import running_server

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TOKEN = "example-token-c0ffee"
WEBHOOK_SECRET = "whsec_" + "ZXhhbXBsZS13ZWJob29rLXNlY3JldC0wMDAx"


def run_download_example(
    base_url: str, questionnaire_id: str, output: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "create_and_download.py"),
            "--base-url",
            base_url,
            "--questionnaire-id",
            questionnaire_id,
            "--format",
            "csv",
            "--output",
            str(output),
            "--timeout",
            "20",
        ],
        env={**os.environ, "QUESTIONNAIRE_EXPORTS_TOKEN": TOKEN},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.timeout(90)
def test_create_and_download_example(tmp_path: Path) -> None:
    with running_server(tokens=(TOKEN,), export_delay=0.2, in_memory=True) as server:
        done = run_download_example(server.base_url, SPREADSHEET_QUESTIONNAIRE_ID, tmp_path)
        failed = run_download_example(server.base_url, FAILING_QUESTIONNAIRE_ID, tmp_path)
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip())
    assert path.parent == tmp_path
    with path.open(encoding="utf-8-sig", newline="") as handle:
        assert next(csv.reader(handle)) == list(EXPORT_COLUMNS)
    assert "poll 1: pending" in done.stderr and "completed" in done.stderr
    assert failed.returncode == 1 and "failed:" in failed.stderr
    for output in (done.stdout, done.stderr, failed.stdout, failed.stderr):
        assert TOKEN not in output and "signature=" not in output


def test_download_example_needs_a_token() -> None:
    env = {k: v for k, v in os.environ.items() if k != "QUESTIONNAIRE_EXPORTS_TOKEN"}
    result = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "create_and_download.py"),
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--questionnaire-id",
            "x",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2 and "QUESTIONNAIRE_EXPORTS_TOKEN" in result.stderr


@pytest.fixture
def receiver() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [
            sys.executable,
            str(EXAMPLES / "webhook_receiver.py"),
            "--port",
            "0",
            "--max-events",
            "2",
            "--max-seconds",
            "45",
        ],
        env={**os.environ, "WEBHOOK_SECRET": WEBHOOK_SECRET},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("listening on "), first + (process.stderr.read() if process.stderr else "")
        yield process, first.removeprefix("listening on ")
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.timeout(90)
def test_webhook_receiver_example(receiver: tuple[subprocess.Popen[str], str]) -> None:
    process, url = receiver
    body = b'{"questionnaire": {"id": "q"}, "export": {"id": "e"}}'
    headers = sign_webhook(body, WEBHOOK_SECRET, msg_id="msg_forged", timestamp=1)
    assert httpx.post(url, content=body, headers=headers, timeout=5).status_code == 400
    assert httpx.post(url, content=b"{}", timeout=5).status_code == 400
    with (
        running_server(
            tokens=(TOKEN,), export_delay=0.05, in_memory=True, webhook_url=url, webhook_secret=WEBHOOK_SECRET
        ) as server,
        AuthenticatedClient(base_url=server.base_url, token=TOKEN) as client,
    ):
        for questionnaire_id in (SPREADSHEET_QUESTIONNAIRE_ID, FAILING_QUESTIONNAIRE_ID):
            response = client.get_httpx_client().post(
                "/customer-trust/questionnaires/exports",
                json={"questionnaireId": questionnaire_id, "format": "csv"},
            )
            assert response.status_code == 202
        out, err = process.communicate(timeout=45)
    assert process.returncode == 0, err
    lines = out.splitlines()
    assert sum(line.startswith("rejected: ") for line in lines) == 2
    assert any(line.startswith("completed: export ") for line in lines)
    assert any(line.startswith("failed: export ") for line in lines)
    assert WEBHOOK_SECRET not in out + err


def five_line_snippet() -> str:
    """The first Python block after the "five lines" heading of docs/using-the-client.md."""
    text = (EXAMPLES.parent / "docs" / "using-the-client.md").read_text(encoding="utf-8")
    section = text.split("in five lines", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.mark.timeout(60)
def test_documented_five_lines_download_a_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snippet = five_line_snippet()
    assert len(snippet.strip().splitlines()) == 5
    monkeypatch.chdir(tmp_path)
    with running_server(tokens=("dev-token",), export_delay=0.05, in_memory=True) as server:
        code = snippet.replace("http://127.0.0.1:8080/v1", server.base_url)
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=45,
            check=False,
            cwd=tmp_path,
        )
    assert result.returncode == 0, result.stderr
    path = tmp_path / result.stdout.strip()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        assert next(csv.reader(handle)) == list(EXPORT_COLUMNS)
