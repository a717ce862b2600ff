"""Schemathesis against the running server: every check, every phase, a fixed seed, zero failures.

Why the engine API: it runs the same phases as ``schemathesis run`` (examples, coverage, fuzzing,
stateful) with all checks, inside pytest and against the embedded server; a fixed seed plus
``deterministic`` generation makes a failure reproducible. ``test_state_machine`` drives the stateful
model directly through ``schema.as_state_machine()``. A bigger run sits behind ``@pytest.mark.slow``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

import contract
from reference_server.testing import running_server

SEED = 20250108
TOKEN = "schemathesis-token"
PHASES = ("examples", "coverage", "fuzzing", "stateful")


def _schema(base_url: str, max_examples: int, max_steps: int) -> Any:
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "base-url": base_url,
            "headers": {"Authorization": f"Bearer {TOKEN}"},
            "workers": 1,
            "checks": {"enabled": True},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": True, "max-steps": max_steps},
            },
            "generation": {"mode": "all", "max-examples": max_examples, "deterministic": True},
        }
    )
    return schemathesis.openapi.from_dict(contract.spec_document(), config=config)


@dataclass
class RunResult:
    """What one engine run saw: failures, errors, and response statuses per phase."""

    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    finished: bool = False


def _run(max_examples: int, max_steps: int) -> RunResult:
    result = RunResult()
    with running_server(tokens=(TOKEN,), export_delay=0.0) as server:
        for event in from_schema(_schema(server.base_url, max_examples, max_steps)).execute():
            if isinstance(event, events.ScenarioFinished):
                for interaction in event.recorder.interactions.values():
                    if interaction.response is not None:
                        result.statuses[(str(event.phase.value), interaction.response.status_code)] += 1
                for checks in event.recorder.checks.values():
                    for check in checks:
                        if check.status != Status.SUCCESS:
                            info = check.failure_info
                            result.failures.append(
                                f"{event.phase.value} {check.name}: {info and info.failure}"
                            )
            elif isinstance(event, events.NonFatalError | events.FatalError):
                result.errors.append(type(event).__name__)
            elif isinstance(event, events.EngineFinished):
                result.finished = True
                result.failures.extend(str(f) for f in event.failures)
    return result


def _assert_clean(result: RunResult) -> None:
    assert result.finished
    assert not result.errors, result.errors
    assert not result.failures, result.failures
    server_errors = {key: n for key, n in result.statuses.items() if key[1] >= 500}
    assert not server_errors, server_errors
    phases_seen = {phase for phase, _ in result.statuses}
    assert phases_seen == set(PHASES), phases_seen
    codes = {code for _, code in result.statuses}
    # The run reached the interesting answers, not only rejections.
    assert {200, 202, 400, 401, 404, 405} <= codes, codes


def test_all_phases_all_checks_find_nothing() -> None:
    _assert_clean(_run(max_examples=25, max_steps=5))


@pytest.mark.slow
def test_all_phases_all_checks_find_nothing_long_run() -> None:
    _assert_clean(_run(max_examples=150, max_steps=10))


def test_state_machine() -> None:
    """Create -> get chains via the spec's links, validated by every check after each step."""
    with running_server(tokens=(TOKEN,), export_delay=0.0) as server:
        machine = _schema(server.base_url, max_examples=15, max_steps=5).as_state_machine()
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=15,
                stateful_step_count=5,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
