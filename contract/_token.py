"""The token endpoint, read from ``oauth-token.yaml``, and the OAuth schemes ``openapi.yaml`` declares.

Why a document of its own: the endpoint lives on the origin, outside ``/v1``, and is called by the client's
``ClientCredentials`` helper; as a path of ``openapi.yaml`` it would become a generated operation bound to
the wrong base URL. Its schemas validate the server's token requests and the suite's token answers.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, cast

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ._load import format_checker, load_spec
from ._refs import escape

#: The token endpoint's document, shipped inside this package (a link to the top-level ``oauth-token.yaml``).
TOKEN_SPEC_PATH = Path(__file__).resolve().parent / "oauth-token.yaml"

# Hierarchical base URIs, so the token document's ``openapi.yaml#/...`` references resolve.
_BASE = "https://contract.invalid/"
_TOKEN_URI = _BASE + "oauth-token.yaml"


@functools.cache
def load_token_spec() -> dict[str, Any]:
    """The parsed token endpoint document (cached; treat it as read-only)."""
    with TOKEN_SPEC_PATH.open(encoding="utf-8") as handle:
        return cast(dict[str, Any], yaml.safe_load(handle))


def _operation() -> tuple[str, dict[str, Any]]:
    ((path, item),) = load_token_spec()["paths"].items()
    return path, cast(dict[str, Any], item["post"])


def token_path() -> str:
    """The token endpoint's path on the API's origin (``/oauth/token``)."""
    return _operation()[0]


def token_operation_id() -> str:
    return str(_operation()[1]["operationId"])


def token_schema(name: str) -> dict[str, Any]:
    """``components/schemas/<name>`` of the token document (``TokenRequest``, ``TokenResponse``, ``TokenError``)."""
    return cast(dict[str, Any], load_token_spec()["components"]["schemas"][name])


def token_error_codes() -> list[str]:
    """The RFC 6749 ``error`` codes the token endpoint may answer."""
    return [str(code) for code in token_schema("TokenError")["properties"]["error"]["enum"]]


def token_statuses() -> list[int]:
    """The statuses the token endpoint documents, in document order."""
    return [int(status) for status in _operation()[1]["responses"]]


def token_media_types(status: int) -> list[str] | None:
    """Documented media types of a token endpoint answer, or None when the status is not documented."""
    response = _operation()[1]["responses"].get(str(status))
    return None if response is None else list(response.get("content", {}))


def token_required_headers(status: int) -> list[str]:
    """Headers a token endpoint answer with ``status`` must carry (lower-case names)."""
    response = _operation()[1]["responses"].get(str(status), {})
    return [name.lower() for name, header in response.get("headers", {}).items() if header.get("required")]


def token_header_pattern(status: int, name: str) -> str | None:
    """The ``pattern`` a documented answer header must match, or None."""
    for header, spec in _operation()[1]["responses"].get(str(status), {}).get("headers", {}).items():
        if header.lower() == name.lower():
            pattern = spec.get("schema", {}).get("pattern")
            return None if pattern is None else str(pattern)
    return None


@functools.cache
def _registry() -> Registry[Any]:
    token = Resource.from_contents(load_token_spec(), default_specification=DRAFT202012)
    api = Resource.from_contents(load_spec(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resources([(_TOKEN_URI, token), (_BASE + "openapi.yaml", api)])
    return registry


@functools.cache
def token_validator(status: int, media_type: str) -> Draft202012Validator | None:
    """A validator (formats checked) for a documented token endpoint answer body, else None."""
    response = _operation()[1]["responses"].get(str(status))
    if response is None or media_type not in response.get("content", {}):
        return None
    pointer = f"/paths/{escape(token_path())}/post/responses/{status}/content/{escape(media_type)}/schema"
    return Draft202012Validator(
        {"$ref": f"{_TOKEN_URI}#{pointer}"}, registry=_registry(), format_checker=format_checker()
    )


@functools.cache
def token_request_validator() -> Draft202012Validator:
    """A validator for the token request body (``TokenRequest``)."""
    return Draft202012Validator(
        {"$ref": f"{_TOKEN_URI}#/components/schemas/TokenRequest"},
        registry=_registry(),
        format_checker=format_checker(),
    )


def oauth_token_urls() -> dict[str, str]:
    """``{scheme name: token URL}`` of the client-credentials schemes ``openapi.yaml`` declares."""
    schemes = load_spec()["components"]["securitySchemes"]
    return {
        name: str(scheme["flows"]["clientCredentials"]["tokenUrl"])
        for name, scheme in schemes.items()
        if scheme.get("type") == "oauth2" and "clientCredentials" in scheme.get("flows", {})
    }


def oauth_scopes() -> dict[str, str]:
    """``{scope: description}`` of the client-credentials flow (the same for every host)."""
    schemes = load_spec()["components"]["securitySchemes"]
    for scheme in schemes.values():
        if scheme.get("type") == "oauth2" and "clientCredentials" in scheme.get("flows", {}):
            return {str(k): str(v) for k, v in scheme["flows"]["clientCredentials"]["scopes"].items()}
    return {}
