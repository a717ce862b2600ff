"""What the validating proxy saw: each exchange handed to the judge in order, kept for the HAR, bounded.

Why one worker thread: the judge's rules (schema, client parsing) are CPU work that must not stall the
event loop forwarding other clients' bytes, and its cross-exchange rules (a terminal status never changes)
need the exchanges in the order they finished. Why the bounds: a proxy may run for days; after
``max_exchanges`` it only forwards and counts, and what is kept for the HAR stops at ``max_kept_bytes``.
Every credential in an ``Authorization`` header is given to the redactor before anything about its
exchange is printed or kept.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Protocol

from questionnaire_exports_client.redact import Redactor

from .traffic.judge import MAX_SECRETS
from .traffic.recorded import Recorded

DEFAULT_MAX_EXCHANGES = 10_000
DEFAULT_MAX_KEPT_BYTES = 64 * 1024 * 1024


class Judge(Protocol):
    """The part of ``traffic.judge.TrafficJudge`` the proxy uses."""

    def observe(self, recorded: Recorded) -> None: ...


class ExchangeLog:
    """The proxy's ``ExchangeSink``: judges, keeps (for ``--har-out``) and counts what passed through."""

    def __init__(
        self,
        judge: Judge,
        redactor: Redactor,
        progress: Callable[[str], None],
        *,
        keep: bool,
        max_exchanges: int = DEFAULT_MAX_EXCHANGES,
        max_kept_bytes: int = DEFAULT_MAX_KEPT_BYTES,
    ) -> None:
        self.judge = judge
        self.redactor = redactor
        self.progress = progress
        self.keep = keep
        self.max_exchanges = max_exchanges
        self.max_kept_bytes = max_kept_bytes
        self._indexes = itertools.count()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="proxy-judge")
        self._lock = threading.Lock()
        self._entries: list[Recorded] = []
        self._kept_bytes = 0
        self.api = 0  # API exchanges judged
        self.other = 0  # exchanges outside the API (downloads): forwarded and counted only
        self.unrecorded = 0  # exchanges beyond max_exchanges: forwarded only
        self.unkept = 0  # exchanges judged but left out of the HAR (its byte budget spent)
        self._answered: Counter[tuple[int, str]] = Counter()
        self._broken: Counter[str] = Counter()
        self._errors: list[str] = []
        self._credentials: set[str] = set()
        self._too_many_credentials = False

    def learn(self, headers: Iterable[tuple[bytes, bytes]]) -> None:
        """Add the credential of every ``Authorization`` header (whatever its scheme) to the redactor, up to
        ``MAX_SECRETS`` distinct ones (each makes redaction slower); beyond them only the patterns
        (``Bearer ...``, an ``Authorization`` value) hide a credential, and a note says so."""
        for name, value in headers:
            if name.lower() != b"authorization":
                continue
            text = value.decode("latin-1").strip()
            credential = text.partition(" ")[2].strip() or text
            with self._lock:
                if credential in self._credentials:
                    continue
                if len(self._credentials) >= MAX_SECRETS:
                    self._too_many_credentials = True
                    continue
                self._credentials.add(credential)
            self.redactor.add(credential)

    async def record(self, recorded: Recorded, api: bool) -> None:
        """Number the exchange, then (in the worker, in order) judge it if it is an API one and keep it."""
        index = next(self._indexes)
        try:
            if index < self.max_exchanges:
                numbered = replace(recorded, index=index)
                await asyncio.wrap_future(self._worker.submit(self._handle, numbered, api))
                return
        except RuntimeError:  # closed: the report is being written, this exchange came too late for it
            pass
        with self._lock:
            self.unrecorded += 1

    def _handle(self, recorded: Recorded, api: bool) -> None:
        if api:
            try:
                self.judge.observe(recorded)
            except Exception as exc:  # a bug in a rule must not stop the forwarding
                error = f"exchange {recorded.index} could not be judged: {type(exc).__name__}: {exc}"
                self.progress(error)
                with self._lock:
                    self._errors.append(error)
        with self._lock:
            if api:
                self.api += 1
            else:
                self.other += 1
            if self.keep:
                self._keep(recorded)

    def _keep(self, recorded: Recorded) -> None:
        """Keep the whole exchange while it fits the byte budget, then its headers only, then nothing."""
        heads = sum(len(n) + len(v) for n, v in (*recorded.request_headers, *recorded.response_headers))
        bodies = len(recorded.response_body) + len(recorded.request_body or b"")
        if self._kept_bytes + heads + bodies <= self.max_kept_bytes:
            self._kept_bytes += heads + bodies
            self._entries.append(recorded)
        elif self._kept_bytes + heads <= self.max_kept_bytes:
            self._kept_bytes += heads
            spent = f"not recorded: the HAR's budget of {self.max_kept_bytes} bytes is spent"
            self._entries.append(replace(recorded, request_body=None, response_body=b"", cut=spent))
        else:
            self.unkept += 1

    def answered(self, status: int, detail: str, method: str, url: str) -> None:
        with self._lock:
            self._answered[(status, detail)] += 1
        self.progress(f"proxy answered {status} to {method} {self.redactor.url(url)}: {detail}")

    def broken(self, detail: str, method: str, url: str) -> None:
        with self._lock:
            self._broken[detail] += 1
        self.progress(f"proxy closed the client's connection, {method} {self.redactor.url(url)}: {detail}")

    def close(self) -> None:
        """Wait for the exchanges still being judged (call after serving stopped)."""
        self._worker.shutdown(wait=True)

    @property
    def entries(self) -> list[Recorded]:
        """The kept exchanges, in index order (for ``--har-out``)."""
        with self._lock:
            return sorted(self._entries, key=lambda entry: entry.index)

    def notes(self) -> list[str]:
        """The report's notes: what the proxy answered itself, cut off or did not record."""
        with self._lock:
            notes = [
                f"the proxy answered {status} itself {count} time(s): {detail}"
                for (status, detail), count in sorted(self._answered.items())
            ]
            notes += [
                f"{count} answer(s) broke off: {detail}" for detail, count in sorted(self._broken.items())
            ]
            if self.unrecorded:
                notes.append(
                    f"{self.unrecorded} exchange(s) after the first {self.max_exchanges} (--max-exchanges) "
                    "or after the stop were forwarded but neither judged nor recorded"
                )
            if self.unkept:
                notes.append(
                    f"{self.unkept} exchange(s) left out of the HAR: its {self.max_kept_bytes} bytes are spent"
                )
            if self._too_many_credentials:
                notes.append(
                    f"more than {MAX_SECRETS} distinct credentials: later ones are hidden only where they "
                    "follow `Bearer` or stand in an Authorization header"
                )
            notes += self._errors
            notes.append(
                f"{self.api} API exchange(s) judged, {self.other} other exchange(s) (downloads) forwarded"
            )
            return notes
