"""``make test-vendored``: the vendored client folder, alone, on every CPython >= 3.11 found on this machine.

For each interpreter: a throwaway venv with only httpx and attrs (the client's dependencies) and pytest (to run
the tests), at the versions pinned in requirements.lock; a temporary folder holding a copy of
``generated_client/questionnaire_exports_client``, ``test_vendored.py``, the vendored JSON-Schema-Test-Suite
files and the spec as JSON; then pytest there, with no project code importable. Prints one line per
interpreter (passed, failed, or skipped and why) and exits non-zero when any failed or none was found.
Every step has a timeout.

    .venv/bin/python tests/client/vendored/run_matrix.py [--keep]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "generated_client" / "questionnaire_exports_client"
HERE = Path(__file__).resolve().parent
#: The minor versions we look for; a missing one is reported, not failed.
WANTED = [(3, 11), (3, 12), (3, 13), (3, 14)]
REQUIREMENTS = ("httpx", "attrs", "pytest")
_PROBE = (
    "import platform, sys; print(platform.python_implementation(), *sys.version_info[:3], sys.executable)"
)


def candidates() -> list[str]:
    found = [shutil.which(f"python{major}.{minor}") for major, minor in WANTED]
    found += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3")))
    found += [sys.executable]
    return [path for path in found if path]


def interpreters() -> dict[tuple[int, int], tuple[str, str]]:
    """``(major, minor) -> (version, executable)``, one per minor version, CPython only."""
    chosen: dict[tuple[int, int], tuple[str, str]] = {}
    for path in candidates():
        try:
            probe = subprocess.run(
                [path, "-c", _PROBE], capture_output=True, text=True, timeout=30, check=True
            )
        except (OSError, subprocess.SubprocessError):
            continue
        implementation, major, minor, micro, executable = probe.stdout.split(maxsplit=4)
        key = (int(major), int(minor))
        if implementation == "CPython" and key >= (3, 11) and key not in chosen:
            chosen[key] = (f"{major}.{minor}.{micro}", executable.strip())
    return dict(sorted(chosen.items()))


def pins(names: tuple[str, ...] = REQUIREMENTS) -> list[str]:
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    found = []
    for name in names:
        match = re.search(rf"^{name}==[^\s;#]+", lock, flags=re.MULTILINE | re.IGNORECASE)
        if match is None:
            raise SystemExit(f"test-vendored: {name} is not pinned in requirements.lock")
        found.append(match.group(0))
    return found


def prepare(folder: Path) -> None:
    """The folder a vendoring project would have: the package, the tests, their data, the spec as JSON."""
    sys.path.insert(0, str(ROOT))
    import contract  # the project's one loader of openapi.yaml (only the runner uses it, not the tests)

    shutil.copytree(PACKAGE, folder / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(HERE / "test_vendored.py", folder)
    shutil.copytree(HERE.parent / "data" / "json-schema-test-suite", folder / "json-schema-test-suite")
    (folder / "openapi.json").write_text(json.dumps(contract.load_spec()), encoding="utf-8")
    (folder / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n", encoding="utf-8")


def clean_env() -> dict[str, str]:
    """The environment for a throwaway venv: nothing of the project's venv leaks into it."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}


def steps_until_failure(
    steps: list[tuple[list[str], int]], folder: Path
) -> tuple[bool, str, subprocess.CompletedProcess[str] | None]:
    """Run each ``(command, timeout)`` in ``folder``; stop at the first failure and say why."""
    done = None
    for command, timeout in steps:
        try:
            done = subprocess.run(
                command,
                cwd=folder,
                env=clean_env(),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return False, f"timed out after {timeout}s: {' '.join(command[:4])}", None
        if done.returncode != 0:
            return False, (done.stdout + done.stderr).strip()[-3000:], done
    return True, "", done


def venv_steps(executable: str, venv: Path, requirements: list[str]) -> list[tuple[list[str], int]]:
    """Create ``venv`` and install ``requirements`` into it, constrained to requirements.lock's pins."""
    python = venv / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    return [
        ([executable, "-m", "venv", str(venv)], 120),
        ([*install, *requirements, "-c", str(ROOT / "requirements.lock")], 600),
    ]


def installed(python: Path) -> list[str]:
    """``name==version`` of every distribution in the venv of ``python``."""
    return subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=clean_env(),
    ).stdout.split()


def run(folder: Path, version: str, executable: str) -> tuple[bool, str]:
    venv = folder.parent / f"venv-{version}"
    python = venv / "bin" / "python"
    steps = [
        *venv_steps(executable, venv, pins()),
        ([str(python), "-m", "pytest", "-q", "test_vendored.py"], 600),
    ]
    ok, detail, done = steps_until_failure(steps, folder)
    if not ok or done is None:
        return False, detail
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    return True, f"{summary}; installed: {' '.join(sorted(installed(python)))}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Test the vendored client on every CPython >= 3.11 found.")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print it")
    args = parser.parse_args(argv)
    found = interpreters()
    for key in WANTED:
        if key not in found:
            print(f"test-vendored: Python {key[0]}.{key[1]}: skipped (not found on this machine)", flush=True)
    if not found:
        print("test-vendored: no CPython >= 3.11 found", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="test-vendored-"))
    failures = 0
    try:
        for version, executable in found.values():
            folder = work / f"py{version}"
            folder.mkdir()
            prepare(folder)
            ok, detail = run(folder, version, executable)
            failures += not ok
            print(
                f"test-vendored: Python {version} ({executable}): {'passed' if ok else 'FAILED'}: {detail}",
                flush=True,
            )
    finally:
        if args.keep:
            print(f"test-vendored: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
