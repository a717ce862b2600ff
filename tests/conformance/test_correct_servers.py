"""No false positives: the correct fake and the embedded reference server conform, for several seeds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import invoke, run_fake
from .fake_api import RunningFake


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_correct_fake_conforms(fake: RunningFake, tmp_path: Path, seed: int) -> None:
    run = run_fake(fake, tmp_path, None, "--profile", "full", "--max-requests", "150", "--seed", str(seed))
    assert run.code == 0, run.output
    assert run.report["conforming"] is True
    assert all(rule["outcome"] == "passed" for rule in run.report["rules"]), run.report["rules"]


@pytest.mark.parametrize("seed", [0, 7])
def test_embedded_reference_server_conforms(seed: int) -> None:
    code, output = invoke(["run", "--max-requests", "120", "--seed", str(seed)])
    assert code == 0, output
    # The verdict line, anchored: "NOT CONFORMING: ..." contains "CONFORMING" too.
    assert re.search(r"^CONFORMING: 0 finding\(s\), ", output, re.M), output
    assert not re.search(r"^NOT CONFORMING", output, re.M), output


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10, 20))
def test_embedded_reference_server_conforms_full_sweep(seed: int) -> None:
    code, output = invoke(["run", "--seed", str(seed)])
    assert code == 0, output
    assert re.search(r"^CONFORMING: 0 finding\(s\), ", output, re.M), output
