"""``python -m bench.loadgen``: a small asyncio httpx load generator, run as its own process.

Why a separate process: the load must not share a GIL with the server it measures or with the
benchmark driver. It stops at ``--max-requests`` or after ``--seconds``, whichever comes first, and
prints one JSON line: requests, errors, elapsed seconds and status counts. The bearer token is read
from ``BENCH_LOAD_TOKEN`` (never from the command line).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence

import httpx

TOKEN_ENV = "BENCH_LOAD_TOKEN"


async def _worker(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    body: bytes | None,
    deadline: float,
    left: list[int],
    statuses: Counter[str],
) -> None:
    while left[0] > 0 and time.monotonic() < deadline:
        left[0] -= 1
        try:
            response = await client.request(method, url, content=body)
            statuses[str(response.status_code)] += 1
        except httpx.HTTPError as exc:
            statuses[type(exc).__name__] += 1


async def load(
    method: str,
    url: str,
    body: bytes | None,
    *,
    token: str,
    concurrency: int,
    seconds: float,
    max_requests: int,
) -> dict[str, object]:
    """Issue requests from ``concurrency`` keep-alive connections; return the counts."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if body is not None:
        headers["Content-Type"] = "application/json"
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    statuses: Counter[str] = Counter()
    left = [max_requests]
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=10.0) as client:
        await client.request(method, url, content=body)  # warm-up, not counted
        start = time.monotonic()
        deadline = start + seconds
        await asyncio.gather(
            *(_worker(client, method, url, body, deadline, left, statuses) for _ in range(concurrency))
        )
        elapsed = time.monotonic() - start
    ok = sum(n for status, n in statuses.items() if status.startswith("2"))
    return {
        "requests": ok,
        "errors": sum(statuses.values()) - ok,
        "elapsed": elapsed,
        "statuses": dict(statuses),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__)
    parser.add_argument("--method", choices=("GET", "POST"), required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--body", help="JSON request body (POST)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--max-requests", type=int, required=True)
    args = parser.parse_args(argv)
    if args.concurrency < 1 or args.seconds <= 0 or args.max_requests < 1:
        parser.error("--concurrency, --seconds and --max-requests must be positive")
    body = args.body.encode() if args.body is not None else None
    result = asyncio.run(
        load(
            args.method,
            args.url,
            body,
            token=os.environ.get(TOKEN_ENV, ""),
            concurrency=args.concurrency,
            seconds=args.seconds,
            max_requests=args.max_requests,
        )
    )
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
