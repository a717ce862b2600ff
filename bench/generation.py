"""Part 6, generation: ``./generate.sh`` wall time in a scratch copy, and a byte-identical second run.

Never run in the working tree: the inputs (spec, script, config, generator, helpers, committed client)
are copied to a temporary directory and generated there with ``.venv/bin`` first on ``PATH``. Baseline:
the upstream generator alone (same spec and config, no templates, no runtime copy, no ruff) in the same
run, so the ratio is what the project's pipeline adds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .scale import Scale
from .servers import ROOT
from .table import Row, Target

ROWS = (
    "6 generate.sh wall vs upstream generator alone",
    "6 second generate.sh run byte-identical",
)
IDENTICAL_TARGET = Target("==", 1.0)
_INPUTS = ("openapi.yaml", "generate.sh", "pyproject.toml", "generator", "generated_client")
_PACKAGE = Path("generated_client/questionnaire_exports_client")


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def _timed(args: list[str], cwd: Path, timeout_s: float) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        args,
        cwd=cwd,
        env=_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(
            f"{Path(args[0]).name} failed (exit code {done.returncode}): {done.stderr.strip()[-300:]}"
        )
    return wall


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def run(scale: Scale) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench-gen-") as tmp:
        scratch = Path(tmp) / "repo"
        scratch.mkdir()
        for name in _INPUTS:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, scratch / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, scratch / name)
        script = [str(scratch / "generate.sh")]
        first_s = _timed(script, scratch, scale.subprocess_timeout_s)
        first = _files(scratch / _PACKAGE)
        second_s = _timed(script, scratch, scale.subprocess_timeout_s)
        second = _files(scratch / _PACKAGE)
        upstream_s = _timed(
            [
                "openapi-python-client",
                "generate",
                "--path",
                str(scratch / "openapi.yaml"),
                "--config",
                str(scratch / "generator/config.yml"),
                "--meta",
                "none",
                "--output-path",
                str(Path(tmp) / "upstream"),
            ],
            scratch,
            scale.subprocess_timeout_s,
        )
    same = sum(1 for name, data in first.items() if second.get(name) == data)
    total = len(set(first) | set(second))
    return [
        Row(
            ROWS[0],
            f"{min(first_s, second_s):.2f} s (best of 2)",
            f"{upstream_s:.2f} s",
            min(first_s, second_s) / upstream_s,
            None,
        ),
        Row(
            ROWS[1],
            f"{same}/{total} files identical",
            f"{len(first)} files (run 1)",
            same / total if total else None,
            IDENTICAL_TARGET,
        ),
    ]
