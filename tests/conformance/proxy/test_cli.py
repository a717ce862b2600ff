"""`conformance proxy` as users run it: a child process, real signals, reports and HAR on disk, no secret in any
output; exit 2 with one line when it cannot run."""

from __future__ import annotations

import io
import json
import signal
import socket
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from questionnaire_exports_client import AuthenticatedClient
from questionnaire_exports_client.lib import Backoff, create_and_wait
from questionnaire_exports_client.models import ExportCompleted

from conformance.cli import build_parser
from conformance.proxy_cli import command_proxy
from reference_server.seed import SPREADSHEET_QUESTIONNAIRE_ID
from reference_server.testing import running_server

from ..conftest import invoke
from ..fake_api import OK_QUESTIONNAIRE, RunningFake
from ..fake_api import TOKEN as FAKE_TOKEN
from .process import proxy_process
from .upstreams import PATIENCE

TOKEN = "proxy-cli-token-Vb83kQz1"


def _outputs(tmp: Path) -> list[str]:
    return [
        "--report-json", str(tmp / "r.json"), "--junit", str(tmp / "j.xml"), "--report-html", str(tmp / "r.html"),
        "--har-out", str(tmp / "t.har"),
    ]  # fmt: skip


def _written(tmp: Path) -> dict[str, str]:
    return {name: (tmp / name).read_text(encoding="utf-8") for name in ("r.json", "j.xml", "r.html", "t.har")}


def test_sigterm_writes_a_conforming_report_and_a_redacted_har(tmp_path: Path) -> None:
    with (
        running_server(tokens=(TOKEN,), in_memory=True) as server,
        proxy_process(server.base_url, *_outputs(tmp_path)) as proxy,
    ):
        assert proxy.url.endswith("/v1") and proxy.url != server.base_url
        with AuthenticatedClient(base_url=proxy.url, token=TOKEN, timeout=httpx.Timeout(PATIENCE)) as client:
            export = create_and_wait(
                client,
                SPREADSHEET_QUESTIONNAIRE_ID,
                format_="csv",
                timeout=PATIENCE,
                backoff=Backoff(min_delay=0.02, max_delay=0.2),
            )
        assert isinstance(export, ExportCompleted)
        link = urlsplit(export.download_url)
        signature = parse_qs(link.query)["signature"][0]
        download = httpx.get(proxy.url.removesuffix("/v1") + link.path + "?" + link.query, timeout=PATIENCE)
        assert download.status_code == 200 and download.content
        code, output = proxy.stop(signal.SIGTERM)
    assert code == 0, output
    assert "CONFORMING" in output and "Traceback" not in output
    files = _written(tmp_path)
    report = json.loads(files["r.json"])
    assert report["conforming"] is True and report["requests"] >= 2, report
    assert any("1 other exchange(s) (downloads)" in note for note in report["notes"]), report["notes"]
    har = json.loads(files["t.har"])
    urls = [entry["request"]["url"] for entry in har["log"]["entries"]]
    assert any(urlsplit(url).path == link.path for url in urls), urls
    for name, text in {"stdout": output, **files}.items():
        assert TOKEN not in text, name
        assert signature not in text, name


def test_sigint_with_a_faulty_upstream_exits_1_with_the_finding(fake: RunningFake, tmp_path: Path) -> None:
    fake.config.fault = "status_unknown"
    try:
        with proxy_process(fake.base_url, "--report-json", str(tmp_path / "r.json")) as proxy:
            auth = {"Authorization": f"Bearer {FAKE_TOKEN}"}
            with httpx.Client(base_url=proxy.url, headers=auth, timeout=PATIENCE) as client:
                created = client.post(
                    "/customer-trust/questionnaires/exports",
                    json={"questionnaireId": OK_QUESTIONNAIRE, "format": "csv"},
                )
                path = f"/customer-trust/questionnaires/exports/{created.json()['id']}"
                for _ in range(50):  # until the fake's faulty terminal answer
                    answer = client.get(path)
                    if answer.json()["status"] != "pending":
                        break
            assert answer.json()["status"] == "done"  # the upstream's faulty answer, unchanged
            code, output = proxy.stop(signal.SIGINT)
    finally:
        fake.config.fault = None
    assert code == 1, output
    assert "FAIL [schema]" in output and "NOT CONFORMING" in output
    assert output.index("FAIL [schema]") < output.index("NOT CONFORMING")  # printed live, before the summary
    report = json.loads((tmp_path / "r.json").read_text())
    assert "schema" in {f["rule"] for f in report["findings"]}
    assert FAKE_TOKEN not in output and FAKE_TOKEN not in json.dumps(report)


def test_no_traffic_exits_0_and_says_so(tmp_path: Path) -> None:
    """In this process, stopped by the event the signal handler stands for (set before it starts)."""
    args = build_parser().parse_args(
        ["proxy", "--upstream", "http://127.0.0.1:9/v1", "--listen", "127.0.0.1:0", *_outputs(tmp_path)]
    )
    stop = threading.Event()
    stop.set()
    out = io.StringIO()
    code = command_proxy(args, out, stop)
    output = out.getvalue()
    assert code == 0, output
    assert output.startswith("listening on http://127.0.0.1:") and output.splitlines()[0].split()[2].endswith(
        "/v1"
    )
    assert "no API traffic" in output.strip().splitlines()[-1]
    files = _written(tmp_path)
    assert json.loads(files["r.json"])["requests"] == 0
    assert json.loads(files["t.har"])["log"]["entries"] == []


def test_an_address_that_cannot_be_served_is_exit_2_in_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, output = invoke(
            ["proxy", "--upstream", "http://127.0.0.1:9/v1", "--listen", f"127.0.0.1:{port}"]
        )
    assert code == 2, output
    assert output.count("\n") == 1 and output.startswith("conformance: cannot run: "), output


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--upstream", "ftp://example.com/v1"], "--upstream must be an http(s) URL"),
        (["--upstream", "https://user:pw@example.com/v1"], "no user info"),
        (["--upstream", "http://example.com:port/v1"], "not a URL"),
        (["--upstream", "http://127.0.0.1/v1", "--listen", "nowhere"], "HOST:PORT"),
        (["--upstream", "http://127.0.0.1/v1", "--max-body-bytes", "0"], "must be positive"),
        (["--upstream", "http://127.0.0.1/v1", "--clock-skew", "-1"], "--clock-skew"),
        ([], "--upstream"),
    ],
    ids=["scheme", "userinfo", "port", "listen", "cap", "skew", "missing"],
)
def test_bad_arguments_are_exit_2_in_one_line(argv: list[str], words: str) -> None:
    code, output = invoke(["proxy", *argv])
    assert code == 2, output
    assert output.count("\n") == 1 and output.startswith("conformance: error: ") and words in output, output


@pytest.mark.parametrize(
    "upstream",
    [
        "ftp://user:pw-Zq81xW@example.com/v1",
        "https://user:pw-Zq81xW@/v1",
        "https:/user:pw-Zq81xW@example.com/v1",
    ],
    ids=["scheme", "no-host", "one-slash"],
)
def test_an_upstream_refused_never_shows_its_password(upstream: str) -> None:
    code, output = invoke(["proxy", "--upstream", upstream])
    assert code == 2 and "--upstream must be an http(s) URL" in output, output
    assert "pw-Zq81xW" not in output, output
