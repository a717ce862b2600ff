"""Write or check generated_client/ against fresh generator output (run by generate.sh; stdlib only).

    python generator/sync.py write|check FRESH_ROOT DEST_ROOT MANIFEST

``FRESH_ROOT`` and ``DEST_ROOT`` both hold the package folder (``questionnaire_exports_client/``); paths
below are relative to them. Generated files are those under ``FRESH_ROOT``; hand-written ones are listed in
``MANIFEST`` (``generator/handwritten.txt``) and are never written here.

- ``write`` copies every generated file into ``DEST_ROOT`` and removes files that are neither generated nor
  listed (stale output of an earlier spec), leaving the hand-written files untouched.
- ``check`` fails (exit 1) when a generated file differs from fresh output (a unified diff is printed,
  bounded), a listed file is missing, or a file is neither generated nor listed.

Both fail (exit 2) when the generator produces a file the manifest claims as hand-written.
"""

from __future__ import annotations

import difflib
import shutil
import sys
from pathlib import Path

#: Lines of unified diff printed per file and in total, so a broken template does not flood the log.
MAX_DIFF_LINES_PER_FILE = 40
MAX_DIFF_LINES = 200
_IGNORED_PARTS = {"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", "build", "dist"}


def manifest(path: Path) -> set[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line and not line.startswith("#")}


def files_under(root: Path) -> set[str]:
    found = set()
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        skipped = _IGNORED_PARTS.intersection(relative.parts) or any(
            part.endswith(".egg-info") for part in relative.parts
        )
        if path.is_file() and not skipped:
            found.add(relative.as_posix())
    return found


def unified(name: str, committed: bytes, fresh: bytes) -> list[str]:
    try:
        old, new = committed.decode("utf-8"), fresh.decode("utf-8")
    except UnicodeDecodeError:
        return [f"Binary files {name} differ\n"]
    diff = list(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"committed/{name}",
            tofile=f"generated/{name}",
        )
    )
    if len(diff) > MAX_DIFF_LINES_PER_FILE:
        diff = [*diff[:MAX_DIFF_LINES_PER_FILE], f"... ({len(diff) - MAX_DIFF_LINES_PER_FILE} more lines)\n"]
    return [line if line.endswith("\n") else line + "\n" for line in diff]


def check(fresh: Path, dest: Path, generated: set[str], handwritten: set[str]) -> int:
    present = files_under(dest)
    problems: list[str] = []
    diff: list[str] = []
    for name in sorted(generated):
        if name not in present:
            problems.append(f"missing generated file: {name}")
        elif (dest / name).read_bytes() != (fresh / name).read_bytes():
            problems.append(f"differs from fresh output: {name}")
            diff += unified(name, (dest / name).read_bytes(), (fresh / name).read_bytes())
    problems += [
        f"missing hand-written file (listed in the manifest): {n}" for n in sorted(handwritten - present)
    ]
    problems += [
        f"neither generated nor listed in generator/handwritten.txt: {n}"
        for n in sorted(present - generated - handwritten)
    ]
    if not problems:
        print("check-gen: generated_client/ is up to date")
        return 0
    out = sys.stderr
    out.write("check-gen: generated_client/ differs from what openapi.yaml and the templates produce:\n")
    for line in problems:
        out.write(f"  {line}\n")
    if diff:
        shown = diff[:MAX_DIFF_LINES]
        out.writelines(shown)
        if len(diff) > len(shown):
            out.write(f"... diff cut at {MAX_DIFF_LINES} lines ({len(diff) - len(shown)} more)\n")
    out.write(
        "check-gen: run 'make gen' and commit the result; never edit generated files by hand "
        "(hand-written ones are listed in generator/handwritten.txt)\n"
    )
    return 1


def write(fresh: Path, dest: Path, generated: set[str], handwritten: set[str]) -> int:
    for name in sorted(generated):
        target = dest / name
        data = (fresh / name).read_bytes()
        if target.is_file() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for name in sorted(files_under(dest) - generated - handwritten):
        (dest / name).unlink()
        print(f"removed stale file {name}")
    for folder in sorted((p for p in dest.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if folder.name == "__pycache__":
            continue
        if not any(folder.iterdir()):
            folder.rmdir()
        elif all(child.name == "__pycache__" for child in folder.iterdir()):
            shutil.rmtree(folder)
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] not in ("write", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, fresh, dest, listed = argv[0], Path(argv[1]), Path(argv[2]), Path(argv[3])
    generated = files_under(fresh)
    handwritten = manifest(listed)
    clash = sorted(generated & handwritten)
    if clash:
        print(
            f"generate.sh: the generator now writes hand-written files: {', '.join(clash)}", file=sys.stderr
        )
        return 2
    dest.mkdir(parents=True, exist_ok=True)
    return (check if mode == "check" else write)(fresh, dest, generated, handwritten)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
