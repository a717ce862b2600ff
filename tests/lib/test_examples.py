"""The scripts in examples/ run end to end against the reference server."""

from __future__ import annotations

import csv
import http.client
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from questionnaire_exports_client import AuthenticatedClient
from questionnaire_exports_client.lib import sign_webhook

from reference_server.seed import EXPORT_COLUMNS, FAILING_QUESTIONNAIRE_ID, SPREADSHEET_QUESTIONNAIRE_ID
from reference_server.testing import running_server

from .conftest import spec_example

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


def test_client_credentials_example_is_five_lines_and_downloads_a_csv(tmp_path: Path) -> None:
    """``examples/client_credentials.py``: id and secret from the environment, five lines, a CSV on disk."""
    source = (EXAMPLES / "client_credentials.py").read_text(encoding="utf-8")
    five = [line for line in source.split("# five lines:\n", 1)[1].splitlines() if line.strip()]
    assert len(five) == 5 and five[-1] == "print(path)"
    client_id, secret = "vci_example", "vcs_example-SECRET-4d3c2b1a"
    with running_server(
        tokens=(), oauth_clients=((client_id, secret),), export_delay=0.05, in_memory=True
    ) as server:
        result = subprocess.run(
            [sys.executable, str(EXAMPLES / "client_credentials.py")],
            env={**os.environ, "API": server.origin, "CLIENT_ID": client_id, "CLIENT_SECRET": secret},
            capture_output=True,
            text=True,
            timeout=45,
            check=False,
            cwd=tmp_path,
        )
        issued = server.runtime.oauth.issued[client_id]
    assert result.returncode == 0, result.stderr
    with (tmp_path / result.stdout.strip()).open(encoding="utf-8-sig", newline="") as handle:
        assert next(csv.reader(handle)) == list(EXPORT_COLUMNS)
    assert issued == 1  # one token for the whole run
    assert secret not in result.stdout + result.stderr


def load_receiver_example() -> Any:
    spec = importlib.util.spec_from_file_location(
        "webhook_receiver_example", EXAMPLES / "webhook_receiver.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def delivery(index: int, run: int) -> tuple[bytes, dict[str, str]]:
    """A signed delivery of export ``export-<index>`` (completed when even, failed when odd)."""
    data = spec_example("ExportCompletedEvent" if index % 2 == 0 else "ExportFailedEvent")
    data["export"]["id"] = f"export-{index}"
    body = json.dumps(data).encode()
    return body, sign_webhook(body, WEBHOOK_SECRET, msg_id=f"msg_{run}_{index}", timestamp=int(time.time()))


EVENT_LINE = re.compile(
    r"completed: export export-\d; GET it for a download link|failed: export export-\d: .+"
)


def post(port: int, body: bytes, headers: dict[str, str]) -> int:
    """One POST with the standard library (cheaper than an httpx client per thread)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", "/", body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


class Senders:
    """Sends deliveries, four of them at the same moment, and collects the statuses."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        self._barrier = threading.Barrier(4)

    def send(self, body: bytes, headers: dict[str, str], together: bool = False) -> None:
        if together:
            self._barrier.wait(timeout=10)
        status = post(self.port, body, headers)
        with self._lock:
            self.statuses.append(status)


@pytest.mark.timeout(120)
def test_webhook_receiver_has_no_race_in_200_runs() -> None:
    """The example's own Receiver and serve loop, in-process (a subprocess per run would take minutes).

    Each run sends a forged delivery and then one delivery twice, one after the other, and then four
    distinct deliveries at once from four threads, with ``max_events=5``. Every run must print exactly one
    whole rejection line and five whole event lines, each once, and stop by itself once the fifth is out.
    """
    example = load_receiver_example()
    for run in range(200):
        out = io.StringIO()
        server = example.Receiver(("127.0.0.1", 0), WEBHOOK_SECRET, 5, out)
        # How often the loop looks at its limits: the example's 0.2 s would cost 40 s over 200 runs.
        server.timeout = 0.01
        loop = threading.Thread(target=example.serve, args=(server, 30.0))
        loop.start()
        senders = Senders(server.server_address[1])
        body, headers = delivery(4, run)
        senders.send(body, {**headers, "svix-signature": "v1,AAAA"})
        senders.send(body, headers)
        senders.send(body, headers)  # the repeat: answered 204, printed once
        threads = [threading.Thread(target=senders.send, args=(*delivery(i, run), True)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        loop.join(timeout=30)
        alive = loop.is_alive()
        server.server_close()
        lines = out.getvalue().splitlines()
        assert not alive, f"run {run}: the receiver did not stop after max_events"
        assert sorted(senders.statuses) == [204] * 6 + [400], f"run {run}: {senders.statuses}"
        assert len(lines) == 6 and lines[0].startswith("rejected: webhook rejected (no-matching-signature)")
        assert all(EVENT_LINE.fullmatch(line) for line in lines[1:]), f"run {run}: {lines}"
        assert len(set(lines[1:])) == 5, f"run {run}: {lines}"
