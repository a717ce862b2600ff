from http import HTTPStatus
from typing import Any

import httpx

from ... import _transport, _validation, errors
from ...client import AuthenticatedClient, Client
from ...models.create_questionnaire_export_request import CreateQuestionnaireExportRequest
from ...models.export_pending import ExportPending
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    *,
    body: CreateQuestionnaireExportRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/customer-trust/questionnaires/exports",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ExportPending | Problem | None:
    if response.status_code == 202:
        response_202 = ExportPending.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ExportPending | Problem]:
    try:
        status_code = HTTPStatus(response.status_code)
    except ValueError:
        raise errors.UnexpectedStatus(response.status_code, response.content) from None
    try:
        parsed = _parse_response(client=client, response=response)
    except errors.ResponseValidationError as error:
        raise error.with_response(response.status_code, response.content) from None
    except (ValueError, RecursionError) as error:  # response.json() on a body that is not JSON, or too deep
        reason = "nested too deep" if isinstance(error, RecursionError) else _validation.brief(error)
        raise errors.ResponseValidationError(f"body is not valid JSON ({reason})").with_response(
            response.status_code, response.content
        ) from None
    return Response(
        status_code=status_code,
        content=response.content,
        headers=response.headers,
        parsed=parsed,
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: CreateQuestionnaireExportRequest,
) -> Response[ExportPending | Problem]:
    """Create a questionnaire export

     Queues an export of a questionnaire. Answers `202` with the `pending` export; follow it with
    `getQuestionnaireExport` (see the `links` of the response) or wait for a webhook.

    Args:
        body (CreateQuestionnaireExportRequest): What to export, and in which format. No other
            keys are allowed.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True, or a code that is no standard HTTP status.
        errors.ResponseValidationError: If the response body breaks the spec (a field missing, extra or malformed for its status), is not JSON, or is nested too deep.
        errors.TransportError: If no HTTP answer arrives (DNS, refused, TLS, timeout, ...); the httpx error is its __cause__.

    Returns:
        Response[ExportPending | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    try:
        response = client.get_httpx_client().request(**kwargs)
    except httpx.HTTPError as exc:
        raise _transport.failure(
            "create_questionnaire_export", exc, client._base_url, getattr(client, "token", None)
        ) from exc

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: CreateQuestionnaireExportRequest,
) -> ExportPending | Problem | None:
    """Create a questionnaire export

     Queues an export of a questionnaire. Answers `202` with the `pending` export; follow it with
    `getQuestionnaireExport` (see the `links` of the response) or wait for a webhook.

    Args:
        body (CreateQuestionnaireExportRequest): What to export, and in which format. No other
            keys are allowed.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True, or a code that is no standard HTTP status.
        errors.ResponseValidationError: If the response body breaks the spec (a field missing, extra or malformed for its status), is not JSON, or is nested too deep.
        errors.TransportError: If no HTTP answer arrives (DNS, refused, TLS, timeout, ...); the httpx error is its __cause__.

    Returns:
        ExportPending | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: CreateQuestionnaireExportRequest,
) -> Response[ExportPending | Problem]:
    """Create a questionnaire export

     Queues an export of a questionnaire. Answers `202` with the `pending` export; follow it with
    `getQuestionnaireExport` (see the `links` of the response) or wait for a webhook.

    Args:
        body (CreateQuestionnaireExportRequest): What to export, and in which format. No other
            keys are allowed.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True, or a code that is no standard HTTP status.
        errors.ResponseValidationError: If the response body breaks the spec (a field missing, extra or malformed for its status), is not JSON, or is nested too deep.
        errors.TransportError: If no HTTP answer arrives (DNS, refused, TLS, timeout, ...); the httpx error is its __cause__.

    Returns:
        Response[ExportPending | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    try:
        response = await client.get_async_httpx_client().request(**kwargs)
    except httpx.HTTPError as exc:
        raise _transport.failure(
            "create_questionnaire_export", exc, client._base_url, getattr(client, "token", None)
        ) from exc

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: CreateQuestionnaireExportRequest,
) -> ExportPending | Problem | None:
    """Create a questionnaire export

     Queues an export of a questionnaire. Answers `202` with the `pending` export; follow it with
    `getQuestionnaireExport` (see the `links` of the response) or wait for a webhook.

    Args:
        body (CreateQuestionnaireExportRequest): What to export, and in which format. No other
            keys are allowed.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True, or a code that is no standard HTTP status.
        errors.ResponseValidationError: If the response body breaks the spec (a field missing, extra or malformed for its status), is not JSON, or is nested too deep.
        errors.TransportError: If no HTTP answer arrives (DNS, refused, TLS, timeout, ...); the httpx error is its __cause__.

    Returns:
        ExportPending | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
