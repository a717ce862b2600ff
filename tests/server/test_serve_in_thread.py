"""``serve_in_thread()``: the one way tests, fakes and the webhook listener run an app in a thread."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from reference_server.serving import serve_in_thread


async def _hello(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


APP = Starlette(routes=[Route("/", _hello)])


def test_port_zero_is_read_back_and_the_stop_closes_the_port() -> None:
    with serve_in_thread(APP) as served:
        assert served.port != 0 and served.origin == f"http://127.0.0.1:{served.port}"
        assert httpx.get(served.origin + "/").text == "hello"  # the port really is the listening one
    assert not served.running
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", served.port), 5):
        pass
    served.stop()  # idempotent


def test_a_taken_port_raises_oserror() -> None:
    with serve_in_thread(APP) as served, pytest.raises(OSError):
        serve_in_thread(APP, port=served.port)


def _no_database() -> None:
    raise RuntimeError("no database")


def test_a_failing_startup_raises_and_leaves_no_thread() -> None:
    @contextlib.asynccontextmanager
    async def broken(_app: Starlette) -> AsyncIterator[None]:
        _no_database()  # a lifespan that fails before it yields
        yield

    with pytest.raises(RuntimeError, match="did not start"):
        serve_in_thread(Starlette(lifespan=broken), name="broken")
