"""No piece of the repository is stored twice: no two tracked files have identical content."""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Files this small are boilerplate (an empty ``__init__.py`` or ``py.typed`` marker), not knowledge.
TINY_BYTES = 64


def _tracked_blobs() -> list[tuple[str, str, str]]:
    """``(mode, blob sha, path)`` of every tracked file, as git stores it (a symlink is its target path)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listing = subprocess.run(
        ["git", "ls-files", "-s", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    found = []
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        mode, sha, _stage = meta.split()
        found.append((mode, sha, path))
    return found


def duplicates(blobs: list[tuple[str, str, str]], root: Path) -> list[list[str]]:
    by_content: dict[str, list[str]] = defaultdict(list)
    for mode, sha, path in blobs:
        file = root / path
        if mode == "120000" or not file.is_file() or file.stat().st_size <= TINY_BYTES:
            continue
        by_content[sha].append(path)
    return sorted(sorted(paths) for paths in by_content.values() if len(paths) > 1)


def test_no_two_tracked_files_have_identical_content() -> None:
    blobs = _tracked_blobs()
    assert len(blobs) > 100, "git lists too few files: this test would prove nothing"
    assert duplicates(blobs, ROOT) == []


def test_a_copied_file_is_found(tmp_path: Path) -> None:
    for name in ("a.py", "b/a.py", "empty.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "a.py").write_text("x = 1\n" * 20)
    (tmp_path / "b" / "a.py").write_text("x = 1\n" * 20)
    (tmp_path / "empty.py").write_text("")
    blobs = [("100644", "s1", "a.py"), ("100644", "s1", "b/a.py"), ("100644", "s0", "empty.py")]
    assert duplicates(blobs, tmp_path) == [["a.py", "b/a.py"]]
