"""Webhook delivery: Svix-style signed POSTs from a persistent outbox, retried with backoff.

Why an outbox: an event is written in the same transaction as the export's final state, so a crash or
restart can delay a delivery but never lose it (at least once). Each message keeps its ``svix-id`` on
every retry. Delivery runs in its own task, so a slow receiver never blocks the API, and every attempt
has a total deadline, so a receiver that stalls or trickles ties up one attempt at a time, never more.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable

import httpx
from questionnaire_exports_client.lib import webhook_signature

from .store import Store, WebhookEvent

logger = logging.getLogger("reference_server.webhooks")

#: Seconds before each retry after a failed attempt (Svix' published schedule); scaled by config.
RETRY_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 28800.0, 86400.0, 172800.0)
_SECRET_PREFIX = "whsec_"


def parse_webhook_secret(secret: str) -> bytes:
    """The HMAC key inside ``whsec_<base64>``. The error never repeats the secret."""
    if not secret.startswith(_SECRET_PREFIX):
        raise ValueError("webhook secret must start with 'whsec_'")
    try:
        key = base64.b64decode(secret[len(_SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("webhook secret must be 'whsec_' followed by base64") from None
    if len(key) < 16:
        raise ValueError("webhook secret key must be at least 16 bytes")
    return key


class WebhookDispatcher:
    """Sends due outbox messages to one URL; call ``notify()`` after enqueueing, run ``run()`` as a task.

    Like Svix: each attempt has a total deadline of ``timeout`` seconds (connect, send, and the response
    status line and headers together; the documented 15 s acknowledgement window), a 2xx acknowledges,
    anything else (or the deadline) is a failed attempt retried on ``RETRY_SCHEDULE`` (times
    ``retry_scale``), and after the last retry the message is given up (outbox state ``dead``). At most one
    attempt per message is in flight, and at most ``max_in_flight`` in total. A ``410 Gone`` disables the
    endpoint: that message is given up and nothing more is sent until the server restarts.

    ``clock`` (Unix seconds) schedules retries and stamps ``svix-timestamp``; tests inject one and drive
    delivery with ``session()`` and ``start_due()`` instead of sleeping.
    """

    def __init__(
        self,
        store: Store,
        url: str,
        secret: str,
        *,
        retry_scale: float = 1.0,
        timeout: float = 15.0,
        clock: Callable[[], float] = time.time,
        max_in_flight: int = 8,
    ) -> None:
        self._store = store
        self._url = url
        parse_webhook_secret(secret)  # fails at start-up on a secret the server does not accept
        self._secret = secret
        self._retry_scale = retry_scale
        self._timeout = timeout
        self._clock = clock
        self._max_in_flight = max_in_flight
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight: set[str] = set()
        self._client: httpx.AsyncClient | None = None
        self.disabled = False

    def notify(self) -> None:
        """Wake the loop: a new message may be due."""
        self._wake.set()

    @property
    def in_flight(self) -> frozenset[str]:
        """``svix-id`` of every message with an attempt in flight."""
        return frozenset(self._in_flight)

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[None]:
        """Open the HTTP client; on exit cancel attempts still in flight (they stay due) and close it."""
        async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as client:
            self._client = client
            try:
                yield
            finally:
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)
                self._client = None

    def start_due(self) -> list[asyncio.Task[None]]:
        """Start an attempt for each due message not already in flight (within ``max_in_flight``)."""
        if self.disabled or self._client is None:
            return []
        room = self._max_in_flight - len(self._in_flight)
        if room <= 0:
            return []
        now = self._clock()
        due = self._store.due_events(now, limit=room + len(self._in_flight))
        started = []
        for event in [e for e in due if e.svix_id not in self._in_flight][:room]:
            # The lease is for a crash only (the next process retries after it); in this process the
            # in-flight set, not the lease, keeps a second attempt from starting.
            self._store.lease(event.svix_id, now + self._timeout + 1.0)
            self._in_flight.add(event.svix_id)
            task = asyncio.create_task(self._deliver(self._client, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started.append(task)
        return started

    async def run(self) -> None:
        """Deliver until cancelled, waking when a message is enqueued, an attempt ends or one falls due."""
        async with self.session():
            while True:
                self._wake.clear()
                self.start_due()
                due = self._store.next_event_due_at()
                full = len(self._in_flight) >= self._max_in_flight or self.disabled
                wait = 1.0 if due is None or full else min(1.0, max(0.002, due - self._clock()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def _attempt(self, client: httpx.AsyncClient, event: WebhookEvent) -> tuple[int | None, str]:
        """``(status, outcome)`` of one POST; status None when it failed or ran out of time."""
        timestamp = int(self._clock())
        headers = {
            "content-type": "application/json",
            "svix-id": event.svix_id,
            "svix-timestamp": str(timestamp),
            "svix-signature": webhook_signature(self._secret, event.svix_id, timestamp, event.body.encode()),
        }
        try:
            async with asyncio.timeout(self._timeout):
                request = client.stream("POST", self._url, content=event.body.encode(), headers=headers)
                async with request as response:  # the status acknowledges; the body is not read
                    return response.status_code, f"HTTP {response.status_code}"
        except TimeoutError:
            return None, f"no answer within {self._timeout:g} s"
        except httpx.HTTPError as exc:
            return None, type(exc).__name__

    async def _deliver(self, client: httpx.AsyncClient, event: WebhookEvent) -> None:
        try:
            status, outcome = await self._attempt(client, event)
            delivered = status is not None and 200 <= status < 300
            gone = status == 410
            attempt = event.attempts + 1
            next_at: float | None = None
            if not delivered and not gone and attempt <= len(RETRY_SCHEDULE):
                next_at = self._clock() + RETRY_SCHEDULE[attempt - 1] * self._retry_scale
            self._store.record_attempt(event.svix_id, delivered=delivered, next_attempt_at=next_at)
            if gone:
                self.disabled = True
            logger.info(
                "webhook %s attempt=%d event=%s outcome=%s%s",
                event.svix_id,
                attempt,
                event.event_type,
                outcome,
                ""
                if delivered
                else (
                    " endpoint disabled (410 Gone), no further deliveries until restart"
                    if gone
                    else (" retry scheduled" if next_at is not None else " giving up")
                ),
            )
        finally:
            self._in_flight.discard(event.svix_id)
            self.notify()
