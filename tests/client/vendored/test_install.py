"""``pip install ./generated_client`` installs the client alone, and the examples run with nothing else.

A throwaway venv (built by ``run_matrix.py``'s machinery, pinned by requirements.lock, from the local mirror)
gets the client distribution only; the reference server runs from the project's venv (the tool), and the
scripts in ``examples/`` run in the client's venv against it. Every step is bounded in time.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from questionnaire_exports_client import AuthenticatedClient
from questionnaire_exports_client.lib import create_and_wait

from reference_server.seed import FAILING_QUESTIONNAIRE_ID, SPREADSHEET_QUESTIONNAIRE_ID
from reference_server.testing import running_server

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
TOKEN = "install-test-token-5eed"
WEBHOOK_SECRET = "whsec_" + "aW5zdGFsbC10ZXN0LXdlYmhvb2stc2VjcmV0LTAx"
#: What the tool needs and the client must not pull in.
TOOL_ONLY = ("pyyaml", "jsonschema", "starlette", "uvicorn", "schemathesis", "openpyxl", "python-docx")
TOOL_MODULES = ("contract", "reference_server", "conformance", "yaml", "jsonschema", "starlette")

pytestmark = pytest.mark.timeout(300)


def _matrix() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_matrix", HERE / "run_matrix.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run_matrix = _matrix()


def _name(requirement: str) -> str:
    return re.split(r"[=<>!~; \[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


@pytest.fixture(scope="module")
def client_python(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The python of a fresh venv holding only ``pip install ./generated_client`` (a copy, built outside)."""
    work = tmp_path_factory.mktemp("client-alone")
    source = work / "generated_client"
    shutil.copytree(
        ROOT / "generated_client",
        source,
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"),
    )
    venv = work / "venv"
    ok, detail, _ = run_matrix.steps_until_failure(
        run_matrix.venv_steps(sys.executable, venv, [str(source)]), work
    )
    assert ok, detail
    yield venv / "bin" / "python"


def _run(python: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), *args],
        cwd=python.parents[2],  # the work folder: no project code importable from there
        env={**run_matrix.clean_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_client_installs_alone_with_httpx_and_attrs_at_the_pins(client_python: Path) -> None:
    installed = run_matrix.installed(client_python)
    names = {_name(line) for line in installed}
    assert "questionnaire-exports-client" in names
    for pin in run_matrix.pins(("httpx", "attrs")):
        assert pin.lower() in (line.lower() for line in installed), (pin, installed)
    assert not names.intersection(TOOL_ONLY), installed
    requires = _run(
        client_python,
        "-c",
        "import importlib.metadata as m; print('\\n'.join(m.requires('questionnaire-exports-client') or []))",
    )
    assert requires.returncode == 0, requires.stderr
    assert sorted(_name(line) for line in requires.stdout.split("\n") if line) == ["attrs", "httpx"]


def test_the_installed_client_is_typed_and_imports_nothing_of_the_tool(client_python: Path) -> None:
    probe = _run(
        client_python,
        "-c",
        "import importlib.util, pathlib, sys, questionnaire_exports_client as p, questionnaire_exports_client.lib;"
        "folder = pathlib.Path(p.__file__).parent;"
        "print(folder.joinpath('py.typed').is_file(), 'site-packages' in str(folder));"
        f"print(*[m for m in {TOOL_MODULES!r} if importlib.util.find_spec(m) is not None or m in sys.modules])",
    )
    assert probe.returncode == 0, probe.stderr
    typed, tool_modules = probe.stdout.split("\n")[:2]
    assert typed == "True True"
    assert tool_modules == ""


def test_the_examples_run_in_the_client_venv_against_the_tools_server(
    client_python: Path, tmp_path: Path
) -> None:
    examples = ROOT / "examples"
    command = [str(client_python), str(examples / "webhook_receiver.py"), "--port", "0", "--max-events", "2"]
    receiver = subprocess.Popen(
        [*command, "--max-seconds", "60"],
        cwd=tmp_path,
        env={**run_matrix.clean_env(), "WEBHOOK_SECRET": WEBHOOK_SECRET},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert receiver.stdout is not None
        first = receiver.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+/)", first)
        assert match, first + (receiver.stderr.read() if receiver.stderr else "")
        with running_server(
            tokens=(TOKEN,),
            export_delay=0.05,
            in_memory=True,
            webhook_url=match.group(1),
            webhook_secret=WEBHOOK_SECRET,
        ) as server:
            download = _run(
                client_python,
                str(examples / "create_and_download.py"),
                "--base-url",
                server.base_url,
                "--questionnaire-id",
                SPREADSHEET_QUESTIONNAIRE_ID,
                "--format",
                "csv",
                "--output",
                str(tmp_path),
                "--timeout",
                "30",
                env={"QUESTIONNAIRE_EXPORTS_TOKEN": TOKEN},
            )
            with AuthenticatedClient(base_url=server.base_url, token=TOKEN) as client:
                create_and_wait(client, FAILING_QUESTIONNAIRE_ID, format_="csv", timeout=30)
            out, err = receiver.communicate(timeout=90)
    finally:
        if receiver.poll() is None:
            receiver.kill()
            receiver.communicate(timeout=30)
    assert download.returncode == 0, download.stderr
    assert Path(download.stdout.strip()).is_file()
    assert receiver.returncode == 0, err
    # Both deliveries verified by the client alone: the completed export and the failed one.
    assert "completed: export " in out and "failed: export " in out and "rejected" not in out, out
    for output in (download.stdout, download.stderr, out, err):
        assert TOKEN not in output and WEBHOOK_SECRET not in output
