"""`python -m conformance proxy` as a child process: started, its `listening on` line read, signalled, reaped.

Every wait is bounded (`PATIENCE`); a child that does not stop in time is killed and the test fails.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..hostile import ROOT
from .upstreams import PATIENCE


@dataclass
class ProxyProcess:
    child: subprocess.Popen[str]
    url: str = ""  # the printed `listening on` URL
    lines: list[str] = field(default_factory=list)
    _queue: queue.Queue[str | None] = field(default_factory=queue.Queue)

    def _pump(self) -> None:
        assert self.child.stdout is not None
        for line in self.child.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for_listening(self) -> str:
        for _ in range(1000):
            try:
                line = self._queue.get(timeout=PATIENCE)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if line.startswith("listening on "):
                self.url = line.split()[2]
                return self.url
        raise AssertionError(f"no `listening on` line: {''.join(self.lines)}")

    def peak_rss_mb(self) -> float:
        """The child's own high-water mark (`VmHWM`, its address space only), so far."""
        status = Path(f"/proc/{self.child.pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
        return kb / 1024

    def stop(self, signum: int = signal.SIGTERM) -> tuple[int, str]:
        """Signal the child and reap it: (exit code, everything it printed)."""
        self.child.send_signal(signum)
        try:
            code = self.child.wait(timeout=3 * PATIENCE)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait()
            raise AssertionError(f"the proxy did not stop on signal {signum}") from None
        for _ in range(100_000):
            line = self._queue.get(timeout=PATIENCE)
            if line is None:
                break
            self.lines.append(line)
        return code, "".join(self.lines)


def _env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("CONFORMANCE_")}


@contextlib.contextmanager
def proxy_process(upstream: str, *extra: str) -> Iterator[ProxyProcess]:
    """Start the command on 127.0.0.1, a free port; killed if the test leaves it running."""
    argv = [
        sys.executable,
        "-m",
        "conformance",
        "proxy",
        "--upstream",
        upstream,
        "--listen",
        "127.0.0.1:0",
        *extra,
    ]
    child = subprocess.Popen(
        argv, cwd=ROOT, env=_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    process = ProxyProcess(child)
    threading.Thread(target=process._pump, daemon=True).start()
    try:
        process.wait_for_listening()
        yield process
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
