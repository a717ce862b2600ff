"""The import layers: spec -> contract -> reference_server / conformance; the client imports nothing of the tool."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._scan import ROOT, imported_modules, relative

#: What the client package may never import: the tool's packages and the tool's dependencies.
TOOL = ("contract", "conformance", "reference_server", "bench", "tests", "generator")
TOOL_DEPENDENCIES = (
    "yaml",
    "jsonschema",
    "jsonschema_rs",
    "referencing",
    "schemathesis",
    "hypothesis",
    "starlette",
    "uvicorn",
    "openpyxl",
    "standardwebhooks",
)


def _modules(package_dir: Path, package: str) -> dict[str, set[str]]:
    """``{module name: modules it imports}`` for every module of a package (at any depth in the file)."""
    out = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir).with_suffix("").parts
        name = ".".join((package, *parts)).removesuffix(".__init__")
        owner = name if path.name == "__init__.py" else name.rpartition(".")[0]
        out[name] = imported_modules(path.read_text(encoding="utf-8"), owner)
    return out


def _tops(imports: set[str]) -> set[str]:
    return {name.split(".")[0] for name in imports}


def _client_dirs() -> list[tuple[Path, str]]:
    return [(ROOT / "generated_client" / "questionnaire_exports_client", "questionnaire_exports_client")]


def violations(modules: dict[str, set[str]], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{m} imports {sorted(_tops(i) & set(forbidden))}"
        for m, i in modules.items()
        if _tops(i) & set(forbidden)
    ]


def test_contract_sits_below_everything() -> None:
    modules = _modules(ROOT / "contract", "contract")
    forbidden = ("conformance", "reference_server", "bench", "tests", "questionnaire_exports_client")
    assert violations(modules, forbidden) == []


def test_the_server_imports_neither_the_suite_nor_the_bench() -> None:
    assert (
        violations(_modules(ROOT / "reference_server", "reference_server"), ("conformance", "bench", "tests"))
        == []
    )


def test_the_suite_imports_no_bench_and_the_server_only_for_embedded() -> None:
    modules = _modules(ROOT / "conformance", "conformance")
    assert violations(modules, ("bench", "tests")) == []
    embedded = {m for m, i in modules.items() if "reference_server" in _tops(i)}
    assert embedded <= {"conformance.embedded"}, embedded


@pytest.mark.parametrize(("folder", "package"), _client_dirs(), ids=lambda v: getattr(v, "name", str(v)))
def test_the_client_imports_nothing_of_the_tool(folder: Path, package: str) -> None:
    assert violations(_modules(folder, package), TOOL + TOOL_DEPENDENCIES) == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary cycle found by a depth-first search (one representative per back edge)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_no_import_cycle_inside_the_suite() -> None:
    """Imports inside functions count too: a lazy import hides a cycle, it does not remove it."""
    modules = _modules(ROOT / "conformance", "conformance")
    graph = {
        m: {i for i in imports if i in modules and i != m and i != "conformance"}
        for m, imports in modules.items()
    }
    assert _cycles(graph) == []


def test_the_cycle_search_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_scan_reads_every_import_form() -> None:
    source = "import yaml\nfrom . import spec\nfrom .cli import X\ndef f():\n    from ..other import y\n"
    assert imported_modules(source, "pkg.sub") == {"yaml", "pkg.sub.spec", "pkg.sub.cli", "pkg.other"}


def test_a_forbidden_import_is_reported() -> None:
    assert violations({"questionnaire_exports_client.lib.x": {"jsonschema.exceptions"}}, TOOL_DEPENDENCIES)


def test_relative_paths() -> None:
    assert relative(ROOT / "contract" / "_load.py") == "contract/_load.py"
