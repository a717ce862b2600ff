"""``python -m bench.nodelay_server``: the reference server CLI with ``TCP_NODELAY`` on its socket.

Why: ``reference_server.serving.bind_socket`` leaves Nagle's algorithm on, so on a keep-alive
connection each response waits for the client's delayed ACK (about 40 ms on Linux). Running the same
server with the one-line fix, in the same benchmark run, shows what that stall costs.
"""

from __future__ import annotations

import socket
import sys

from reference_server import __main__ as server_cli
from reference_server import serving


def _bind_nodelay(host: str, port: int) -> socket.socket:
    sock = serving.bind_socket(host, port)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted connections
    return sock


def main() -> int:
    server_cli.bind_socket = _bind_nodelay  # type: ignore[attr-defined]
    return server_cli.main()


if __name__ == "__main__":
    sys.exit(main())
