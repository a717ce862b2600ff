"""AST helpers for the architecture tests: which hand-written modules read the spec, and what they import."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Hand-written Python outside ``contract/`` (the client's hand-written code wherever it lives now).
SCANNED = ("conformance", "reference_server", "bench", "examples", "tests", "generated_client")
#: Spec readers allowed outside ``contract/``, each with its reason.
EXEMPT = {
    "tests/spec/test_spec.py": "checks the raw spec itself (that openapi.yaml is valid OpenAPI 3.1)",
    "tests/spec/test_token_spec.py": "checks the raw token document itself (valid OpenAPI 3.1)",
    "tests/pipeline/": "the generator pipeline hands openapi.yaml to openapi-python-client",
    "bench/generation.py": "times the generator pipeline, which copies openapi.yaml into a scratch tree",
    "tests/client/vendored/": "hands the parsed spec, as JSON, to a venv without contract or a YAML parser",
    "tests/architecture/": "these tests name what they look for",
}
#: Generated code is the generator's business (``make check-gen`` guards it), not hand-written.
GENERATED = (
    "generated_client/questionnaire_exports_client/api/",
    "generated_client/questionnaire_exports_client/models/",
)


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def hand_written() -> Iterator[Path]:
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = relative(path)
            if ".venv" in path.parts or rel.startswith(GENERATED):
                continue
            if not any(rel.startswith(prefix) for prefix in EXEMPT):
                yield path


def _is_load_spec_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in ("load_spec", "load_token_spec")


#: The spec documents and the contract constants that locate them.
_SPEC_FILES = ("openapi.yaml", "oauth-token.yaml")
_SPEC_PATHS = frozenset({"SPEC_PATH", "TOKEN_SPEC_PATH"})


def spec_reads(source: str) -> list[tuple[int, str]]:
    """(line, what) for every way ``source`` reads the spec itself rather than asking ``contract``."""
    found: list[tuple[int, str]] = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(n == "yaml" or n.startswith("yaml.") for n in names):
                found.append((node.lineno, "imports a YAML parser"))
            if any(alias.name in _SPEC_PATHS for alias in node.names):
                found.append((node.lineno, "imports contract.SPEC_PATH (opens the file)"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value == "$ref":
                found.append((node.lineno, 'reads a "$ref" (resolve it with contract.resolve / ref_name)'))
            elif node.value.endswith(_SPEC_FILES) and " " not in node.value:
                found.append((node.lineno, "names the spec file"))
        elif isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name in _SPEC_PATHS:
                found.append((node.lineno, "uses contract.SPEC_PATH (opens the file)"))
        if isinstance(node, ast.Subscript) and _is_load_spec_call(node.value):
            found.append((node.lineno, "indexes load_spec() (ask contract for the fact)"))
        if (
            isinstance(node, ast.Assign | ast.AnnAssign)
            and node.value is not None
            and _is_load_spec_call(node.value)
        ):
            found.append((node.lineno, "keeps the raw spec in a variable (ask contract for the fact)"))
    return found


def imported_modules(source: str, package: str | None = None) -> set[str]:
    """Absolute names of every module ``source`` imports, at any depth (relative ones resolved in ``package``)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level and package is not None:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                prefix = ".".join(base)
                if node.module:
                    out.add(f"{prefix}.{node.module}")
                else:
                    out.update(f"{prefix}.{alias.name}" for alias in node.names)
            elif node.module:
                out.add(node.module)
    return out
