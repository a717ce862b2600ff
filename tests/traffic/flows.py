"""What a real client does against the API, recorded: the helpers' flows plus the mistakes clients make.

Why both: clean traffic must be conforming, and the faults a passive observer can see often show only in
answers to imperfect requests (no token, an unknown id, a body the spec forbids), which real clients send.
"""

from __future__ import annotations

import contextlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import httpx
from questionnaire_exports_client import AuthenticatedClient
from questionnaire_exports_client.api.exports import get_questionnaire_export
from questionnaire_exports_client.errors import QuestionnaireExportsError
from questionnaire_exports_client.lib import Backoff, create_export, download_export, wait_for_export
from questionnaire_exports_client.models import ExportCompleted, ExportFormat

import contract

from .recorder import RecordingTransport

_QUICK = Backoff(min_delay=0.02, max_delay=0.1)


@dataclass(frozen=True)
class Api:
    base_url: str
    token: str
    questionnaire_id: str
    failing_questionnaire_id: str


def client_session(
    api: Api, transport: RecordingTransport, tmp: Path, *, seed: int = 0, wait: bool = True
) -> None:
    """Create an export per format and a failing one, look at each, wait, download, look again; then the
    requests a careless client sends. Errors of the helpers are the server's business here: ignored."""
    rng = random.Random(seed)
    client = AuthenticatedClient(base_url=api.base_url, token=api.token, httpx_args={"transport": transport})
    storage = httpx.Client(transport=transport)
    plans = [(api.questionnaire_id, fmt) for fmt in contract.enum_values("ExportFormat")]
    plans.append((api.failing_questionnaire_id, contract.enum_values("ExportFormat")[0]))
    rng.shuffle(plans)
    ids: list[str] = []
    with contextlib.ExitStack() as stack:
        stack.callback(storage.close)
        for questionnaire, fmt in plans:
            with contextlib.suppress(QuestionnaireExportsError):
                ids.append(
                    create_export(client, questionnaire, format_=cast(ExportFormat, fmt), timeout=5).id
                )
        for export_id in ids:
            with contextlib.suppress(QuestionnaireExportsError):
                get_questionnaire_export.sync_detailed(export_id, client=client)
        finished = []
        if wait:
            for export_id in ids:
                with contextlib.suppress(QuestionnaireExportsError):
                    finished.append(
                        wait_for_export(client, export_id, timeout=5, backoff=_QUICK, rng=random.Random(seed))
                    )
        for export in finished:
            if isinstance(export, ExportCompleted):
                with contextlib.suppress(QuestionnaireExportsError):
                    download_export(client, export, tmp, http=storage)
        for export_id in ids if wait else []:
            with contextlib.suppress(QuestionnaireExportsError):
                get_questionnaire_export.sync_detailed(export_id, client=client)
        careless(api, transport, ids[0] if ids else "no-export")


def careless(api: Api, transport: RecordingTransport, known_id: str) -> None:
    """A careless client: an unknown id, no token, a body the spec forbids, the wrong Content-Type."""
    token = {"Authorization": f"Bearer {api.token}"}
    fmt = contract.enum_values("ExportFormat")[0]
    valid = contract.create_body(api.questionnaire_id, fmt)
    create = api.base_url + contract.operations()[contract.CREATE_OP].path
    with httpx.Client(transport=transport) as http:
        http.get(
            api.base_url + contract.operation_path(contract.GET_OP, id="0000deadbeef0000"), headers=token
        )
        http.get(api.base_url + contract.operation_path(contract.GET_OP, id=known_id))
        http.post(create, json={**valid, "format": "not-" + fmt}, headers=token)
        http.post(create, content=json.dumps(valid).encode(), headers={**token, "Content-Type": "text/plain"})
