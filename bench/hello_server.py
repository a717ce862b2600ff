"""``python -m bench.hello_server``: the baseline for part 5, a bare Starlette app on the same stack.

Why: requests per second mean little alone. This app runs on the reference server's own serving code
(``bind_socket``, ``uvicorn_server``: one worker, same socket options and uvicorn settings), and
answers GET with the spec's completed example and POST (after parsing the JSON body) with the pending
one, so the ratio isolates what the reference app itself costs per request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reference_server.serving import base_url, bind_socket, uvicorn_server

from . import bodies


def app() -> Starlette:
    examples = bodies.variant_examples()

    async def get(request: Request) -> Response:
        return JSONResponse(examples["completed"])

    async def post(request: Request) -> Response:
        json.loads(await request.body())
        return JSONResponse(examples["pending"], status_code=202)

    return Starlette(
        routes=[
            Route("/v1/{path:path}", get, methods=["GET"]),
            Route("/v1/{path:path}", post, methods=["POST"]),
        ]
    )


async def _serve(port: int) -> None:
    sock = bind_socket("127.0.0.1", port)
    server = uvicorn_server(app())
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(3000):  # at most 30 s for startup
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    if server.started:
        print(f"listening on {base_url(sock)}", flush=True)
    try:
        await task
    finally:
        sock.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hello_server", description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
