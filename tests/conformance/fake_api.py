"""A small, configurable fake of the export API: correct by default, with one switch per catalogue fault.

Why a dedicated fake: the catalogue must break exactly one rule per entry, which is easiest when every
fault is a single, visible `if` in a server written for that purpose. It runs on 127.0.0.1, port 0, in a
background thread, and delivers Svix-signed webhooks when asked to.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from questionnaire_exports_client.lib import webhook_signature
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contract import component_schema
from reference_server.serving import serve_in_thread

TOKEN = "fake-token-Zq8vS3cr3tValue"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"fake-webhook-secret-key-32bytes!").decode()
OK_QUESTIONNAIRE = "65a5d6e2f1a2b3c4d5e6f7a8"
DOC_QUESTIONNAIRE = "65a5d6e2f1a2b3c4d5e6f7b9"
FAILING_QUESTIONNAIRE = "65a5d6e2f1a2b3c4d5e6f7ff"
LINK_LIFETIME = timedelta(hours=24)
_SIGNING_KEY = b"fake-storage-signing-key"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MAX_CREATE_BODY = 64 * 1024


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


@dataclass
class FakeExport:
    id: str
    questionnaire_id: str
    format: str
    requested_at: datetime
    fails: bool
    gets: int = 0
    last_expires: datetime | None = None


@dataclass
class FakeConfig:
    """What the fake does; `fault` names at most one catalogue entry."""

    fault: str | None = None
    export_delay: float = 0.05
    webhook_url: str | None = None
    webhook_secret: str = WEBHOOK_SECRET


@dataclass
class FakeState:
    config: FakeConfig
    exports: dict[str, FakeExport] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""
    posts: int = 0  # every POST received, valid or not


def _formats() -> list[str]:
    return list(component_schema("ExportFormat")["enum"])


def _sign_link(export_id: str, expires: int) -> str:
    return hmac.new(_SIGNING_KEY, f"{export_id}:{expires}".encode(), hashlib.sha256).hexdigest()


class FakeApi:
    """The Starlette app and its routes; every fault is a branch on `self.fault`."""

    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.app = Starlette(
            routes=[
                Route("/v1/customer-trust/questionnaires/exports", self.create, methods=["POST"]),
                Route("/v1/customer-trust/questionnaires/exports/{id}", self.get, methods=["GET"]),
                Route("/files/{id}", self.download, methods=["GET"]),
            ]
        )

    @property
    def fault(self) -> str | None:
        return self.state.config.fault

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization")
        if self.fault == "auth_missing_ignored" and header is None:
            return True
        if self.fault == "auth_wrong_ignored" and header is not None:
            return True
        return header == f"Bearer {TOKEN}"

    def _error(self, status: int, title: str, detail: str, **extra: Any) -> Response:
        if self.fault == "error_not_problem_json":
            return JSONResponse({"error": detail}, status_code=status)
        if self.fault == "error_problem_missing_title":
            body: dict[str, Any] = {"type": "about:blank", "status": status, "detail": detail}
            return JSONResponse(body, status_code=status, media_type="application/problem+json")
        response = _problem(status, title, detail, **extra)
        if status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    async def create(self, request: Request) -> Response:
        with self.state.lock:
            self.state.posts += 1
        if not self._authorized(request):
            return self._error(401, "Unauthorized", "Missing or invalid bearer token.")
        raw = await request.body()
        if len(raw) > MAX_CREATE_BODY:
            return self._error(413, "Content Too Large", f"The request body exceeds {MAX_CREATE_BODY} bytes.")
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json" and self.fault != "unsupported_media_accepted":
            return self._error(415, "Unsupported Media Type", "Content-Type must be application/json.")
        try:
            body = json.loads(raw)
        except ValueError:
            if self.fault == "bad_input_500":
                return Response("Internal Server Error", status_code=500)
            return self._error(400, "Bad Request", "body: not JSON", **{"invalid-params": []})
        problems = self._validate_create(body)
        if problems and self.fault == "bad_input_500":
            return Response("Internal Server Error", status_code=500)
        if problems and self.fault != "bad_input_accepted":
            params = [{"name": name, "reason": reason} for name, reason in problems]
            detail = "; ".join(f"{n}: {r}" for n, r in problems)
            return self._error(400, "Bad Request", detail, **{"invalid-params": params})
        if not isinstance(body, dict):
            body = {}
        questionnaire = str(body.get("questionnaireId", OK_QUESTIONNAIRE))
        fmt = str(body.get("format", "original"))
        known = (OK_QUESTIONNAIRE, DOC_QUESTIONNAIRE, FAILING_QUESTIONNAIRE)
        if questionnaire not in known and self.fault != "unknown_questionnaire_202":
            return self._error(404, "Not Found", "No questionnaire with this id.")
        export = FakeExport(
            id=secrets.token_hex(12),
            questionnaire_id=questionnaire,
            format=fmt if fmt in _formats() else "original",
            requested_at=datetime.now(UTC),
            fails=questionnaire == FAILING_QUESTIONNAIRE,
        )
        with self.state.lock:
            self.state.exports[export.id] = export
        if self.state.config.webhook_url:
            timer = threading.Timer(self.state.config.export_delay + 0.05, self._deliver, args=(export,))
            timer.daemon = True
            timer.start()
        answer = {"id": export.id, "status": "pending", "format": export.format}
        answer["requestedAt"] = self._requested(export)
        if self.fault == "format_not_echoed":
            answer["format"] = next(f for f in _formats() if f != fmt)
        return JSONResponse(answer, status_code=200 if self.fault == "post_200" else 202)

    @staticmethod
    def _validate_create(body: object) -> list[tuple[str, str]]:
        if not isinstance(body, dict):
            return [("body", "must be an object")]
        problems = []
        allowed = set(component_schema("CreateQuestionnaireExportRequest")["properties"])
        problems += [(key, "is not allowed") for key in body if key not in allowed]
        qid = body.get("questionnaireId")
        if not isinstance(qid, str) or not qid:
            problems.append(("questionnaireId", "must be a non-empty string"))
        if body.get("format") not in _formats():
            problems.append(("format", "must be one of " + ", ".join(_formats())))
        return problems

    async def get(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._error(401, "Unauthorized", "Missing or invalid bearer token.")
        export_id = request.path_params["id"]
        with self.state.lock:
            export = self.state.exports.get(export_id)
            if export is not None:
                export.gets += 1
        if export is None:
            if self.fault == "unknown_id_200":
                now = _iso(datetime.now(UTC))
                body = {"id": export_id, "status": "pending", "format": "original", "requestedAt": now}
                return JSONResponse(body)
            return self._error(404, "Not Found", "No export with this id.")
        body = self._export_body(export, datetime.now(UTC))
        if self.fault == "get_wrong_content_type":
            return Response(json.dumps(body), media_type="text/plain")
        return JSONResponse(body)

    def _requested(self, export: FakeExport) -> str:
        if self.fault == "timestamp_malformed":
            return export.requested_at.strftime("%Y-%m-%d %H:%M:%S")
        return _iso(export.requested_at)

    def _export_body(self, export: FakeExport, now: datetime) -> dict[str, Any]:
        fault = self.fault
        done_at = export.requested_at + timedelta(seconds=self.state.config.export_delay)
        terminal = now >= done_at and fault != "never_terminal"
        body: dict[str, Any] = {
            "id": export.id if fault != "id_not_echoed" else export.id[::-1],
            "status": "pending",
            "format": export.format,
            "requestedAt": self._requested(export),
        }
        if not terminal:
            if fault == "pending_with_download_url":
                body["downloadUrl"] = "https://storage.example.com/x.xlsx"
            return body
        if fault == "terminal_regresses" and export.gets % 2 == 0:
            return body
        if fault == "completed_at_changes":
            done_at = now
        if fault == "completed_before_requested":
            done_at = export.requested_at - timedelta(minutes=5)
        if fault == "completed_in_future":
            done_at = export.requested_at + timedelta(minutes=10)
        if export.fails:
            body.update(status="failed", failedAt=_iso(done_at), errorMessage="Unsupported question types.")
            if fault == "failed_missing_error_message":
                del body["errorMessage"]
            if fault == "failed_with_completed_at":
                body["completedAt"] = _iso(done_at)
            return body
        expires = now + LINK_LIFETIME
        if fault == "expires_short":
            expires = now + timedelta(hours=1)
        if fault == "expires_too_long":
            expires = now + timedelta(hours=48)
        if fault == "link_stale" and export.last_expires is not None:
            expires = export.last_expires - timedelta(seconds=1)
        export.last_expires = expires
        link_expires = int(expires.timestamp())
        if fault == "link_expired":
            link_expires = int(now.timestamp()) - 60
        scheme_base = self.state.base_url
        url = f"{scheme_base}/files/{export.id}?expires={link_expires}&signature={_sign_link(export.id, link_expires)}"
        if fault == "link_dead":
            url = f"{scheme_base}/files/{export.id}-gone?expires={link_expires}&signature=deadbeef"
        if fault == "link_not_https":
            url = url.replace("http://127.0.0.1", "http://storage.invalid")
        if fault == "link_javascript":
            url = "javascript:alert(1)"
        body.update(status="completed", completedAt=_iso(done_at), downloadUrl=url, expiresAt=_iso(expires))
        if fault == "completed_missing_expires_at":
            del body["expiresAt"]
        if fault == "completed_with_error_message":
            body["errorMessage"] = "oops"
        if fault == "status_unknown":
            body["status"] = "done"
        if fault == "status_wrong_case":
            body["status"] = "Completed"
        return body

    async def download(self, request: Request) -> Response:
        export_id = request.path_params["id"]
        try:
            expires = int(request.query_params.get("expires", ""))
        except ValueError:
            return self._error(403, "Forbidden", "Bad link.")
        signature = request.query_params.get("signature", "")
        valid = hmac.compare_digest(signature, _sign_link(export_id, expires))
        if not valid or expires < time.time():
            return self._error(403, "Forbidden", "Link invalid or expired.")
        if self.fault == "download_requires_token" and request.headers.get("authorization") is None:
            return self._error(401, "Unauthorized", "Token required.")
        export = self.state.exports[export_id]
        if export.format == "csv":
            content, media = b"question,answer\nQ1,Yes\n", "text/csv"
        else:
            media = _DOCX if export.questionnaire_id == DOC_QUESTIONNAIRE else _XLSX
            content = b"PK\x03\x04fake-office-file"
        if self.fault == "download_wrong_content_type":
            media = "text/html"
        if self.fault == "download_empty":
            content = b""
        return Response(content, media_type=media)

    def _deliver(self, export: FakeExport) -> None:
        """Send the Svix-signed event for a finished export (one attempt; a test helper)."""
        config = self.state.config
        done_at = export.requested_at + timedelta(seconds=config.export_delay)
        inner: dict[str, Any] = {
            "id": export.id,
            "format": export.format,
            "requestedAt": _iso(export.requested_at),
        }
        if export.fails:
            event = "v1.questionnaire.export-failed"
            inner.update(failedAt=_iso(done_at), reason="Unsupported question types.")
        else:
            event = "v1.questionnaire.export-completed"
            inner["completedAt"] = _iso(done_at)
        if self.fault == "webhook_bad_payload":
            inner.pop("requestedAt")
        payload = json.dumps({"questionnaire": {"id": export.questionnaire_id}, "export": inner})
        msg_id = "msg_" + secrets.token_hex(8)
        stamp = str(int(time.time()))
        secret = config.webhook_secret
        if self.fault == "webhook_bad_signature":
            secret = "whsec_" + base64.b64encode(b"some-other-secret").decode()
        headers = {
            "svix-id": msg_id,
            "svix-timestamp": stamp,
            "svix-signature": webhook_signature(secret, msg_id, int(stamp), payload.encode()),
            "content-type": "application/json",
            "x-event-type": event,
        }
        assert config.webhook_url is not None
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(config.webhook_url, content=payload, headers=headers, timeout=5)


@dataclass
class RunningFake:
    """A started fake: `base_url` ends in `/v1`; change `config.fault` between runs to reuse it."""

    state: FakeState
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        return self.state.base_url + "/v1"

    @property
    def config(self) -> FakeConfig:
        return self.state.config


@contextlib.contextmanager
def running_fake(config: FakeConfig | None = None) -> Iterator[RunningFake]:
    """Start the fake on a free loopback port and stop it afterwards."""
    state = FakeState(config=config or FakeConfig())
    with serve_in_thread(FakeApi(state).app, name="fake-api", date_header=True) as served:
        state.base_url = served.origin
        yield RunningFake(state=state, server=served.server, thread=served.thread)
