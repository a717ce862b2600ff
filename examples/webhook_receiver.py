"""A minimal webhook receiver that verifies every delivery with a ``WebhookVerifier``.

    WEBHOOK_SECRET=whsec_... python examples/webhook_receiver.py --port 8081

Answers 204 to a verified delivery (and to a repeat of one already seen: delivery is at least once, so
it deduplicates on ``svix-id``) and 400 to anything else. Requests are handled on threads: the dedupe table
sits behind a lock and every line is written whole, so lines never interleave. Standard library HTTP server
only; put a real web framework in front for production. ``--max-events N`` and ``--max-seconds S`` stop it
(used by tests).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
import time
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TextIO

from questionnaire_exports_client.lib import WebhookVerificationError, WebhookVerifier
from questionnaire_exports_client.models import ExportCompletedEvent

SECRET_VARIABLE = "WEBHOOK_SECRET"
MAX_BODY = 64 * 1024
_SEEN_LIMIT = 10_000


class Receiver(ThreadingHTTPServer):
    daemon_threads = False  # server_close() then waits for running handlers, so no line is lost at exit

    def __init__(
        self, address: tuple[str, int], secret: str, max_events: int | None, out: TextIO = sys.stdout
    ) -> None:
        self.verifier = WebhookVerifier(secret)  # a malformed secret fails here, at start-up
        self.max_events = max_events
        self.out = out
        self.lock = threading.Lock()  # guards seen, events and done, and keeps each line whole
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.events = 0
        self.done = False
        super().__init__(address, Handler)
        self.timeout = 0.2  # handle_request() returns this often, so the loop can check its limits

    def say(self, line: str) -> None:
        with self.lock:
            self._write(line)

    def _write(self, line: str) -> None:  # under self.lock: one write per line
        self.out.write(line + "\n")
        self.out.flush()

    def record(self, msg_id: str, line: str) -> None:
        """Print ``line`` once per ``msg_id``; count it towards ``max_events``."""
        with self.lock:
            if msg_id in self.seen:
                return
            self.seen[msg_id] = None
            if len(self.seen) > _SEEN_LIMIT:
                self.seen.popitem(last=False)
            self._write(line)
            self.events += 1
            self.done = self.max_events is not None and self.events >= self.max_events


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        length = self.headers.get("content-length", "")
        if not (length.isascii() and length.isdigit() and int(length) <= MAX_BODY):
            self._answer(400)
            return
        body = self.rfile.read(int(length))
        try:
            event = self.server.verifier.verify(body, dict(self.headers.items()))
        except WebhookVerificationError as exc:
            self.server.say(f"rejected: {exc}")
            self._answer(400)
            return
        self._answer(204)
        if isinstance(event, ExportCompletedEvent):
            line = f"completed: export {event.export.id}; GET it for a download link"
        else:
            line = f"failed: export {event.export.id}: {event.export.reason}"
        self.server.record(self.headers.get("svix-id") or self.headers.get("webhook-id") or "", line)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default access log (one line per request on stderr)."""


def serve(server: Receiver, max_seconds: float | None) -> None:
    """Handle requests until ``max_events`` were recorded or ``max_seconds`` passed."""
    stop_at = time.monotonic() + max_seconds if max_seconds is not None else math.inf
    while not server.done and time.monotonic() < stop_at:
        server.handle_request()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--max-events", type=int, default=None, help="stop after N verified events")
    parser.add_argument("--max-seconds", type=float, default=None, help="stop after this long")
    args = parser.parse_args(argv)
    secret = os.environ.get(SECRET_VARIABLE)
    if not secret:
        parser.error(f"set {SECRET_VARIABLE} to the endpoint's whsec_ secret")
    try:
        server = Receiver(("127.0.0.1", args.port), secret, args.max_events)
    except WebhookVerificationError as exc:
        parser.error(str(exc))
    with server:
        server.say(f"listening on http://127.0.0.1:{server.server_address[1]}/")
        serve(server, args.max_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
