"""SQLite persistence of exports, their files and the webhook outbox.

Why SQLite in WAL mode: jobs must survive a restart without a separate database service, and a state
change (pending -> completed/failed) must land together with its file and its webhook event, or not at
all. Each transition is a guarded ``UPDATE ... WHERE status = 'pending'``, so a job is never finished
twice, even when a restarted worker races an old one.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from .exporter import RenderedFile
from .statuses import COMPLETED, FAILED, PENDING, STATUSES


def _literal(value: str) -> str:
    """``value`` as an SQL string literal; only plain words (the spec's status values) are accepted."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", value):
        raise ValueError(f"status {value!r} is not a plain word")
    return f"'{value}'"


# Status values are inlined (not bound) so that SQLite can use the partial index on pending exports.
_PENDING, _COMPLETED, _FAILED = (_literal(s) for s in (PENDING, COMPLETED, FAILED))
_STATUSES = ", ".join(_literal(s) for s in STATUSES)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS exports (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    questionnaire_id TEXT NOT NULL,
    format TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ({_STATUSES})),
    requested_at INTEGER NOT NULL,
    completed_at INTEGER,
    failed_at INTEGER,
    error_message TEXT,
    media_type TEXT,
    filename TEXT,
    content BLOB
);
CREATE INDEX IF NOT EXISTS exports_pending ON exports (status) WHERE status = {_PENDING};
CREATE TABLE IF NOT EXISTS webhook_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    svix_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead'))
);
"""


@dataclass(frozen=True)
class ExportRecord:
    """One export row, without its file content. Times are Unix milliseconds."""

    id: str
    owner: str
    questionnaire_id: str
    format: str
    status: str
    requested_at: int
    completed_at: int | None
    failed_at: int | None
    error_message: str | None


@dataclass(frozen=True)
class WebhookEvent:
    """A webhook message waiting in the outbox (``body`` is the exact JSON text that is signed)."""

    svix_id: str
    event_type: str
    body: str
    attempts: int


_EXPORT_COLUMNS = (
    "id, owner, questionnaire_id, format, status, requested_at, completed_at, failed_at, error_message"
)


def new_export_id() -> str:
    """A 24-hex-character id, the shape the vendor uses (clients must still treat it as opaque)."""
    return secrets.token_hex(12)


def new_message_id() -> str:
    """A Svix-style message id (``msg_`` + random), the same on every retry of one event."""
    return "msg_" + secrets.token_urlsafe(18)


class Store:
    """Thread-safe access to the database; one connection guarded by a lock (the API is low-volume)."""

    def __init__(self, path: Path | None) -> None:
        """Open (and create) the database at ``path``; ``None`` keeps everything in memory."""
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        target = ":memory:" if path is None else str(path)
        self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None, timeout=5.0)
        self._lock = threading.Lock()
        with self._lock:
            if path is not None:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            self._conn.close()

    def create_export(
        self, owner: str, questionnaire_id: str, export_format: str, requested_at: int
    ) -> ExportRecord:
        """Insert a new ``pending`` export and return it."""
        record = ExportRecord(
            id=new_export_id(),
            owner=owner,
            questionnaire_id=questionnaire_id,
            format=export_format,
            status=PENDING,
            requested_at=requested_at,
            completed_at=None,
            failed_at=None,
            error_message=None,
        )
        with self._lock:
            self._conn.execute(
                "INSERT INTO exports (id, owner, questionnaire_id, format, status, requested_at)"
                f" VALUES (?, ?, ?, ?, {_PENDING}, ?)",
                (record.id, owner, questionnaire_id, export_format, requested_at),
            )
        return record

    def get_export(self, export_id: str, owner: str | None = None) -> ExportRecord | None:
        """The export ``export_id``; with ``owner`` given, only if that owner created it."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_EXPORT_COLUMNS} FROM exports WHERE id = ?", (export_id,)
            ).fetchone()
        if row is None:
            return None
        record = ExportRecord(*row)
        if owner is not None and not secrets.compare_digest(record.owner, owner):
            return None
        return record

    def pending_exports(self) -> list[ExportRecord]:
        """Every ``pending`` export, oldest first (what a (re)started worker must finish)."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_EXPORT_COLUMNS} FROM exports WHERE status = {_PENDING} ORDER BY seq"
            ).fetchall()
        return [ExportRecord(*row) for row in rows]

    def complete(
        self,
        export_id: str,
        completed_at: int,
        file: RenderedFile,
        event: WebhookEvent | None,
        first_attempt_at: float,
    ) -> bool:
        """Store the file and mark the export ``completed``; False when it was no longer pending."""
        with self._lock, self._transaction():
            cursor = self._conn.execute(
                f"UPDATE exports SET status = {_COMPLETED}, completed_at = ?, media_type = ?, filename = ?,"
                f" content = ? WHERE id = ? AND status = {_PENDING}",
                (completed_at, file.media_type, file.filename, file.content, export_id),
            )
            if cursor.rowcount != 1:
                return False
            self._enqueue(event, first_attempt_at)
            return True

    def fail(
        self,
        export_id: str,
        failed_at: int,
        message: str,
        event: WebhookEvent | None,
        first_attempt_at: float,
    ) -> bool:
        """Mark the export ``failed`` with ``message``; False when it was no longer pending."""
        with self._lock, self._transaction():
            cursor = self._conn.execute(
                f"UPDATE exports SET status = {_FAILED}, failed_at = ?, error_message = ?"
                f" WHERE id = ? AND status = {_PENDING}",
                (failed_at, message, export_id),
            )
            if cursor.rowcount != 1:
                return False
            self._enqueue(event, first_attempt_at)
            return True

    def get_file(self, export_id: str) -> RenderedFile | None:
        """The file of a completed export, or None."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT content, media_type, filename FROM exports WHERE id = ? AND status = {_COMPLETED}",
                (export_id,),
            ).fetchone()
        if row is None:
            return None
        return RenderedFile(content=bytes(row[0]), media_type=row[1], filename=row[2])

    def due_events(self, now: float, limit: int = 50) -> list[WebhookEvent]:
        """Outbox messages whose next attempt is due at wall time ``now``, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT svix_id, event_type, body, attempts FROM webhook_events"
                " WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, seq LIMIT ?",
                (now, limit),
            ).fetchall()
        return [WebhookEvent(*row) for row in rows]

    def next_event_due_at(self) -> float | None:
        """Wall time of the earliest pending outbox attempt, or None when the outbox is empty."""
        with self._lock:
            row = self._conn.execute(
                "SELECT MIN(next_attempt_at) FROM webhook_events WHERE state = 'pending'"
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def record_attempt(self, svix_id: str, *, delivered: bool, next_attempt_at: float | None) -> None:
        """Count one delivery attempt: delivered, retry at ``next_attempt_at``, or dead when that is None."""
        state = "delivered" if delivered else ("pending" if next_attempt_at is not None else "dead")
        with self._lock:
            self._conn.execute(
                "UPDATE webhook_events SET attempts = attempts + 1, state = ?,"
                " next_attempt_at = COALESCE(?, next_attempt_at) WHERE svix_id = ?",
                (state, next_attempt_at, svix_id),
            )

    def lease(self, svix_id: str, until: float) -> None:
        """Hold a message back until ``until`` while one attempt is in flight."""
        with self._lock:
            self._conn.execute(
                "UPDATE webhook_events SET next_attempt_at = ? WHERE svix_id = ? AND state = 'pending'",
                (until, svix_id),
            )

    def event_states(self) -> dict[str, tuple[str, int]]:
        """``{svix_id: (state, attempts)}`` of every outbox message (for tests and diagnostics)."""
        with self._lock:
            rows = self._conn.execute("SELECT svix_id, state, attempts FROM webhook_events").fetchall()
        return {row[0]: (row[1], row[2]) for row in rows}

    def _enqueue(self, event: WebhookEvent | None, first_attempt_at: float) -> None:
        if event is None:
            return
        self._conn.execute(
            "INSERT INTO webhook_events (svix_id, event_type, body, next_attempt_at) VALUES (?, ?, ?, ?)",
            (event.svix_id, event.event_type, event.body, first_attempt_at),
        )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._conn)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (or ``ROLLBACK`` on error) on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
