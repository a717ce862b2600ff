"""What our template overrides change in the pinned generator's own templates (stdlib only).

    python generator/template_diff.py          write generator/templates.diff (``make template-diff``)
    python generator/template_diff.py --check  exit 1 when the stored diff is stale or the stored originals
                                               differ from the installed generator's templates

``generator/upstream/`` holds, for every file in ``generator/templates/`` that overrides an upstream template,
that template as openapi-python-client ships it (the pinned version). ``generator/templates.diff`` is the
unified diff upstream -> ours. On a generator upgrade: copy the new upstream templates over
``generator/upstream/``, re-apply ``templates.diff`` to them by hand where it no longer applies, then run
``make template-diff`` and review what changed.
"""

from __future__ import annotations

import difflib
import importlib.util
import sys
from pathlib import Path

GENERATOR = Path(__file__).resolve().parent
TEMPLATES = GENERATOR / "templates"
UPSTREAM = GENERATOR / "upstream"
GOLDEN = GENERATOR / "templates.diff"


def installed_templates() -> Path:
    """The installed generator's template folder, found without importing the generator (it is heavy)."""
    spec = importlib.util.find_spec("openapi_python_client")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("template-diff: openapi-python-client is not installed (run make venv)")
    return Path(next(iter(spec.submodule_search_locations))).resolve() / "templates"


def diff(upstream: Path = UPSTREAM, ours: Path = TEMPLATES) -> str:
    """The unified diff upstream -> ours over every override, in path order."""
    lines: list[str] = []
    for name in sorted(p.relative_to(ours).as_posix() for p in ours.rglob("*.jinja")):
        original = upstream / name
        before = original.read_text(encoding="utf-8").splitlines(keepends=True) if original.is_file() else []
        after = (ours / name).read_text(encoding="utf-8").splitlines(keepends=True)
        for line in difflib.unified_diff(
            before, after, fromfile=f"upstream/{name}", tofile=f"templates/{name}"
        ):
            lines.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(lines)


def problems(
    installed: Path, upstream: Path = UPSTREAM, ours: Path = TEMPLATES, golden: Path = GOLDEN
) -> list[str]:
    """Why the stored originals or the stored diff are out of date (empty when all agree)."""
    found = []
    names = sorted(p.relative_to(ours).as_posix() for p in ours.rglob("*.jinja"))
    for name in names:
        stored, shipped = upstream / name, installed / name
        if not shipped.is_file():
            found.append(f"{name}: the installed generator has no such template (an override of nothing)")
        elif not stored.is_file():
            found.append(f"{name}: no stored upstream original in generator/upstream/")
        elif stored.read_bytes() != shipped.read_bytes():
            found.append(f"{name}: generator/upstream/ differs from the installed generator's template")
    stray = sorted(p.relative_to(upstream).as_posix() for p in upstream.rglob("*") if p.is_file())
    found += [f"{name}: stored upstream original of no override" for name in stray if name not in names]
    if not golden.is_file() or golden.read_text(encoding="utf-8") != diff(upstream, ours):
        found.append(
            "generator/templates.diff is stale: a template changed; run 'make template-diff' and review"
        )
    return found


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        found = problems(installed_templates())
        for line in found:
            print(f"template-diff: {line}", file=sys.stderr)
        return 1 if found else 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    GOLDEN.write_text(diff(), encoding="utf-8")
    print(f"template-diff: wrote {GOLDEN.relative_to(GENERATOR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
