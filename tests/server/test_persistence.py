"""Jobs survive restarts, are never finished twice, and many concurrent creates all complete."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from pathlib import Path

import httpx

from reference_server.seed import (
    DOCUMENT_QUESTIONNAIRE_ID,
    FAILING_QUESTIONNAIRE_ID,
    SPREADSHEET_QUESTIONNAIRE_ID,
)
from reference_server.testing import running_server

from .server_test_helpers import EXPORTS, assert_valid, client_for, create, wait_until_done


def _rows(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute("SELECT id, status FROM exports ORDER BY seq"))


def test_restart_in_the_middle_of_jobs_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "exports.sqlite3"
    with running_server(db_path=db, export_delay=30.0) as server:
        with client_for(server) as http:
            ids = [
                create(http, SPREADSHEET_QUESTIONNAIRE_ID, "csv")["id"],
                create(http, DOCUMENT_QUESTIONNAIRE_ID, "original")["id"],
                create(http, FAILING_QUESTIONNAIRE_ID, "csv")["id"],
            ]
        server.stop()  # jobs are mid-flight (30 s delay): they must stay pending, not vanish
        assert _rows(db) == [(export_id, "pending") for export_id in ids]
        assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone() == ("wal",)
        server.config = dataclasses.replace(server.config, export_delay=0.0)
        server.start()
        with client_for(server) as http:
            finals = [wait_until_done(http, export_id).json() for export_id in ids]
            assert [f["status"] for f in finals] == ["completed", "completed", "failed"]
            link = finals[0]["downloadUrl"]
            assert httpx.get(link).status_code == 200
        server.restart()
        with client_for(server) as http:
            again = [http.get(f"{EXPORTS}/{export_id}").json() for export_id in ids]
        for before, after in zip(finals, again, strict=True):
            assert_valid(after, "QuestionnaireExport")
            assert {k: v for k, v in before.items() if k not in {"downloadUrl", "expiresAt"}} == {
                k: v for k, v in after.items() if k not in {"downloadUrl", "expiresAt"}
            }
        # Same signing secret across restarts of one handle: an earlier link still downloads.
        assert httpx.get(link).status_code == 200
    assert [status for _, status in _rows(db)] == ["completed", "completed", "failed"]


def test_fifty_concurrent_creates_all_complete() -> None:
    async def scenario(base_url: str, token: str) -> list[str]:
        headers = {"Authorization": f"Bearer {token}"}
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=20) as http:
            bodies = [
                {"questionnaireId": SPREADSHEET_QUESTIONNAIRE_ID, "format": ("csv", "original")[i % 2]}
                for i in range(50)
            ]
            created = await asyncio.gather(*(http.post(EXPORTS, json=b) for b in bodies))
            assert [r.status_code for r in created] == [202] * 50
            ids = [r.json()["id"] for r in created]
            assert len(set(ids)) == 50
            statuses: list[str] = []
            for _ in range(200):  # bounded polling, 10 s at most
                answers = await asyncio.gather(*(http.get(f"{EXPORTS}/{i}") for i in ids))
                statuses = [a.json()["status"] for a in answers]
                if "pending" not in statuses:
                    break
                await asyncio.sleep(0.05)
            return statuses

    with running_server(export_delay=0.05) as server:
        statuses = asyncio.run(scenario(server.base_url, server.tokens[0]))
        assert statuses == ["completed"] * 50
        assert server.runtime.worker is not None and server.runtime.worker.in_flight == 0
