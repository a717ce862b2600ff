"""Only ``contract`` opens, parses or walks ``openapi.yaml``; everyone else asks it (issue 12, item 1)."""

from __future__ import annotations

import pytest

from ._scan import ROOT, hand_written, relative, spec_reads


def test_no_module_outside_contract_reads_the_spec() -> None:
    offenders = [
        f"{relative(path)}:{line}: {what}"
        for path in hand_written()
        for line, what in spec_reads(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "\n".join(offenders)


def test_the_scan_covers_the_suite_server_bench_and_tests() -> None:
    scanned = {relative(p).split("/")[0] for p in hand_written()}
    assert {"conformance", "reference_server", "bench", "tests", "examples"} <= scanned


@pytest.mark.parametrize(
    "source",
    [
        "import yaml\n",
        "from yaml import safe_load\n",
        "name = schema['$ref'].rsplit('/', 1)[-1]\n",
        "open('openapi.yaml')\n",
        "from contract import SPEC_PATH\n",
        "import contract\npath = contract.SPEC_PATH\n",
        "paths = load_spec()['paths']\n",
        "import contract\nx = contract.load_spec()['components']\n",
        "SPEC = contract.load_spec()\n",
    ],
)
def test_the_scan_catches_each_way_of_reading_the_spec(source: str) -> None:
    assert spec_reads(source), source


@pytest.mark.parametrize(
    "source",
    [
        '"""Checks that a deployment follows openapi.yaml."""\n',
        "import contract\nschemathesis.openapi.from_dict(contract.spec_document())\n",
        "import contract\ncontract.resolve(schema)\n",
    ],
)
def test_the_scan_lets_contract_calls_and_prose_pass(source: str) -> None:
    assert spec_reads(source) == []


def test_only_contract_holds_the_spec_file() -> None:
    copies = [
        relative(p)
        for p in ROOT.rglob("openapi.yaml")
        if ".venv" not in p.parts and relative(p) not in {"openapi.yaml", "contract/openapi.yaml"}
    ]
    assert copies == []
