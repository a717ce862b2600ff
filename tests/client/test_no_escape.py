"""Whatever the network sends, the generated client returns a result or raises its own documented tree.

Every public function of both operations (sync, sync_detailed, asyncio, asyncio_detailed; with and without
``raise_on_unexpected_status``) is driven through ``httpx.MockTransport`` with arbitrary status codes
(100-999), headers and bodies: arbitrary bytes, arbitrary JSON, JSON nested far too deep, huge numbers, and
each variant of the spec with one field mutated, removed or added. Anything outside
``QuestionnaireExportsError`` fails the property. Transport failures are every httpx error class.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from questionnaire_exports_client import (
    TRANSPORT_ERROR_KINDS,
    AuthenticatedClient,
    QuestionnaireExportsError,
    ResponseValidationError,
    TransportError,
    UnexpectedStatus,
)
from questionnaire_exports_client import models as client_models
from questionnaire_exports_client.api.exports import create_questionnaire_export, get_questionnaire_export
from questionnaire_exports_client.models import CreateQuestionnaireExportRequest

import contract

TOKEN = "tok-hostile-7d1e"
PROFILE = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
SLOW_PROFILE = settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
REQUEST = CreateQuestionnaireExportRequest(questionnaire_id="65a5d6e2f1a2b3c4d5e6f7a8", format_="csv")
VARIANT_BODIES = [contract.example_value(f"Export{s.capitalize()}") for s in contract.status_variants()]

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(["\udc80", "pen\ud800ding", "csv\udfff"]),  # lone surrogates, as JSON can carry
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def mutated_variant(draw: st.DrawFn) -> bytes:
    body = copy.deepcopy(draw(st.sampled_from(VARIANT_BODIES)))
    field = draw(st.sampled_from([*sorted(body), "downloadUrl", "errorMessage", "extra"]))
    action = draw(st.sampled_from(["set", "delete"]))
    if action == "delete":
        body.pop(field, None)
    else:
        body[field] = draw(
            JSON | st.sampled_from(["javascript:alert(1)", "ftp://x/y", "1990-12-31T10:00:00+10:60"])
        )
    return json.dumps(body).encode()


def deep(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


BODIES = st.one_of(
    st.binary(max_size=300),
    JSON.map(lambda v: json.dumps(v).encode()),
    mutated_variant(),
    st.integers(1_000, 100_000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(1_000, 100_000).map(deep),
    st.integers(4_301, 20_000).map(lambda n: b'{"id": ' + b"7" * n + b"}"),
    st.just(b'{"id": 1e999999}'),
)
HEADERS = st.dictionaries(
    st.sampled_from(["content-type", "retry-after", "content-encoding", "x-anything", "content-length"]),
    st.sampled_from(["application/json", "application/problem+json", "text/html", "gzip", "br", "5", "²"])
    | st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30),
    max_size=4,
)


def client_answering(
    status: int, headers: dict[str, str], body: bytes, *, raise_on_unexpected_status: bool
) -> AuthenticatedClient:
    raw_headers = [
        (name.encode(), value.encode()) for name, value in headers.items()
    ]  # bytes, as on the wire

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=raw_headers, content=body)

    return AuthenticatedClient(
        base_url="https://api.test/v1",
        token=TOKEN,
        raise_on_unexpected_status=raise_on_unexpected_status,
        httpx_args={"transport": httpx.MockTransport(handler)},
    )


def public_calls(client: AuthenticatedClient) -> list[Callable[[], object]]:
    async def async_calls() -> None:
        for call in (
            lambda: get_questionnaire_export.asyncio_detailed("id", client=client),
            lambda: get_questionnaire_export.asyncio("id", client=client),
            lambda: create_questionnaire_export.asyncio_detailed(client=client, body=REQUEST),
            lambda: create_questionnaire_export.asyncio(client=client, body=REQUEST),
        ):
            with contextlib.suppress(QuestionnaireExportsError):
                await call()

    return [
        lambda: get_questionnaire_export.sync_detailed("id", client=client),
        lambda: get_questionnaire_export.sync("id", client=client),
        lambda: create_questionnaire_export.sync_detailed(client=client, body=REQUEST),
        lambda: create_questionnaire_export.sync(client=client, body=REQUEST),
        lambda: asyncio.run(async_calls()),
    ]


def only_the_tree_escapes(client: AuthenticatedClient) -> None:
    for call in public_calls(client):
        try:
            call()
        except QuestionnaireExportsError as exc:
            assert TOKEN not in str(exc)
            str(exc).encode("utf-8")  # every message can be logged to a UTF-8 stream


@PROFILE
@given(st.integers(100, 999), HEADERS, BODIES, st.booleans())
def test_any_answer_gives_a_result_or_a_documented_error(
    status: int, headers: dict[str, str], body: bytes, strict: bool
) -> None:
    only_the_tree_escapes(client_answering(status, headers, body, raise_on_unexpected_status=strict))


@pytest.mark.slow
@SLOW_PROFILE
@given(st.integers(100, 999), HEADERS, BODIES, st.booleans())
def test_any_answer_gives_a_result_or_a_documented_error_at_length(
    status: int, headers: dict[str, str], body: bytes, strict: bool
) -> None:
    only_the_tree_escapes(client_answering(status, headers, body, raise_on_unexpected_status=strict))


@pytest.mark.parametrize("status", [499, 520, 522, 599, 999, 103])
def test_non_standard_status_codes_are_unexpected_status(status: int) -> None:
    client = client_answering(status, {}, b"<html>", raise_on_unexpected_status=False)
    for call in public_calls(client)[:4]:
        if status == 103:  # a standard code the spec does not document: None, as upstream
            assert call() is None or getattr(call(), "parsed", "x") is None
            continue
        with pytest.raises(UnexpectedStatus) as caught:
            call()
        assert caught.value.status_code == status and caught.value.content == b"<html>"


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, deep(100_000)], ids=["array", "object"])
def test_json_nested_too_deep_is_a_validation_error(body: bytes) -> None:
    client = client_answering(
        200, {"content-type": "application/json"}, body, raise_on_unexpected_status=True
    )
    with pytest.raises(
        ResponseValidationError, match="body is not valid JSON \\(nested too deep\\)"
    ) as caught:
        get_questionnaire_export.sync_detailed("id", client=client)
    assert caught.value.status_code == 200 and caught.value.content == body


def raising(exc: Exception) -> AuthenticatedClient:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return AuthenticatedClient(
        base_url="https://api.test/v1", token=TOKEN, httpx_args={"transport": httpx.MockTransport(handler)}
    )


def httpx_errors() -> list[type[httpx.HTTPError]]:
    """Every concrete httpx error class a transport or the client can raise (HTTPStatusError needs a response)."""
    found: list[type[httpx.HTTPError]] = []
    pending: list[type[httpx.HTTPError]] = [httpx.HTTPError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls is not httpx.HTTPStatusError:
            found.append(cls)
    return sorted(found, key=lambda c: c.__name__)


@pytest.mark.parametrize("error", httpx_errors(), ids=lambda c: c.__name__)
def test_every_httpx_error_becomes_a_transport_error(error: type[httpx.HTTPError]) -> None:
    client = raising(error(f"boom {TOKEN}"))
    for call in public_calls(client)[:4]:
        with pytest.raises(TransportError) as caught:
            call()
        assert caught.value.kind in TRANSPORT_ERROR_KINDS and caught.value.host == "api.test"
        assert TOKEN not in str(caught.value) and isinstance(caught.value.__cause__, error)
    asyncio.run(_async_raises(client))


async def _async_raises(client: AuthenticatedClient) -> None:
    with pytest.raises(TransportError):
        await get_questionnaire_export.asyncio_detailed("id", client=client)


@PROFILE
@given(st.sampled_from(sorted(contract.component_schemas())), JSON)
def test_from_dict_of_every_model_raises_only_validation_errors(schema_name: str, data: Any) -> None:
    model = getattr(client_models, schema_name, None)
    if model is None or not hasattr(model, "from_dict"):
        return
    with contextlib.suppress(ResponseValidationError):
        model.from_dict(data)


@pytest.mark.parametrize("field", ["id", "status", "format", "requestedAt"])
def test_a_lone_surrogate_is_refused_before_it_reaches_a_url(field: str) -> None:
    """An id like ``"\\udc80"`` would make ``quote()`` raise when the next request is built."""
    body = {**VARIANT_BODIES[0], field: "x\udc80"}
    client = client_answering(202, {}, json.dumps(body).encode(), raise_on_unexpected_status=True)
    with pytest.raises(ResponseValidationError) as caught:
        create_questionnaire_export.sync_detailed(client=client, body=REQUEST)
    assert caught.value.field == field
    str(caught.value).encode("utf-8")
