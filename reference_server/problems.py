"""RFC 9457 problem responses (``application/problem+json``), the only error shape the server emits."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem(
    status: int,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    invalid_params: Sequence[tuple[str, str]] = (),
) -> Response:
    """A problem response; ``invalid_params`` is a list of ``(name, reason)`` pairs (for ``400``)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if invalid_params:
        body["invalid-params"] = [{"name": name, "reason": reason} for name, reason in invalid_params]
    try:
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in a message: escape it rather than fail
        content = json.dumps(body).encode("ascii")
    return Response(
        content,
        status_code=status,
        headers=dict(headers or {}),
        media_type=PROBLEM_MEDIA_TYPE,
    )
