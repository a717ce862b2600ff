"""A download passes through the proxy without being held: memory stays flat whatever its size.

The normal run measures the proxy in this process with `tracemalloc` (every thread's allocations, the
proxy's serving thread included) on a 32 MiB download; `-m slow` runs the command itself on a 64 MiB one
and reads the child's own peak RSS (`VmHWM`), as the hostile-target tests do.
"""

from __future__ import annotations

import hashlib
import socket
import tracemalloc

import httpx
import pytest

from .process import proxy_process
from .upstreams import PATIENCE, Respond, Seen, proxying, raw_upstream

BLOCK = b"\x00\x01binary-export-data" * 3277  # ~64 KiB
PEAK_RSS_MB = 100


def big_download(size: int) -> Respond:
    """An upstream answering every request with ``size`` bytes (whole blocks), Content-Length declared."""
    blocks = size // len(BLOCK)

    def respond(_seen: Seen, conn: socket.socket) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {blocks * len(BLOCK)}"
        conn.sendall(head.encode() + b"\r\nConnection: close\r\n\r\n")
        for _ in range(blocks):
            conn.sendall(BLOCK)

    return respond


def test_a_32_mib_download_streams_through_in_flat_memory() -> None:
    size = 32 * 1024 * 1024
    digest = hashlib.sha256()
    received = 0
    with raw_upstream(big_download(size)) as upstream, proxying(upstream.url()) as proxy:
        tracemalloc.start()
        try:
            with httpx.stream("GET", proxy.url.removesuffix("/v1") + "/files/big", timeout=PATIENCE) as r:
                for chunk in r.iter_raw():
                    received += len(chunk)
                    digest.update(chunk)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert received == size // len(BLOCK) * len(BLOCK)
    assert peak < 8 * 1024 * 1024, f"{peak / 2**20:.1f} MiB allocated at the peak for a 32 MiB download"
    (download,) = proxy.log.entries
    assert download.cut == f"download not recorded: {received} bytes, sha256 {digest.hexdigest()}"


@pytest.mark.slow
def test_the_command_streams_a_64_mib_download_with_a_flat_peak_rss() -> None:
    """The real process, its own `VmHWM`: the peak after a 64 MiB download is close to the one at start."""
    size = 64 * 1024 * 1024
    received = 0
    with raw_upstream(big_download(size)) as upstream, proxy_process(upstream.url()) as proxy:
        at_start = proxy.peak_rss_mb()
        with httpx.stream("GET", proxy.url.removesuffix("/v1") + "/files/big", timeout=PATIENCE) as r:
            for chunk in r.iter_raw():
                received += len(chunk)
        peak = proxy.peak_rss_mb()
        code, output = proxy.stop()
    assert code == 0, output
    assert received == size // len(BLOCK) * len(BLOCK)
    assert peak < PEAK_RSS_MB and peak - at_start < 32, (at_start, peak)
