"""Webhook delivery: Svix-style signed POSTs from a persistent outbox, retried with backoff.

Why an outbox: an event is written in the same transaction as the export's final state, so a crash or
restart can delay a delivery but never lose it (at least once). Each message keeps its ``svix-id`` on
every retry. Delivery runs in its own task, so a slow receiver never blocks the API.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import logging
import time

import httpx

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


def sign_message(key: bytes, msg_id: str, timestamp: int, body: str) -> str:
    """``v1,<base64 HMAC-SHA256>`` over ``"{msg_id}.{timestamp}.{body}"``."""
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


class WebhookDispatcher:
    """Sends due outbox messages to one URL; call ``notify()`` after enqueueing, run ``run()`` as a task."""

    def __init__(
        self, store: Store, url: str, secret: str, *, retry_scale: float = 1.0, timeout: float = 15.0
    ) -> None:
        self._store = store
        self._url = url
        self._key = parse_webhook_secret(secret)
        self._retry_scale = retry_scale
        self._timeout = timeout
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    def notify(self) -> None:
        """Wake the loop: a new message may be due."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver forever (until cancelled), sleeping until the next message is due (at most 1 s)."""
        async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as client:
            try:
                while True:
                    self._wake.clear()
                    now = time.time()
                    for event in self._store.due_events(now):
                        # Lease the message while its attempt runs; a crash lets the lease lapse and retry.
                        self._store.lease(event.svix_id, now + self._timeout + 1.0)
                        task = asyncio.create_task(self._deliver(client, event))
                        self._tasks.add(task)
                        task.add_done_callback(self._tasks.discard)
                    due = self._store.next_event_due_at()
                    wait = 1.0 if due is None else min(1.0, max(0.002, due - time.time()))
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=wait)
            finally:
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _deliver(self, client: httpx.AsyncClient, event: WebhookEvent) -> None:
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "svix-id": event.svix_id,
            "svix-timestamp": str(timestamp),
            "svix-signature": sign_message(self._key, event.svix_id, timestamp, event.body),
        }
        outcome: str
        try:
            response = await client.post(self._url, content=event.body.encode("utf-8"), headers=headers)
            delivered = 200 <= response.status_code < 300
            outcome = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            delivered = False
            outcome = type(exc).__name__
        attempt = event.attempts + 1
        next_at: float | None = None
        if not delivered and attempt <= len(RETRY_SCHEDULE):
            next_at = time.time() + RETRY_SCHEDULE[attempt - 1] * self._retry_scale
        self._store.record_attempt(event.svix_id, delivered=delivered, next_attempt_at=next_at)
        logger.info(
            "webhook %s attempt=%d event=%s outcome=%s%s",
            event.svix_id,
            attempt,
            event.event_type,
            outcome,
            "" if delivered else (" retry scheduled" if next_at is not None else " giving up"),
        )
        if next_at is not None:
            self.notify()
