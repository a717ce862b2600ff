"""The faulty-server catalogue, seen through recorded traffic: each fault that shows in traffic is caught by
the rule `run` names for it, with one finding per rule it breaks, however often the traffic repeats it.

The traffic is what a real client sends (`flows.client_session`): the helpers' create, wait and download
flows plus a careless client's requests. Faults only probing can reveal are listed with the reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conformance.fake_api import RunningFake
from ..conformance.test_catalogue import ALSO, CATALOGUE
from .conftest import Checked, check_entries, fake_api
from .flows import client_session
from .recorder import RecordingTransport

#: fault -> every rule its traffic breaks (the catalogue's rule among them), one finding each.
TRAFFIC: dict[str, set[str]] = {
    "pending_with_download_url": {"schema", "client"},
    "completed_missing_expires_at": {"client", "schema"},
    "completed_with_error_message": {"schema", "client"},
    "failed_missing_error_message": {"schema", "client"},
    "failed_with_completed_at": {"client", "schema"},
    "status_unknown": {"schema", "client"},  # run also reports lifecycle: its poll never ends
    "status_wrong_case": {"schema", "client"},
    "timestamp_malformed": {"schema", "client"},
    "get_wrong_content_type": {"schema"},
    "error_problem_missing_title": {"schema"},
    "format_not_echoed": {"lifecycle"},
    "id_not_echoed": {"lifecycle"},
    "post_200": {"lifecycle"},
    "terminal_regresses": {"lifecycle"},
    "completed_at_changes": {"lifecycle"},
    "completed_before_requested": {"time"},
    "completed_in_future": {"time"},
    "expires_short": {"time"},
    "expires_too_long": {"time"},
    "link_stale": {"link"},
    "link_not_https": {"link"},
    "link_javascript": {"link", "schema", "client"},
    "auth_missing_ignored": {"errors-auth"},
    "bad_input_500": {"errors-auth"},
    "bad_input_accepted": {"errors-auth"},
    "error_not_problem_json": {"errors-auth"},
    "unsupported_media_accepted": {"errors-auth"},
}
_STORAGE = "downloads go to the storage host, outside the API's paths; check-traffic does not judge them"
#: fault -> why passive traffic cannot show it (its traffic must then be judged conforming, not misread).
NOT_IN_TRAFFIC: dict[str, str] = {
    "never_terminal": "the contract sets no deadline: a capture ending while an export is pending is no fault",
    "link_expired": _STORAGE,
    "link_dead": _STORAGE,
    "download_wrong_content_type": _STORAGE,
    "download_empty": _STORAGE,
    "download_requires_token": _STORAGE,
    "unknown_id_200": "an unknown id cannot be told from an export created before the capture (404 then 200 "
    "for one id is caught: test_judge_rules)",
    "auth_wrong_ignored": "a wrong token cannot be told from a right one (a HAR may not even hold it)",
    "unknown_questionnaire_202": "an unknown questionnaire cannot be told from a known one",
}
#: Faults whose traffic shows only before the export finishes: the fake keeps it pending, the flow does not wait.
_PENDING = frozenset({"pending_with_download_url", "never_terminal"})


def _recorded(fake: RunningFake, tmp: Path, fault: str, *extra: str) -> Checked:
    fake.config.fault = fault
    fake.config.export_delay = 60.0 if fault in _PENDING else 0.05
    transport = RecordingTransport()
    try:
        client_session(fake_api(fake), transport, tmp, wait=fault not in _PENDING)
    finally:
        fake.config.fault, fake.config.export_delay = None, 0.05
        transport.close()
    return check_entries(tmp, transport.entries, *extra)


def test_every_catalogue_fault_is_either_checked_or_explained() -> None:
    assert set(TRAFFIC) | set(NOT_IN_TRAFFIC) == set(CATALOGUE)
    assert not set(TRAFFIC) & set(NOT_IN_TRAFFIC)
    for fault, rules in TRAFFIC.items():  # the rule run names, and only rules run may name as well
        assert CATALOGUE[fault] in rules and rules <= {CATALOGUE[fault]} | ALSO.get(fault, set()), fault


@pytest.mark.parametrize("fault", sorted(TRAFFIC))
def test_fault_in_traffic_is_caught_by_its_rule_once(
    traffic_fake: RunningFake, tmp_path: Path, fault: str
) -> None:
    checked = _recorded(traffic_fake, tmp_path, fault)
    findings = checked.report["findings"]
    assert checked.code == 1, checked.output
    assert checked.failed_rules == TRAFFIC[fault], checked.output
    assert sorted(f["rule"] for f in findings) == sorted(TRAFFIC[fault]), checked.output
    assert all(isinstance(f["entry"], int) and f["at"] for f in findings)


@pytest.mark.parametrize("fault", sorted(NOT_IN_TRAFFIC))
def test_fault_not_in_traffic_is_not_misattributed(
    traffic_fake: RunningFake, tmp_path: Path, fault: str
) -> None:
    checked = _recorded(traffic_fake, tmp_path, fault)
    assert checked.code == 0 and checked.report["findings"] == [], checked.output


def test_the_correct_fake_traffic_conforms(traffic_fake: RunningFake, tmp_path: Path) -> None:
    transport = RecordingTransport()
    client_session(fake_api(traffic_fake), transport, tmp_path)
    checked = check_entries(tmp_path, transport.entries)
    assert checked.code == 0, checked.output
    assert set(checked.outcomes.values()) == {"passed"}, checked.outcomes
