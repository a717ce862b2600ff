"""The `client` rule: the generated client must parse each 200/202 body into the class `status` names.

Why: the suite proves that client and server agree, not only that the server matches the spec.
"""

from __future__ import annotations

from typing import Any

import httpx
from questionnaire_exports_client.api.exports import create_questionnaire_export, get_questionnaire_export
from questionnaire_exports_client.client import Client
from questionnaire_exports_client.errors import ResponseValidationError

import contract
from contract import discriminator

_PARSERS: dict[str, Any] = {
    contract.CREATE_OP: create_questionnaire_export._parse_response,
    contract.GET_OP: get_questionnaire_export._parse_response,
}
_CLIENT = Client(base_url="http://client-parse-only.invalid")


def check_body(operation_id: str, response: httpx.Response, body: Any) -> list[str]:
    """Messages when the generated client rejects the body or yields the wrong class."""
    parser = _PARSERS.get(operation_id)
    if parser is None or str(response.status_code) not in contract.documented_statuses(operation_id):
        return []  # an undocumented status belongs to the lifecycle or errors-auth rule
    try:
        parsed = parser(client=_CLIENT, response=response)
    except ResponseValidationError as exc:
        return [f"generated client rejected the {response.status_code} body: {exc}"]
    except RecursionError:
        return [f"generated client could not parse the {response.status_code} body: nested too deeply"]
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        return [
            f"generated client could not parse the {response.status_code} body: {type(exc).__name__}: {exc}"
        ]
    prop, mapping = discriminator()
    if not isinstance(body, dict) or not isinstance(body.get(prop), str) or body[prop] not in mapping:
        return []  # no class to compare with; the schema rule names the bad tag
    expected = mapping[body[prop]]
    actual = type(parsed).__name__
    if actual != expected:
        return [f"{prop}={body[prop]}: generated client produced {actual}, expected {expected}"]
    return []
