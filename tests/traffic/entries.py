"""Hand-made `Recorded` entries for rule tests: a base URL, a clock, bodies built from the spec's fields."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import contract
from conformance.traffic.recorded import Recorded

BASE = "https://api.example.test/v1"
TOKEN = "unit-test-token-7Hq2Rm9X"
START = datetime(2025, 1, 8, 12, 0, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Traffic:
    """Builds entries one after the other, a second apart, each answered at its own `Date`."""

    base: str = BASE
    entries: list[Recorded] = field(default_factory=list)
    offset: float = 0.0  # seconds added to every later entry's time

    @property
    def now(self) -> datetime:
        return START + timedelta(seconds=len(self.entries) + self.offset)

    def add(
        self,
        method: str,
        path: str,
        status: int,
        body: Any = None,
        *,
        request: Any = None,
        token: bool = True,
        media: str | None = None,
        request_media: str = "application/json",
        raw: bytes | None = None,
        url: str | None = None,
    ) -> Recorded:
        request_headers = [("Authorization", f"Bearer {TOKEN}")] if token else []
        request_body = None
        if request is not None:
            request_headers.append(("Content-Type", request_media))
            request_body = json.dumps(request).encode()
        content = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        kind = media or ("application/problem+json" if status >= 400 else "application/json")
        recorded = Recorded(
            index=len(self.entries),
            started=self.now,
            method=method,
            url=url or self.base + path,
            request_headers=tuple(request_headers),
            request_body=request_body,
            status=status,
            response_headers=(("Content-Type", kind), ("Date", format_datetime(self.now, usegmt=True))),
            response_body=content,
        )
        self.entries.append(recorded)
        return recorded

    def create(
        self, export_id: str, fmt: str = "csv", *, status: int = 202, echo: str | None = None
    ) -> Recorded:
        body = {"id": export_id, "status": "pending", "format": echo or fmt, "requestedAt": iso(START)}
        path = contract.operations()[contract.CREATE_OP].path
        return self.add("POST", path, status, body, request=contract.create_body("q-1", fmt))

    def get(
        self, export_id: str, status: str = "pending", fmt: str = "csv", *, token: bool = True, **changes: Any
    ) -> Recorded:
        body = {**export(export_id, status, fmt, self.now), **changes}
        return self.add("GET", _path(export_id), 200, body, token=token)

    def missing(self, export_id: str) -> Recorded:
        problem = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "No export."}
        return self.add("GET", _path(export_id), 404, problem)


def _path(export_id: str) -> str:
    return contract.operation_path(contract.GET_OP, id=export_id)


def export(export_id: str, status: str, fmt: str, now: datetime) -> dict[str, Any]:
    """A valid body of `status`, answered at `now` (a rolling 24 h link)."""
    body: dict[str, Any] = {"id": export_id, "status": "pending", "format": fmt, "requestedAt": iso(START)}
    done = iso(START + timedelta(seconds=1))
    if status == "completed":
        link = f"https://storage.example.test/files/{export_id}.csv?expires=1&signature=s3cr3t-sig"
        body.update(
            status=status, completedAt=done, downloadUrl=link, expiresAt=iso(now + timedelta(hours=24))
        )
    elif status == "failed":
        body.update(status=status, failedAt=done, errorMessage="Unsupported question types.")
    return body
