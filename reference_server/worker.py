"""The background worker that turns ``pending`` exports into ``completed`` or ``failed`` ones.

Why one asyncio task per job: jobs mostly wait (the configurable ``export_delay``), so many run at once
without threads; the CPU part (rendering) runs in a worker thread so the API stays responsive. On start
every job still ``pending`` in the database is picked up again, which is how a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import time
from collections.abc import Callable

from .clock import Clock, to_millis
from .exporter import ExportError, RenderedFile, render
from .representation import webhook_event
from .seed import QUESTIONNAIRES
from .statuses import COMPLETED, FAILED
from .store import ExportRecord, Store

logger = logging.getLogger("reference_server.worker")

_MISSING_QUESTIONNAIRE_MESSAGE = "The questionnaire no longer exists."


class ExportWorker:
    """Processes exports after ``delay`` seconds; ``on_event`` is called when a webhook was enqueued."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        delay: float,
        *,
        webhooks_enabled: bool,
        on_event: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._delay = delay
        self._webhooks_enabled = webhooks_enabled
        self._on_event = on_event
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._render_slots = asyncio.Semaphore(4)

    def resume(self) -> int:
        """Schedule every export still pending in the database; returns how many."""
        pending = self._store.pending_exports()
        for record in pending:
            self.submit(record)
        return len(pending)

    def submit(self, record: ExportRecord) -> None:
        """Schedule ``record`` (idempotent while it is in flight)."""
        if record.id in self._tasks:
            return
        task = asyncio.create_task(self._process(record))
        self._tasks[record.id] = task
        task.add_done_callback(functools.partial(self._forget, record.id))

    def _forget(self, export_id: str, _task: asyncio.Task[None]) -> None:
        self._tasks.pop(export_id, None)

    def cancel(self) -> list[asyncio.Task[None]]:
        """Cancel in-flight jobs (they stay ``pending`` in the database); returns their tasks to wait for."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        return tasks

    async def stop(self) -> None:
        """Cancel in-flight jobs and wait for them; they resume on the next start."""
        await asyncio.gather(*self.cancel(), return_exceptions=True)

    @property
    def in_flight(self) -> int:
        """Jobs scheduled and not yet finished."""
        return len(self._tasks)

    async def _process(self, record: ExportRecord) -> None:
        await asyncio.sleep(self._delay)
        questionnaire = QUESTIONNAIRES.get(record.questionnaire_id)
        file: RenderedFile | None = None
        error = _MISSING_QUESTIONNAIRE_MESSAGE
        if questionnaire is not None:
            async with self._render_slots:
                try:
                    file = await asyncio.to_thread(render, questionnaire, record.format, record.id)
                except ExportError as exc:
                    error = str(exc)
        finished_at = to_millis(self._clock.now())
        if file is not None:
            finished = dataclasses.replace(record, status=COMPLETED, completed_at=finished_at)
        else:
            finished = dataclasses.replace(record, status=FAILED, failed_at=finished_at, error_message=error)
        event = webhook_event(finished) if self._webhooks_enabled else None
        first_attempt = time.time()
        if file is not None:
            changed = self._store.complete(record.id, finished_at, file, event, first_attempt)
        else:
            changed = self._store.fail(record.id, finished_at, error, event, first_attempt)
        logger.info("export %s %s", record.id, finished.status if changed else "already done")
        if changed and event is not None:
            self._on_event()
