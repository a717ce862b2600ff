"""create_export and create_and_wait: which failures repeat the POST, and one deadline for both steps."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import httpx
import pytest
from questionnaire_exports_client import TransportError
from questionnaire_exports_client.lib import (
    Backoff,
    ExportApiError,
    WaitTimeout,
    create_and_wait,
    create_and_wait_async,
    create_export,
)
from questionnaire_exports_client.models import ExportCompleted, ExportPending

from .conftest import TOKEN, FakeTime, ScriptedApi, export_body, fail, ok, spec_example

QUESTIONNAIRE_ID = spec_example("CreateCsv")["questionnaireId"]
FAST = Backoff(min_delay=1.0, max_delay=4.0)


def accepted() -> httpx.Response:
    return httpx.Response(202, json=export_body("pending", format="csv"))


def timing(fake_time: FakeTime) -> dict[str, Any]:
    return {"backoff": FAST, "clock": fake_time.clock, "sleep": fake_time.sleep, "rng": random.Random(3)}


def test_create_and_wait_posts_then_polls(api: ScriptedApi, fake_time: FakeTime) -> None:
    api.add(accepted(), ok("pending", format="csv"), ok("completed", format="csv"))
    result = create_and_wait(api.client(), QUESTIONNAIRE_ID, format_="csv", timeout=60, **timing(fake_time))
    assert isinstance(result, ExportCompleted) and result.format_ == "csv"
    post = api.requests[0]
    assert post.method == "POST" and json.loads(post.content) == spec_example("CreateCsv")
    assert [r.method for r in api.requests[1:]] == ["GET", "GET"]


@pytest.mark.parametrize("status", [429, 503])
def test_create_repeats_when_not_processed(api: ScriptedApi, fake_time: FakeTime, status: int) -> None:
    api.add(fail(status, retry_after="5"), accepted())
    created = create_export(api.client(), QUESTIONNAIRE_ID, format_="csv", timeout=60, **timing(fake_time))
    assert isinstance(created, ExportPending)
    assert fake_time.sleeps == [5.0]


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("[Errno 101] Network is unreachable"), httpx.ConnectTimeout("timed out")],
    ids=["unreachable", "connect-timeout"],
)
def test_create_repeats_after_a_connection_that_was_never_made(
    api: ScriptedApi, fake_time: FakeTime, failure: Exception
) -> None:
    api.add(failure, accepted())
    assert isinstance(
        create_export(api.client(), QUESTIONNAIRE_ID, format_="csv", timeout=60, **timing(fake_time)),
        ExportPending,
    )


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "refused"),
        (httpx.ConnectError("[Errno -2] Name or service not known"), "dns"),
        (httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), "tls"),
    ],
    ids=["refused", "dns", "tls"],
)
def test_create_and_wait_fails_fast_on_what_will_not_heal(
    api: ScriptedApi, fake_time: FakeTime, failure: Exception, kind: str
) -> None:
    api.add(failure)
    with pytest.raises(TransportError) as caught:
        create_and_wait(api.client(), QUESTIONNAIRE_ID, format_="csv", timeout=300, **timing(fake_time))
    assert len(api.requests) == 1 and fake_time.sleeps == []
    assert caught.value.kind == kind and caught.value.host == "api.test"
    assert "create_questionnaire_export on api.test" in str(caught.value) and TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout("timed out"), httpx.Response(502, text="bad gateway")],
    ids=["read-timeout", "502"],
)
def test_create_does_not_repeat_when_it_may_have_been_processed(
    api: ScriptedApi, fake_time: FakeTime, failure: Any
) -> None:
    api.add(failure)
    with pytest.raises((TransportError, ExportApiError)) as caught:
        create_export(api.client(), QUESTIONNAIRE_ID, format_="csv", timeout=60, **timing(fake_time))
    assert len(api.requests) == 1
    assert "api.test" in str(caught.value)


def test_bad_request_is_reported_with_its_problem(api: ScriptedApi, fake_time: FakeTime) -> None:
    api.add(fail(400))
    with pytest.raises(ExportApiError) as caught:
        create_export(api.client(), QUESTIONNAIRE_ID, format_="csv", timeout=60, **timing(fake_time))
    assert caught.value.status_code == 400
    assert (
        str(caught.value)
        == "createQuestionnaireExport on api.test: HTTP 400: Bad Request: format: must be one of original, csv"
    )


def test_create_gives_up_at_the_deadline(api: ScriptedApi, fake_time: FakeTime) -> None:
    api.add(*[fail(429, retry_after="4") for _ in range(3)])
    with pytest.raises(WaitTimeout) as caught:
        create_export(api.client(), QUESTIONNAIRE_ID, format_="csv", timeout=10, **timing(fake_time))
    assert fake_time.sleeps == [4.0, 4.0] and caught.value.last_error == "HTTP 429"
    assert caught.value.last_status_code == 429 and caught.value.host == "api.test"
    assert str(caught.value).startswith("createQuestionnaireExport on api.test: export not created after ")
    assert str(caught.value).endswith(" and 3 attempts; last attempt: HTTP 429")


def test_one_deadline_covers_create_and_wait(api: ScriptedApi, fake_time: FakeTime) -> None:
    api.add(fail(429, retry_after="6"), accepted(), *[ok("pending") for _ in range(10)])
    start = fake_time.now
    with pytest.raises(WaitTimeout) as caught:
        create_and_wait(api.client(), QUESTIONNAIRE_ID, format_="csv", timeout=10, **timing(fake_time))
    api.script.clear()
    assert fake_time.now - start <= 10
    assert caught.value.export_id == export_body("pending")["id"]


def test_empty_questionnaire_id_is_rejected(api: ScriptedApi) -> None:
    with pytest.raises(ValueError, match="questionnaire_id"):
        create_and_wait(api.client(), "", format_="csv", timeout=5)


def test_async_create_and_wait(api: ScriptedApi, fake_time: FakeTime) -> None:
    api.add(fail(429, retry_after="2"), accepted(), ok("completed"))
    result = asyncio.run(
        create_and_wait_async(
            api.client(),
            QUESTIONNAIRE_ID,
            format_="original",
            timeout=30,
            backoff=FAST,
            clock=fake_time.clock,
            sleep=fake_time.async_sleep,
        )
    )
    assert isinstance(result, ExportCompleted) and fake_time.sleeps == [2.0]
