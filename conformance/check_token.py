"""Token endpoint answers against `oauth-token.yaml`: a documented status, its media type, body and headers.

Why a check of its own: the token endpoint is not an operation of `openapi.yaml` (it lives on the origin,
outside `/v1`), so `Context.observe` cannot judge its answers; their findings belong to `errors-auth`.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin, urlsplit

from jsonschema.exceptions import ValidationError
from questionnaire_exports_client.redact import SECRET_JSON_MEMBERS

import contract

from .check_schema import error_messages
from .transport import Sent


def label() -> str:
    """How findings name the token endpoint."""
    return f"POST {contract.token_path()}"


def is_token_request(method: str, url: str, base_url: str | None) -> bool:
    """Whether a request is for the token endpoint: a POST to its path, on the API's origin when known."""
    parts = urlsplit(url)
    if method.upper() != "POST" or parts.path != contract.token_path():
        return False
    if base_url is None:
        return True
    base = urlsplit(base_url)
    return (parts.scheme, parts.netloc.lower()) == (base.scheme, base.netloc.lower())


def _messages(errors: list[ValidationError]) -> list[str]:
    """`error_messages`, except that a credential member's value is never quoted: jsonschema quotes it as
    Python spells it (`'a\\x01b'`), which is not how the redactor learned it from the JSON (`a\\u0001b`)."""
    shown: list[ValidationError] = []
    described = []
    for error in errors:
        path = ".".join(map(str, error.absolute_path))
        if error.absolute_path and str(error.absolute_path[0]) in SECRET_JSON_MEMBERS:
            described.append(
                f"field {path}: fails {error.validator} {error.validator_value!r} (value not shown)"
            )
        else:
            shown.append(error)
    return [*error_messages(shown), *described]


def check_answer(sent: Sent, url: str) -> list[str]:
    """Every way one token endpoint answer breaks the document (empty when it conforms)."""
    status = sent.status
    prefix = f"token endpoint {status}: "
    if sent.cut:
        return [f"{prefix}the answer was cut: {sent.cut}"]
    documented = contract.token_media_types(status)
    if documented is None:
        where = ""
        if 300 <= status < 400:
            location = sent.response.headers.get("location", "")
            where = (
                f" (a redirect to {urlsplit(urljoin(url, location)).netloc or '(no Location)'}; not followed)"
            )
        return [f"{prefix}a status oauth-token.yaml does not document{where}"]
    out = []
    for name in contract.token_required_headers(status):
        value = sent.response.headers.get(name)
        pattern = contract.token_header_pattern(status, name)
        if value is None:
            out.append(f"{prefix}missing the required header {name}")
        elif pattern is not None and re.search(pattern, value) is None:
            out.append(f"{prefix}header {name} {value!r} does not match {pattern!r}")
    if sent.media_type not in documented:
        shown = sent.media_type or "(none)"
        return [*out, f"{prefix}Content-Type {shown} is not one of {', '.join(documented)}"]
    validator = contract.token_validator(status, sent.media_type)
    if validator is None:
        return out
    try:
        body = json.loads(sent.response.content)
        messages = _messages(list(validator.iter_errors(body)))
    except (ValueError, RecursionError):
        return [*out, f"{prefix}the body is not JSON (or nested too deeply)"]
    return [*out, *(prefix + message for message in messages)]
