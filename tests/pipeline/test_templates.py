"""Generator upgrades made safe: stored upstream originals of every overridden template and a golden diff."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "generated_client" / "questionnaire_exports_client"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("template_diff", ROOT / "generator" / "template_diff.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


template_diff = _tool()


def _copy(tmp_path: Path) -> tuple[Path, Path, Path]:
    upstream, ours, golden = tmp_path / "upstream", tmp_path / "templates", tmp_path / "templates.diff"
    shutil.copytree(template_diff.UPSTREAM, upstream)
    shutil.copytree(template_diff.TEMPLATES, ours)
    shutil.copy(template_diff.GOLDEN, golden)
    return upstream, ours, golden


def test_stored_originals_match_the_installed_generator_and_the_diff_is_fresh() -> None:
    overrides = sorted(p.name for p in template_diff.TEMPLATES.rglob("*.jinja"))
    assert len(overrides) >= 7, overrides
    assert template_diff.problems(template_diff.installed_templates()) == []


def test_the_golden_diff_shows_every_override() -> None:
    golden = template_diff.GOLDEN.read_text(encoding="utf-8")
    for template in template_diff.TEMPLATES.rglob("*.jinja"):
        name = template.relative_to(template_diff.TEMPLATES).as_posix()
        assert f"--- upstream/{name}\n+++ templates/{name}\n" in golden, name
    assert "+    errors.ResponseValidationError:" in golden


def test_a_template_edit_without_refreshing_the_diff_fails(tmp_path: Path) -> None:
    upstream, ours, golden = _copy(tmp_path)
    assert template_diff.problems(template_diff.installed_templates(), upstream, ours, golden) == []
    errors = ours / "errors.py.jinja"
    errors.write_text(errors.read_text() + "\n# a new line\n")
    found = template_diff.problems(template_diff.installed_templates(), upstream, ours, golden)
    assert found == [
        "generator/templates.diff is stale: a template changed; run 'make template-diff' and review"
    ]
    golden.write_text(template_diff.diff(upstream, ours))
    assert template_diff.problems(template_diff.installed_templates(), upstream, ours, golden) == []


def test_stored_originals_that_are_not_the_installed_generators_fail(tmp_path: Path) -> None:
    upstream, ours, golden = _copy(tmp_path)
    original = upstream / "model.py.jinja"
    original.write_text(original.read_text().replace("from_dict", "from_mapping", 1))
    golden.write_text(template_diff.diff(upstream, ours))  # even with a consistent diff
    found = template_diff.problems(template_diff.installed_templates(), upstream, ours, golden)
    assert found == ["model.py.jinja: generator/upstream/ differs from the installed generator's template"]


def test_an_override_of_no_upstream_template_fails(tmp_path: Path) -> None:
    upstream, ours, golden = _copy(tmp_path)
    (ours / "invented.py.jinja").write_text("x = 1\n")
    golden.write_text(template_diff.diff(upstream, ours))
    found = template_diff.problems(template_diff.installed_templates(), upstream, ours, golden)
    assert found == [
        "invented.py.jinja: the installed generator has no such template (an override of nothing)"
    ]


def test_generated_docstrings_list_the_packages_errors() -> None:
    modules = sorted((PACKAGE / "api").rglob("*.py"))
    endpoints = [m for m in modules if m.name != "__init__.py"]
    assert endpoints
    for module in endpoints:
        source = module.read_text(encoding="utf-8")
        raises = source.count("    Raises:\n")
        assert raises == 4, module.name  # sync, sync_detailed, asyncio, asyncio_detailed
        assert source.count("errors.ResponseValidationError: ") == raises, module.name
        assert source.count("errors.TransportError: ") == raises, module.name
        assert "httpx.TimeoutException" not in source, module.name
