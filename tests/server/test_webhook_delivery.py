"""Webhook delivery against hostile receivers: one that stalls, one that trickles, one that answers 410.

The dispatcher runs on an injected clock and is driven step by step (``start_due``), so retries far in
the schedule are reached without sleeping; the only real waiting is each attempt's own (short) deadline.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from reference_server.exporter import RenderedFile
from reference_server.store import Store, WebhookEvent
from reference_server.webhooks import RETRY_SCHEDULE, WebhookDispatcher

SECRET = "whsec_" + base64.b64encode(b"webhook-delivery-test-key-0123456").decode()
ATTEMPT_TIMEOUT = 0.2
START = 1_800_000_000.0


class FakeClock:
    """Unix seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@dataclass
class Receiver:
    """A loopback HTTP receiver whose behaviour per connection is ``handler``; counts what it sees."""

    url: str = ""
    connections: int = 0
    open_now: dict[str, int] = field(default_factory=dict)
    most_open_at_once: dict[str, int] = field(default_factory=dict)
    closed_by_client: int = 0


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def receiver(behaviour: Callable[[Receiver], Handler]) -> AsyncIterator[Receiver]:
    state = Receiver()
    handle = behaviour(state)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        msg_id = next(
            line.split(b":", 1)[1].strip().decode()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"svix-id:")
        )
        state.connections += 1
        state.open_now[msg_id] = state.open_now.get(msg_id, 0) + 1
        state.most_open_at_once[msg_id] = max(state.most_open_at_once.get(msg_id, 0), state.open_now[msg_id])
        try:
            await handle(reader, writer)
        finally:
            state.open_now[msg_id] -= 1
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    state.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook"
    try:
        yield state
    finally:
        server.close()
        await server.wait_closed()


def stalls(state: Receiver) -> Handler:
    """Reads the request, never answers; notices when the sender hangs up."""

    async def handle(reader: asyncio.StreamReader, _writer: asyncio.StreamWriter) -> None:
        await reader.read()  # returns b"" only once the sender closes its side
        state.closed_by_client += 1

    return handle


def trickles(state: Receiver) -> Handler:
    """Answers a status line and headers one byte at a time, far faster than any per-read timeout."""

    async def handle(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        endless = b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 100_000
        for byte in endless:  # bounded: 100 kB at one byte per 5 ms is far beyond any attempt deadline
            writer.write(bytes([byte]))
            try:
                await writer.drain()
            except ConnectionError:
                break
            if writer.is_closing() or _reader.at_eof():
                break
            await asyncio.sleep(0.005)
        state.closed_by_client += 1

    return handle


def answers(status: int) -> Callable[[Receiver], Handler]:
    def behaviour(_state: Receiver) -> Handler:
        async def handle(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" % status)
            await writer.drain()

        return handle

    return behaviour


async def _until(condition: Callable[[], bool]) -> None:
    """Let the loop run until ``condition`` holds (bounded: at most about 2 s)."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)


def outbox(clock: FakeClock, count: int = 1) -> tuple[Store, list[str]]:
    """An in-memory store holding ``count`` completed exports, each with a webhook event due now."""
    store = Store(None)
    ids = []
    for index in range(count):
        record = store.create_export("owner", "q", "csv", 0)
        event = WebhookEvent(f"msg_test{index}", "v1.questionnaire.export-completed", '{"x":1}', 0)
        store.complete(record.id, 1, RenderedFile(b"x", "text/csv", "x.csv"), event, clock())
        ids.append(event.svix_id)
    return store, ids


def dispatcher(store: Store, url: str, clock: FakeClock) -> WebhookDispatcher:
    return WebhookDispatcher(store, url, SECRET, timeout=ATTEMPT_TIMEOUT, clock=clock)


@contextlib.asynccontextmanager
async def one_event(
    behaviour: Callable[[Receiver], Handler],
) -> AsyncIterator[tuple[FakeClock, Store, str, Receiver, WebhookDispatcher]]:
    """One due event, a receiver behaving so, and a started dispatcher session on a fake clock."""
    clock = FakeClock()
    store, [msg_id] = outbox(clock)
    async with receiver(behaviour) as rx:
        hooks = dispatcher(store, rx.url, clock)
        async with hooks.session():
            yield clock, store, msg_id, rx, hooks


def test_a_stalling_receiver_gets_one_attempt_at_a_time_until_the_event_fails() -> None:
    async def scenario() -> None:
        async with one_event(stalls) as (clock, store, msg_id, rx, hooks):
            for attempt in range(1, len(RETRY_SCHEDULE) + 2):
                [task] = hooks.start_due()
                clock.now += 3 * 86400  # far past the crash lease while the attempt is in flight
                assert hooks.start_due() == [], "a second attempt of one event started"
                await task
                assert store.event_states()[msg_id][1] == attempt  # the timed-out attempt is recorded
                due = store.next_event_due_at()
                if attempt <= len(RETRY_SCHEDULE):
                    assert due == clock.now + RETRY_SCHEDULE[attempt - 1]  # the retry table's delay
                    assert due is not None
                    clock.now = due
            assert store.event_states()[msg_id] == ("dead", len(RETRY_SCHEDULE) + 1)
            assert store.next_event_due_at() is None
        await _until(lambda: rx.closed_by_client == rx.connections)  # the last hang-up reaches it
        assert rx.connections == len(RETRY_SCHEDULE) + 1
        assert rx.most_open_at_once == {msg_id: 1}
        assert rx.closed_by_client == rx.connections  # every stalled attempt was abandoned, none leaked

    asyncio.run(scenario())


def test_a_trickling_receiver_is_cut_off_by_the_total_deadline_and_retried_per_schedule() -> None:
    async def scenario() -> None:
        async with one_event(trickles) as (clock, store, msg_id, rx, hooks):
            [task] = hooks.start_due()
            await task
            assert store.event_states()[msg_id] == ("pending", 1)
            assert store.next_event_due_at() == clock.now + RETRY_SCHEDULE[0]
            assert hooks.start_due() == []  # not due before its retry time
            await _until(lambda: rx.closed_by_client == 1)  # it sees the hang-up on its next write
        assert rx.closed_by_client == 1

    asyncio.run(scenario())


def test_410_gone_gives_up_the_event_and_disables_the_endpoint() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        store, [first, second] = outbox(clock, count=2)
        async with receiver(answers(410)) as rx:
            hooks = WebhookDispatcher(store, rx.url, SECRET, timeout=5.0, clock=clock, max_in_flight=1)
            async with hooks.session():
                [task] = hooks.start_due()
                await task
                assert hooks.disabled
                clock.now += 86400
                assert hooks.start_due() == []  # the other event is due, but nothing more is sent
        assert store.event_states() == {first: ("dead", 1), second: ("pending", 0)}
        assert rx.connections == 1

    asyncio.run(scenario())


def test_a_2xx_delivers_and_an_error_status_is_retried() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        store, [msg_id] = outbox(clock)
        async with receiver(answers(500)) as failing, receiver(answers(204)) as ok:
            hooks = dispatcher(store, failing.url, clock)
            async with hooks.session():
                [task] = hooks.start_due()
                await task
            assert store.event_states()[msg_id] == ("pending", 1)
            clock.now += RETRY_SCHEDULE[0]
            hooks = dispatcher(store, ok.url, clock)
            async with hooks.session():
                [task] = hooks.start_due()
                await task
        assert store.event_states()[msg_id] == ("delivered", 2)

    asyncio.run(scenario())


def test_at_most_max_in_flight_attempts_run_at_once() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        store, ids = outbox(clock, count=5)
        async with receiver(stalls) as rx:
            hooks = WebhookDispatcher(
                store, rx.url, SECRET, timeout=ATTEMPT_TIMEOUT, clock=clock, max_in_flight=2
            )
            async with hooks.session():
                first = hooks.start_due()
                assert len(first) == 2 and len(hooks.in_flight) == 2
                assert hooks.start_due() == []
                await asyncio.gather(*first)
                assert len(hooks.start_due()) == 2  # the next two, the first two wait for their retry
        states = store.event_states()
        assert [states[msg_id] for msg_id in ids] == [("pending", 1)] * 2 + [("pending", 0)] * 3
        assert max(rx.most_open_at_once.values()) == 1

    asyncio.run(scenario())
