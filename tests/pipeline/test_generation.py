"""The generator pipeline: reproducible output, and a guard that catches hand edits of generated_client/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import contract

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "generated_client" / "questionnaire_exports_client"
INPUTS = ["openapi.yaml", "generate.sh", "pyproject.toml", "generator", "generated_client"]
MANIFEST = ROOT / "generator" / "handwritten.txt"


def _run_generate(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(
        ["bash", str(root / "generate.sh"), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the pipeline's inputs and output, so tests can edit and regenerate freely."""
    root = tmp_path_factory.mktemp("repo")
    for name in INPUTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, root / name)
    return root


def test_committed_package_matches_the_spec_and_templates(scratch: Path) -> None:
    result = _run_generate(scratch, "--check")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_generating_twice_is_byte_identical(scratch: Path) -> None:
    def snapshot() -> dict[str, bytes]:
        package = scratch / "generated_client" / "questionnaire_exports_client"
        return {
            str(p.relative_to(package)): p.read_bytes() for p in sorted(package.rglob("*")) if p.is_file()
        }

    assert _run_generate(scratch).returncode == 0
    first = snapshot()
    assert _run_generate(scratch).returncode == 0
    assert snapshot() == first
    assert len(first) > 15


def test_a_hand_edited_generated_file_fails_the_check(scratch: Path) -> None:
    edited = scratch / "generated_client" / "questionnaire_exports_client" / "models" / "export_pending.py"
    original = edited.read_text()
    edited.write_text(original.replace("check_object(_SHAPE, src_dict)", "pass"))
    try:
        result = _run_generate(scratch, "--check")
    finally:
        edited.write_text(original)
    assert result.returncode == 1
    assert "differs from fresh output: questionnaire_exports_client/models/export_pending.py" in result.stderr
    # A unified diff shows how: the committed line against the generated one.
    assert "--- committed/questionnaire_exports_client/models/export_pending.py" in result.stderr
    assert "\n-        _validation.pass\n" in result.stderr
    assert "\n+        _validation.check_object(_SHAPE, src_dict)\n" in result.stderr
    assert "never edit generated files by hand" in result.stderr
    assert str(scratch) not in result.stderr  # no machine paths in the report


def test_an_extra_file_in_the_package_fails_the_check(scratch: Path) -> None:
    stray = scratch / "generated_client" / "questionnaire_exports_client" / "stray.py"
    stray.write_text("x = 1\n")
    try:
        result = _run_generate(scratch, "--check")
    finally:
        stray.unlink()
    assert result.returncode == 1
    assert (
        "neither generated nor listed in generator/handwritten.txt: questionnaire_exports_client/stray.py"
        in (result.stderr)
    )


def _handwritten() -> list[str]:
    lines = (line.strip() for line in MANIFEST.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_the_manifest_lists_the_hand_written_files() -> None:
    listed = _handwritten()
    assert "pyproject.toml" in listed and "questionnaire_exports_client/lib/__init__.py" in listed
    assert "questionnaire_exports_client/_validation.py" in listed
    for name in listed:
        assert (ROOT / "generated_client" / name).is_file(), name


def test_generation_leaves_hand_written_files_untouched(scratch: Path) -> None:
    helper = scratch / "generated_client" / "questionnaire_exports_client" / "lib" / "backoff.py"
    original = helper.read_bytes()
    edited = original + b"\n# a local edit of a hand-written file\n"
    helper.write_bytes(edited)
    try:
        assert _run_generate(scratch).returncode == 0
        assert helper.read_bytes() == edited
        assert _run_generate(scratch, "--check").returncode == 0
    finally:
        helper.write_bytes(original)


def test_a_missing_hand_written_file_fails_the_check(scratch: Path) -> None:
    helper = scratch / "generated_client" / "questionnaire_exports_client" / "lib" / "redact.py"
    original = helper.read_bytes()
    helper.unlink()
    try:
        result = _run_generate(scratch, "--check")
    finally:
        helper.write_bytes(original)
    assert result.returncode == 1
    assert (
        "missing hand-written file (listed in the manifest): questionnaire_exports_client/lib/redact.py"
        in (result.stderr)
    )


def test_generation_removes_stale_generated_files(scratch: Path) -> None:
    stale = scratch / "generated_client" / "questionnaire_exports_client" / "models" / "gone_schema.py"
    stale.write_text("class GoneSchema: ...\n")
    assert _run_generate(scratch).returncode == 0
    assert not stale.exists()
    assert _run_generate(scratch, "--check").returncode == 0


def test_the_diff_in_the_check_is_bounded(scratch: Path) -> None:
    model = scratch / "generated_client" / "questionnaire_exports_client" / "models" / "problem.py"
    original = model.read_text()
    model.write_text("".join(f"# line {i}\n" for i in range(5000)))
    try:
        result = _run_generate(scratch, "--check")
    finally:
        model.write_text(original)
    assert result.returncode == 1 and "more lines)" in result.stderr
    assert len(result.stderr.splitlines()) < 300


def test_relaxed_lint_rules_cover_only_generated_files() -> None:
    """The hand-written files get the full ruff rule set; per-file ignores name generated paths only."""
    import fnmatch
    import tomllib

    ignores = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]["per-file-ignores"]
    relaxed = [pattern for pattern in ignores if pattern.startswith("generated_client")]
    assert relaxed, "no relaxed pattern: this test would prove nothing"
    for name in _handwritten():
        path = f"generated_client/{name}"
        assert not any(fnmatch.fnmatch(path, pattern) for pattern in relaxed), path


def test_a_broken_template_fails_loudly(scratch: Path) -> None:
    template = scratch / "generator" / "templates" / "errors.py.jinja"
    original = template.read_text()
    template.write_text(original + "\nthis is not python(\n")
    try:
        result = _run_generate(scratch, "--check")
    finally:
        template.write_text(original)
    assert result.returncode != 0


def test_the_wrong_generator_version_is_refused(scratch: Path) -> None:
    script = scratch / "generate.sh"
    original = script.read_text()
    script.write_text(original.replace("GENERATOR_VERSION=0.29.1", "GENERATOR_VERSION=0.0.1"))
    try:
        result = _run_generate(scratch, "--check")
    finally:
        script.write_text(original)
    assert result.returncode == 2 and "needs openapi-python-client 0.0.1" in result.stderr


def test_dispatch_table_follows_the_spec_discriminator() -> None:
    """The templates infer the tag from the variants' `const`; it must agree with the spec's discriminator."""
    tag, mapping = contract.discriminator()
    source = (PACKAGE / "api" / "exports" / "get_questionnaire_export.py").read_text()
    assert f'"{tag}",' in source
    for value, schema_name in mapping.items():
        assert f'"{value}": {schema_name}.from_dict' in source


def test_generator_and_ruff_are_pinned_exactly() -> None:
    lock = (ROOT / "requirements.lock").read_text().splitlines()
    assert "openapi-python-client==0.29.1" in lock
    assert any(line.startswith("ruff==") for line in lock)
    assert "GENERATOR_VERSION=0.29.1" in (ROOT / "generate.sh").read_text()


def _patterns_in_spec() -> dict[tuple[str, str], str]:
    """``(schema, property) -> pattern`` for every inline property of a component schema that has one."""
    found = {}
    for schema_name, schema in contract.component_schemas().items():
        for name, prop in (schema.get("properties") or {}).items():
            if isinstance(prop, dict) and "pattern" in prop:
                found[(schema_name, name)] = prop["pattern"]
    return found


def test_every_spec_pattern_is_in_the_shape_tables() -> None:
    """The spec's ``pattern`` reaches the client's checks, read from the spec (no scheme list in Python)."""
    import importlib

    patterns = _patterns_in_spec()
    assert patterns, "the spec has no pattern: this test would prove nothing"
    for (schema_name, name), pattern in patterns.items():
        module = importlib.import_module(f"questionnaire_exports_client.models.{_snake(schema_name)}")
        field = module._SHAPE.fields[name]
        assert field.pattern is not None and field.pattern.pattern == pattern, (schema_name, name)


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


def test_unknown_field_kinds_and_untagged_unions_fail_generation(scratch: Path) -> None:
    """No silent fallback (upstream: ``Field("any")``, try-each-member): both are reported in one run."""
    import yaml

    spec_path = scratch / "openapi.yaml"
    original = spec_path.read_text()
    spec = yaml.safe_load(original)
    properties = spec["components"]["schemas"]["Problem"]["properties"]
    properties["mystery"] = {"description": "no type at all"}
    properties["either"] = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))
    try:
        result = _run_generate(scratch, "--check")
    finally:
        spec_path.write_text(original)
    assert result.returncode == 1
    assert "generation refused" in result.stderr
    assert "Problem.mystery: unknown field kind (template any_property.py.jinja)" in result.stderr
    assert "union either has no discriminator" in result.stderr
    assert "try-each-member parsing is refused" in result.stderr
