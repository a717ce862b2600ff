"""Hostile targets: a raw-socket HTTP server that trickles, floods, redirects or nests, and logs every request.

Why raw sockets: trickled status lines, endless bodies and lying `Content-Length` headers are exactly
what a framework would refuse to send. The server speaks just enough of the API (unknown id -> 404
problem, POST -> 202 pending, GET -> completed with a link to itself) for the suite to reach the step
where the chosen behaviour (`mode`) strikes, `where` it is told to: on every answer, on the GET of a
created export, or on the download link. Every request line received is logged, so a test can compare
what the target received with what the report counts.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

MODES = (
    "trickle_headers",  # the status line and headers one byte at a time, never finished in time
    "trickle_body",  # headers at once, then the body one byte at a time
    "endless_body",  # a chunked body that never ends, sent as fast as possible
    "huge_length",  # Content-Length: 10 GB, data flowing
    "redirect_loop",  # 302 to the same URL
    "redirect_other_host",  # 302 to another host (a login page)
    "html_404",  # an HTML error page
    "deep_json",  # 200,000 nested arrays
    "not_utf8",  # application/json that is not UTF-8
)
WHERE = ("all", "get", "download", "later")  # later: from the 20th request on (Schemathesis' share)
LATER = 20
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TOKEN = "hostile-token-8f3Kq2Lx9Zw"
QUESTIONNAIRE = "65a5d6e2f1a2b3c4d5e6f7a8"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Hostile:
    mode: str | None
    where: str = "all"
    port: int = 0
    log: list[tuple[str, str]] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)  # time.monotonic() of each request line
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    exports: dict[str, str] = field(default_factory=dict)  # id -> format

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def methods(self) -> set[str]:
        with self.lock:
            return {method for method, _ in self.log}

    def received(self) -> int:
        with self.lock:
            return len(self.log)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _read_request(conn: socket.socket) -> tuple[str, str, dict[str, str], bytes] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1 << 20:
            return None
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = [*lines[0].split(" "), "", ""][:3]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = rest
    while len(body) < length:
        chunk = conn.recv(min(65536, length - len(body)))
        if not chunk:
            break
        body += chunk
    return method, path, headers, body


def _head(status: int, reason: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers), "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


def _simple(
    conn: socket.socket, status: int, body: bytes, media: str, extra: tuple[tuple[str, str], ...] = ()
) -> None:
    reason = {
        200: "OK",
        202: "Accepted",
        302: "Found",
        400: "Bad Request",
        401: "Unauthorized",
        404: "Not Found",
    }
    conn.sendall(
        _head(
            status,
            reason.get(status, "X"),
            [("Content-Type", media), ("Content-Length", str(len(body))), *extra],
        )
        + body
    )


def _problem(conn: socket.socket, status: int, detail: str) -> None:
    body = json.dumps({"type": "about:blank", "title": "Error", "status": status, "detail": detail}).encode()
    extra = (("WWW-Authenticate", "Bearer"),) if status == 401 else ()
    _simple(conn, status, body, "application/problem+json", extra)


class _Server:
    def __init__(self, state: Hostile) -> None:
        self.state = state
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        state.port = int(self.sock.getsockname()[1])
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self.state.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            conn.settimeout(30)
            parsed = _read_request(conn)
            if parsed is None:
                return
            method, path, headers, body = parsed
            with self.state.lock:
                self.state.log.append((method, path))
                self.state.arrivals.append(time.monotonic())
            self._answer(conn, method, path, headers, body)

    def _hostile(self, conn: socket.socket, path: str) -> None:
        mode, stop = self.state.mode, self.state.stop
        if mode == "trickle_headers":
            for byte in _head(200, "OK", [("Content-Type", "application/json")]) * 100:
                if stop.is_set():
                    return
                conn.sendall(bytes([byte]))
                time.sleep(0.2)
        elif mode == "trickle_body":
            conn.sendall(
                _head(200, "OK", [("Content-Type", "application/json"), ("Content-Length", "100000")])
            )
            while not stop.is_set():
                conn.sendall(b" ")
                time.sleep(0.2)
        elif mode in ("endless_body", "huge_length"):
            framing = (
                ("Transfer-Encoding", "chunked")
                if mode == "endless_body"
                else ("Content-Length", str(10 * 1024**3))
            )
            conn.sendall(_head(200, "OK", [("Content-Type", "application/json"), framing]))
            block = b"[" * 65536
            chunk = f"{len(block):x}\r\n".encode() + block + b"\r\n" if mode == "endless_body" else block
            while not stop.is_set():
                conn.sendall(chunk)
        elif mode == "redirect_loop":
            _simple(conn, 302, b"", "text/plain", (("Location", path),))
        elif mode == "redirect_other_host":
            _simple(
                conn, 302, b"", "text/plain", (("Location", "https://login.example.invalid/sso?token=abc"),)
            )
        elif mode == "html_404":
            _simple(conn, 404, b"<html><body><h1>Not Found</h1></body></html>", "text/html")
        elif mode == "deep_json":
            _simple(conn, 200, b"[" * 200_000 + b"]" * 200_000, "application/json")
        elif mode == "not_utf8":
            _simple(conn, 200, b'{"id": "\xff\xfe"}', "application/json")

    def _answer(
        self, conn: socket.socket, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> None:
        state = self.state
        is_download = path.startswith("/files/")
        with state.lock:
            late = len(state.log) > LATER
        if state.mode and (
            state.where == "all"
            or (state.where == "later" and late)
            or (state.where == "download" and is_download)
            or (
                state.where == "get"
                and method == "GET"
                and path.split("?")[0].rsplit("/", 1)[-1] in state.exports
            )
        ):
            self._hostile(conn, path)
            return
        if is_download:
            _simple(conn, 200, b"PK\x03\x04hostile-fake-xlsx", _XLSX)
            return
        if headers.get("authorization") != f"Bearer {TOKEN}":
            _problem(conn, 401, "Missing or invalid bearer token.")
            return
        prefix = "/v1/customer-trust/questionnaires/exports"
        if method == "POST" and path == prefix:
            try:
                request = json.loads(body)
            except ValueError:
                _problem(conn, 400, "not JSON")
                return
            if not isinstance(request, dict) or request.get("questionnaireId") != QUESTIONNAIRE:
                _problem(conn, 404, "No questionnaire with this id.")
                return
            export_id = secrets.token_hex(12)
            fmt = str(request.get("format", "original"))
            state.exports[export_id] = fmt
            answer = {
                "id": export_id,
                "status": "pending",
                "format": fmt,
                "requestedAt": _iso(datetime.now(UTC)),
            }
            _simple(conn, 202, json.dumps(answer).encode(), "application/json")
            return
        export_id = path.split("?")[0].rsplit("/", 1)[-1]
        if method == "GET" and path.startswith(prefix + "/") and export_id in state.exports:
            now = datetime.now(UTC)
            answer = {
                "id": export_id,
                "status": "completed",
                "format": state.exports[export_id],
                "requestedAt": _iso(now - timedelta(seconds=1)),
                "completedAt": _iso(now - timedelta(seconds=1)),
                "downloadUrl": f"http://127.0.0.1:{state.port}/files/{export_id}?signature=s3cr3t",
                "expiresAt": _iso(now + timedelta(hours=24)),
            }
            _simple(conn, 200, json.dumps(answer).encode(), "application/json")
            return
        _problem(conn, 404, "No export with this id.")


@contextlib.contextmanager
def hostile_server(mode: str | None, where: str = "all") -> Iterator[Hostile]:
    state = Hostile(mode=mode, where=where)
    server = _Server(state)
    server.thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        server.thread.join(timeout=5)
        server.sock.close()


@dataclass
class ChildRun:
    code: int
    output: str
    elapsed: float
    peak_rss_mb: float
    report: dict[str, Any]
    files: dict[str, str]


def _peak_rss_kb(pid: int, done: threading.Event, peak: list[int]) -> None:
    """Poll the child's own high-water mark (`VmHWM`) until it exits.

    Not `wait4`'s `ru_maxrss`: Linux carries the parent's peak across fork and exec into the child's figure,
    so a child of a 300 MB pytest worker would report 300 MB whatever it did itself. `VmHWM` belongs to the
    child's own address space (a new one at exec); it only grows, so the last read before exit is the peak
    up to that moment (polled every 20 ms).
    """
    status = Path(f"/proc/{pid}/status")
    while not done.is_set():
        try:
            text = status.read_text()
        except OSError:
            return
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                peak[0] = max(peak[0], int(line.split()[1]))
        done.wait(0.02)


def _wait_measuring(child: subprocess.Popen[bytes], limit: float) -> float:
    """Wait for ``child`` (killed at ``limit`` s) and return its own peak RSS in MB."""
    peak = [0]
    done = threading.Event()
    watcher = threading.Thread(target=_peak_rss_kb, args=(child.pid, done, peak), daemon=True)
    watcher.start()
    killer = threading.Timer(limit, child.kill)
    killer.start()
    try:
        child.wait()
    finally:
        killer.cancel()
        done.set()
        watcher.join(timeout=5)
    assert peak[0] > 0, "the child's VmHWM was never read"
    return peak[0] / 1024  # kilobytes


def measure_child_peak_mb(argv: list[str], *, limit: float) -> float:
    """Run ``argv`` and return its own peak RSS in MB, measured as ``run_child`` measures it."""
    return _wait_measuring(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL), limit)


def run_child(argv: list[str], tmp: Path, *, limit: float, token: str = TOKEN) -> ChildRun:
    """`python -m conformance` in a child process, killed at `limit` s; its own peak RSS (`VmHWM`)."""
    paths = {"json": tmp / "report.json", "junit": tmp / "junit.xml", "html": tmp / "report.html"}
    full = [
        sys.executable, "-m", "conformance", *argv,
        "--report-json", str(paths["json"]), "--junit", str(paths["junit"]), "--report-html", str(paths["html"]),
    ]  # fmt: skip
    env = {key: value for key, value in os.environ.items() if not key.startswith("CONFORMANCE_")}
    env["CONFORMANCE_TOKEN"] = token
    out_path = tmp / "output.txt"
    started = time.monotonic()
    with out_path.open("wb") as sink:
        child = subprocess.Popen(
            full, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT, env=env
        )
        peak_mb = _wait_measuring(child, limit)
    elapsed = time.monotonic() - started
    files = {name: path.read_text(encoding="utf-8") for name, path in paths.items() if path.exists()}
    report = json.loads(files["json"]) if "json" in files else {}
    return ChildRun(child.returncode, out_path.read_text("utf-8", "replace"), elapsed, peak_mb, report, files)
