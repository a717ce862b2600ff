from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ... import _transport, _validation, errors
from ...client import AuthenticatedClient, Client
from ...models.export_completed import ExportCompleted
from ...models.export_failed import ExportFailed
from ...models.export_pending import ExportPending
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/customer-trust/questionnaires/exports/{id}".format(
            id=quote(str(id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ExportCompleted | ExportFailed | ExportPending | Problem | None:
    if response.status_code == 200:

        def _parse_response_200(data: object) -> ExportCompleted | ExportFailed | ExportPending:
            parsed = _validation.dispatch(
                data,
                "status",
                {
                    "pending": ExportPending.from_dict,
                    "completed": ExportCompleted.from_dict,
                    "failed": ExportFailed.from_dict,
                },
            )
            return cast(ExportCompleted | ExportFailed | ExportPending, parsed)

        response_200 = _parse_response_200(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ExportCompleted | ExportFailed | ExportPending | Problem]:
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
    id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[ExportCompleted | ExportFailed | ExportPending | Problem]:
    """Get questionnaire export status

     Retrieves the current status and result of a questionnaire export using the id received from
    `createQuestionnaireExport` or from a webhook event's `export.id`. Check `status` before reading
    result-specific fields: `downloadUrl` exists only when `completed`, `errorMessage` only when
    `failed`. Each call on a completed export returns a fresh `downloadUrl` valid for 24 hours.

    Args:
        id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True, or a code that is no standard HTTP status.
        errors.ResponseValidationError: If the response body breaks the spec (a field missing, extra or malformed for its status), is not JSON, or is nested too deep.
        errors.TransportError: If no HTTP answer arrives (DNS, refused, TLS, timeout, ...); the httpx error is its __cause__.

    Returns:
        Response[ExportCompleted | ExportFailed | ExportPending | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
    )

    try:
        response = client.get_httpx_client().request(**kwargs)
    except httpx.HTTPError as exc:
        raise _transport.failure(
            "get_questionnaire_export", exc, client._base_url, getattr(client, "token", None)
        ) from exc

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient | Client,
) -> ExportCompleted | ExportFailed | ExportPending | Problem | None:
    """Get questionnaire export status

     Retrieves the current status and result of a questionnaire export using the id received from
    `createQuestionnaireExport` or from a webhook event's `export.id`. Check `status` before reading
    result-specific fields: `downloadUrl` exists only when `completed`, `errorMessage` only when
    `failed`. Each call on a completed export returns a fresh `downloadUrl` valid for 24 hours.

    Args:
        id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True, or a code that is no standard HTTP status.
        errors.ResponseValidationError: If the response body breaks the spec (a field missing, extra or malformed for its status), is not JSON, or is nested too deep.
        errors.TransportError: If no HTTP answer arrives (DNS, refused, TLS, timeout, ...); the httpx error is its __cause__.

    Returns:
        ExportCompleted | ExportFailed | ExportPending | Problem
    """

    return sync_detailed(
        id=id,
        client=client,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[ExportCompleted | ExportFailed | ExportPending | Problem]:
    """Get questionnaire export status

     Retrieves the current status and result of a questionnaire export using the id received from
    `createQuestionnaireExport` or from a webhook event's `export.id`. Check `status` before reading
    result-specific fields: `downloadUrl` exists only when `completed`, `errorMessage` only when
    `failed`. Each call on a completed export returns a fresh `downloadUrl` valid for 24 hours.

    Args:
        id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True, or a code that is no standard HTTP status.
        errors.ResponseValidationError: If the response body breaks the spec (a field missing, extra or malformed for its status), is not JSON, or is nested too deep.
        errors.TransportError: If no HTTP answer arrives (DNS, refused, TLS, timeout, ...); the httpx error is its __cause__.

    Returns:
        Response[ExportCompleted | ExportFailed | ExportPending | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
    )

    try:
        response = await client.get_async_httpx_client().request(**kwargs)
    except httpx.HTTPError as exc:
        raise _transport.failure(
            "get_questionnaire_export", exc, client._base_url, getattr(client, "token", None)
        ) from exc

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient | Client,
) -> ExportCompleted | ExportFailed | ExportPending | Problem | None:
    """Get questionnaire export status

     Retrieves the current status and result of a questionnaire export using the id received from
    `createQuestionnaireExport` or from a webhook event's `export.id`. Check `status` before reading
    result-specific fields: `downloadUrl` exists only when `completed`, `errorMessage` only when
    `failed`. Each call on a completed export returns a fresh `downloadUrl` valid for 24 hours.

    Args:
        id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True, or a code that is no standard HTTP status.
        errors.ResponseValidationError: If the response body breaks the spec (a field missing, extra or malformed for its status), is not JSON, or is nested too deep.
        errors.TransportError: If no HTTP answer arrives (DNS, refused, TLS, timeout, ...); the httpx error is its __cause__.

    Returns:
        ExportCompleted | ExportFailed | ExportPending | Problem
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
        )
    ).parsed
