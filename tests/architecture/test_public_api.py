"""``__all__`` of ``contract`` and ``conformance``: deliberate, importable, sorted, and covering what others use."""

from __future__ import annotations

import ast
import importlib

import pytest

from ._scan import ROOT, hand_written

PACKAGES = ("contract", "conformance")


@pytest.mark.parametrize("package", PACKAGES)
def test_all_names_exist_and_are_unique(package: str) -> None:
    module = importlib.import_module(package)
    names = list(module.__all__)
    assert len(names) == len(set(names))
    assert names == sorted(names, key=lambda n: (not n.isupper(), n[0].islower(), n)) or names == sorted(
        names
    )
    missing = [n for n in names if not hasattr(module, n)]
    assert missing == []


@pytest.mark.parametrize("package", PACKAGES)
def test_all_lists_every_public_name_the_package_binds(package: str) -> None:
    """Nothing public is reachable from the package's top that ``__all__`` leaves out (submodules aside)."""
    module = importlib.import_module(package)
    tree = ast.parse((ROOT / package / "__init__.py").read_text(encoding="utf-8"))
    bound = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module != "__future__"
        for alias in node.names
    }
    public = {n for n in bound if not n.startswith("_")}
    assert public == set(module.__all__)


def test_nobody_imports_a_private_contract_module() -> None:
    offenders = []
    for path in hand_written():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("contract._"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.Import) and any(a.name.startswith("contract._") for a in node.names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_what_others_take_from_contract_is_public() -> None:
    """Every ``contract.X`` and ``from contract import X`` outside the package names a member of ``__all__``."""
    import contract

    used: set[str] = set()
    for path in hand_written():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "contract":
                used.update(a.name for a in node.names)
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "contract"
            ):
                used.add(node.attr)
    assert used - set(contract.__all__) == set()
