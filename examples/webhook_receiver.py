"""A minimal webhook receiver that verifies every delivery with ``verify_webhook``.

    WEBHOOK_SECRET=whsec_... python examples/webhook_receiver.py --port 8081

Answers 204 to a verified delivery (and to a repeat of one already seen: delivery is at least once, so
it deduplicates on ``svix-id``) and 400 to anything else. Standard library HTTP server only; put a real
web framework in front for production. ``--max-events N`` and ``--max-seconds S`` stop it (used by tests).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from questionnaire_exports_client.lib import WebhookVerificationError, verify_webhook
from questionnaire_exports_client.models import ExportCompletedEvent

SECRET_VARIABLE = "WEBHOOK_SECRET"
MAX_BODY = 64 * 1024
_SEEN_LIMIT = 10_000


class Receiver(ThreadingHTTPServer):
    def __init__(self, address: tuple[str, int], secret: str, max_events: int | None) -> None:
        super().__init__(address, Handler)
        self.secret = secret
        self.max_events = max_events
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.done = False
        self.timeout = 0.2  # handle_request() returns this often, so the loop can check its limits


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        length = self.headers.get("content-length", "")
        if not length.isdigit() or int(length) > MAX_BODY:
            self._answer(400)
            return
        body = self.rfile.read(int(length))
        try:
            event = verify_webhook(body, dict(self.headers.items()), self.server.secret)
        except WebhookVerificationError as exc:
            print(f"rejected: {exc}", flush=True)
            self._answer(400)
            return
        msg_id = self.headers.get("svix-id") or self.headers.get("webhook-id") or ""
        self._answer(204)
        if msg_id in self.server.seen:
            return
        self.server.seen[msg_id] = None
        if len(self.server.seen) > _SEEN_LIMIT:
            self.server.seen.popitem(last=False)
        if isinstance(event, ExportCompletedEvent):
            print(f"completed: export {event.export.id}; GET it for a download link", flush=True)
        else:
            print(f"failed: export {event.export.id}: {event.export.reason}", flush=True)
        if self.server.max_events is not None and len(self.server.seen) >= self.server.max_events:
            self.server.done = True

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default access log (one line per request on stderr)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--max-events", type=int, default=None, help="stop after N verified events")
    parser.add_argument("--max-seconds", type=float, default=None, help="stop after this long")
    args = parser.parse_args(argv)
    secret = os.environ.get(SECRET_VARIABLE)
    if not secret:
        parser.error(f"set {SECRET_VARIABLE} to the endpoint's whsec_ secret")
    with Receiver(("127.0.0.1", args.port), secret, args.max_events) as server:
        print(f"listening on http://127.0.0.1:{server.server_address[1]}/", flush=True)
        stop_at = time.monotonic() + args.max_seconds if args.max_seconds is not None else math.inf
        while not server.done and time.monotonic() < stop_at:
            server.handle_request()
    return 0


if __name__ == "__main__":
    sys.exit(main())
