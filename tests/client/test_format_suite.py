"""The client's ``date-time`` and ``uri`` checks agree with JSON-Schema-Test-Suite (draft 2020-12).

The cases are the suite's own files, vendored with their provenance in ``data/json-schema-test-suite``. Cases
whose data is not a string are left out: they test that a format ignores non-strings, while the spec pairs
every format with ``type: string`` (the client rejects those by type, tested in test_parsing.py). Where the
client deliberately disagrees, the case is listed below with the reason, and the test fails if a listed
case stops disagreeing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from questionnaire_exports_client import _validation
from questionnaire_exports_client.api.exports import get_questionnaire_export
from questionnaire_exports_client.errors import ResponseValidationError
from questionnaire_exports_client.models import ExportCompleted

from .conftest import client_answering

SUITE = Path(__file__).parent / "data" / "json-schema-test-suite"
#: Valid by the suite, refused by the client, on purpose (documented in docs/using-the-client.md).
REFUSED_ON_PURPOSE = {
    "date-time": {
        "1998-12-31T23:59:60Z": "a leap second: Python's datetime cannot hold one",
        "1998-12-31T15:59:60.123-08:00": "a leap second: Python's datetime cannot hold one",
    },
    "uri": {
        "http://:80": "an authority with an empty host: nothing can be fetched from it",
        "http://user@": "an authority with an empty host: nothing can be fetched from it",
    },
}


def cases(name: str) -> list[Any]:
    groups = json.loads((SUITE / f"{name}.json").read_text(encoding="utf-8"))
    return [
        pytest.param(test["data"], test["valid"], id=f"{test['description']}: {test['data']!r}")
        for group in groups
        for test in group["tests"]
        if isinstance(test["data"], str)
    ]


def accepts(kind: str, value: str) -> bool:
    shape = _validation.Shape("suite", {"value": _validation.Field(kind)}, ["value"], closed=True)
    try:
        _validation.check_object(shape, {"value": value})
    except ResponseValidationError:
        return False
    return True


@pytest.mark.parametrize(("data", "valid"), cases("date-time"))
def test_date_time_agrees_with_the_suite(data: str, valid: bool, examples: dict[str, dict[str, Any]]) -> None:
    expected = valid and data not in REFUSED_ON_PURPOSE["date-time"]
    assert accepts("date-time", data) is expected
    # The same verdict through a real model and the HTTP path, not only the runtime function.
    body = {**examples["completed"], "completedAt": data}
    client = client_answering(body)

    if expected:
        assert isinstance(get_questionnaire_export.sync("id", client=client), ExportCompleted)
    else:
        with pytest.raises(ResponseValidationError) as caught:
            get_questionnaire_export.sync("id", client=client)
        assert caught.value.field == "completedAt"


@pytest.mark.parametrize(("data", "valid"), cases("uri"))
def test_uri_agrees_with_the_suite(data: str, valid: bool) -> None:
    assert accepts("uri", data) is (valid and data not in REFUSED_ON_PURPOSE["uri"])


@pytest.mark.parametrize("kind", sorted(REFUSED_ON_PURPOSE))
def test_every_documented_disagreement_is_still_one(kind: str) -> None:
    listed = {case.values[0]: case.values[1] for case in cases(kind)}
    for value in REFUSED_ON_PURPOSE[kind]:
        assert listed[value] is True, f"{value!r} is no longer in the suite as valid"
        assert not accepts(kind, value)
