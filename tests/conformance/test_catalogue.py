"""The catalogue of faulty servers: each breaks one rule; the suite must exit 1 naming it (one test per server).

A fault may, by its nature, also break a second rule (an unknown `status` also keeps an export from ever
reaching a terminal state); `ALSO` lists those, and any other failed rule is a misattribution.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.rules import RULES

from .conftest import run_fake
from .fake_api import RunningFake

#: fault -> the rule that must catch it.
CATALOGUE: dict[str, str] = {
    "pending_with_download_url": "schema",
    "completed_missing_expires_at": "client",
    "completed_with_error_message": "schema",
    "failed_missing_error_message": "schema",
    "failed_with_completed_at": "client",
    "status_unknown": "schema",
    "status_wrong_case": "schema",
    "timestamp_malformed": "schema",
    "get_wrong_content_type": "schema",
    "error_problem_missing_title": "schema",
    "format_not_echoed": "lifecycle",
    "id_not_echoed": "lifecycle",
    "post_200": "lifecycle",
    "terminal_regresses": "lifecycle",
    "completed_at_changes": "lifecycle",
    "never_terminal": "lifecycle",
    "completed_before_requested": "time",
    "completed_in_future": "time",
    "expires_short": "time",
    "expires_too_long": "time",
    "link_expired": "link",
    "link_dead": "link",
    "link_stale": "link",
    "link_not_https": "link",
    "link_javascript": "link",
    "download_wrong_content_type": "link",
    "download_empty": "link",
    "download_requires_token": "link",
    "unknown_id_200": "errors-auth",
    "auth_missing_ignored": "errors-auth",
    "auth_wrong_ignored": "errors-auth",
    "bad_input_500": "errors-auth",
    "bad_input_accepted": "errors-auth",
    "error_not_problem_json": "errors-auth",
    "unknown_questionnaire_202": "errors-auth",
    "unsupported_media_accepted": "errors-auth",
}
#: Rules a fault may break as well, by its nature (a body that breaks the spec also breaks the client).
ALSO: dict[str, set[str]] = {
    "pending_with_download_url": {"client"},
    "completed_missing_expires_at": {"schema"},
    "completed_with_error_message": {"client"},
    "failed_missing_error_message": {"client"},
    "failed_with_completed_at": {"schema"},
    "status_unknown": {"client", "lifecycle"},
    "status_wrong_case": {"client", "lifecycle"},
    "timestamp_malformed": {"client"},
    "link_javascript": {"schema", "client"},  # the spec's pattern says http(s) too
}


def test_catalogue_covers_every_rule_and_every_fault_of_the_fake() -> None:
    """Each rule has a faulty server; each REST fault the fake implements is in the catalogue (a fault added
    to the fake without an entry here would never be run). Webhook faults are tested in test_webhooks.py."""
    assert {rule.id for rule in RULES} <= set(CATALOGUE.values())
    source = (Path(__file__).parent / "fake_api.py").read_text(encoding="utf-8")
    implemented = set(re.findall(r'fault == "([a-z0-9_]+)"', source))
    rest = {fault for fault in implemented if not fault.startswith("webhook_")}
    assert rest, "no fault found in fake_api.py: the pattern above no longer matches its code"
    assert rest - set(CATALOGUE) == set()


@pytest.mark.parametrize("fault", sorted(CATALOGUE))
def test_fault_is_caught_by_its_rule(fake: RunningFake, tmp_path: Path, fault: str) -> None:
    """One test per faulty server (so the catalogue spreads over the workers); the catch rate is the count
    of these that pass."""
    rule = CATALOGUE[fault]
    run = run_fake(fake, tmp_path, fault, "--profile", "quick", "--max-requests", "40")
    unexpected = run.failed_rules - {rule} - ALSO.get(fault, set())
    assert run.code == 1 and rule in run.failed_rules and not unexpected, (
        f"{fault}: exit {run.code}, failed {sorted(run.failed_rules)}, expected {rule}\n{run.output}"
    )
