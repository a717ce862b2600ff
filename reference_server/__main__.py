"""Command line: ``python -m reference_server --host 127.0.0.1 --port 0 --token T [--oauth-client ID:SECRET]``.

Prints exactly one line, ``listening on http://HOST:PORT/v1``, on stdout once connections are accepted;
everything else (the ``auth:`` line naming the auth modes and the token URL, access log, job and webhook
log) goes to stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import re
import sys
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn

import contract

from .app import create_app
from .config import (
    DEFAULT_RATE_LIMIT,
    DEFAULT_TOKEN_RATE_LIMIT,
    RateLimit,
    ServerConfig,
    default_db_path,
)
from .serving import ServingOptions, base_url, bind_socket, uvicorn_server

TOKENS_ENV = "REFERENCE_SERVER_TOKENS"
OAUTH_CLIENTS_ENV = "REFERENCE_SERVER_OAUTH_CLIENTS"
WEBHOOK_SECRET_ENV = "REFERENCE_SERVER_WEBHOOK_SECRET"
SIGNING_SECRET_ENV = "REFERENCE_SERVER_SIGNING_SECRET"


_UNRECOGNIZED = "unrecognized arguments: "
_AMBIGUOUS = re.compile(r"(ambiguous option: -+[^=\s]+)=\S*")
_OPTION_NAME = re.compile(r"--?[A-Za-z][A-Za-z0-9-]*")


class _Parser(argparse.ArgumentParser):
    """Never quotes an argument it could not place: it may be a secret (``ID:SECRET`` after a mistyped
    ``--oauth-client``, the rest of a secret with a space, ``--to=TOKEN``). Unknown options are named,
    nothing else."""

    def error(self, message: str) -> NoReturn:
        if message.startswith(_UNRECOGNIZED):
            words = message.removeprefix(_UNRECOGNIZED).split(" ")
            names = [w.split("=", 1)[0] for w in words if _OPTION_NAME.fullmatch(w.split("=", 1)[0])]
            hidden = len(words) - len(names)
            shown = " ".join(names)
            more = f"{hidden} value(s) not shown (they may be secrets)" if hidden else ""
            message = _UNRECOGNIZED + "; ".join(part for part in (shown, more) if part)
        super().error(_AMBIGUOUS.sub(r"\1", message))


def build_parser() -> argparse.ArgumentParser:
    """The CLI's argument parser."""
    parser = _Parser(prog="python -m reference_server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one (default 8080)")
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        help=f"accepted bearer token (repeatable); also comma-separated in ${TOKENS_ENV}",
    )
    parser.add_argument(
        "--oauth-client",
        action="append",
        default=[],
        metavar="ID:SECRET",
        help="accept this client at POST /oauth/token (repeatable; split at the first ':'); also"
        f" comma-separated in ${OAUTH_CLIENTS_ENV}. With it --token is optional",
    )
    parser.add_argument(
        "--token-lifetime", type=float, default=3600.0, metavar="SECONDS", help="OAuth token lifetime (3600)"
    )
    parser.add_argument(
        "--token-rate-limit",
        default=DEFAULT_TOKEN_RATE_LIMIT,
        metavar="N/WINDOW_SECONDS",
        help=f"token requests per client id (default {DEFAULT_TOKEN_RATE_LIMIT})",
    )
    parser.add_argument("--export-delay", type=float, default=2.0, metavar="SECONDS", help="job time (2)")
    storage = parser.add_mutually_exclusive_group()
    storage.add_argument("--db", type=Path, metavar="PATH", help=f"SQLite file (default {default_db_path()})")
    storage.add_argument("--in-memory", action="store_true", help="keep nothing across restarts")
    parser.add_argument(
        "--rate-limit",
        default=DEFAULT_RATE_LIMIT,
        metavar="N/WINDOW_SECONDS",
        help=f"per-token limit, or 'off' (default {DEFAULT_RATE_LIMIT})",
    )
    parser.add_argument("--webhook-url", metavar="URL", help="POST webhook events here")
    parser.add_argument(
        "--webhook-secret", metavar="whsec_...", help=f"signing secret for webhooks; or ${WEBHOOK_SECRET_ENV}"
    )
    parser.add_argument(
        "--webhook-retry-scale", type=float, default=1.0, metavar="FACTOR", help="scale the retry schedule"
    )
    parser.add_argument(
        "--webhook-timeout", type=float, default=15.0, metavar="SECONDS", help="total time per attempt (15)"
    )
    parser.add_argument(
        "--signing-secret", metavar="S", help=f"HMAC key for download links; or ${SIGNING_SECRET_ENV}"
    )
    parser.add_argument(
        "--public-url", metavar="URL", help="origin of download links behind a proxy (http:// or https://)"
    )
    defaults = ServingOptions()
    parser.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="comma-separated proxy addresses/networks whose X-Forwarded-For/-Proto are trusted (default none)",
    )
    for flag, kind, text in (
        ("--header-timeout", float, "close a connection whose request head is not complete in time"),
        ("--keep-alive-timeout", float, "close an idle keep-alive connection"),
        ("--max-connections", int, "open connections; over it the longest-idle one is closed"),
    ):
        default = getattr(defaults, flag.removeprefix("--").replace("-", "_"))
        metavar = "SECONDS" if kind is float else "N"
        parser.add_argument(flag, type=kind, default=default, metavar=metavar, help=f"{text} ({default:g})")
    return parser


def build_options(args: argparse.Namespace) -> ServingOptions:
    """The connection limits and proxy trust from parsed arguments; raises ``ValueError`` on bad input."""
    trusted = None
    if args.forwarded_allow_ips is not None:
        trusted = tuple(ip.strip() for ip in args.forwarded_allow_ips.split(",") if ip.strip())
    return ServingOptions(
        header_timeout=args.header_timeout,
        keep_alive_timeout=args.keep_alive_timeout,
        max_connections=args.max_connections,
        forwarded_allow_ips=trusted,
    )


def build_config(args: argparse.Namespace, environ: Mapping[str, str]) -> ServerConfig:
    """A ``ServerConfig`` from parsed arguments and the environment; raises ``ValueError`` on bad input."""
    tokens = [t for t in args.token if t]
    tokens += [t.strip() for t in environ.get(TOKENS_ENV, "").split(",") if t.strip()]
    clients = list(args.oauth_client)
    clients += [c.strip() for c in environ.get(OAUTH_CLIENTS_ENV, "").split(",") if c.strip()]
    oauth_clients = []
    for position, text in enumerate(clients, start=1):
        client_id, colon, secret = text.partition(":")
        if not colon:  # never echo the text: it may be a secret without its id
            raise ValueError(f"OAuth client #{position} must look like ID:SECRET")
        oauth_clients.append((client_id, secret))
    if not tokens and not oauth_clients:
        raise ValueError(f"give at least one --token or --oauth-client (or set {TOKENS_ENV})")
    rate_limit = None if args.rate_limit.strip().lower() == "off" else RateLimit.parse(args.rate_limit)
    webhook_secret = args.webhook_secret or environ.get(WEBHOOK_SECRET_ENV) or None
    signing_secret = args.signing_secret or environ.get(SIGNING_SECRET_ENV) or None
    config = ServerConfig(
        tokens=tuple(dict.fromkeys(tokens)),
        export_delay=args.export_delay,
        db_path=args.db,
        in_memory=args.in_memory,
        rate_limit=rate_limit,
        webhook_url=args.webhook_url,
        webhook_secret=webhook_secret if args.webhook_url else None,
        webhook_retry_scale=args.webhook_retry_scale,
        webhook_timeout=args.webhook_timeout,
        public_url=args.public_url,
        oauth_clients=tuple(oauth_clients),
        token_lifetime=args.token_lifetime,
        token_rate_limit=RateLimit.parse(args.token_rate_limit),
    )
    if signing_secret:
        config = dataclasses.replace(config, signing_secret=signing_secret.encode("utf-8"))
    return config


def auth_modes(config: ServerConfig, base_url: str) -> str:
    """Which auth modes are on, and the token URL: counts and URLs only, never a token or a secret."""
    modes = []
    if config.tokens:
        modes.append(f"{len(config.tokens)} static bearer token(s)")
    if config.oauth_clients:
        token_url = urllib.parse.urljoin(base_url, contract.token_path())
        modes.append(
            f"OAuth client credentials for {len(config.oauth_clients)} client(s) at POST {token_url}"
            f" (tokens last {config.token_lifetime:g} s; {config.token_rate_limit.limit} requests per"
            f" {config.token_rate_limit.window:g} s per client)"
        )
    return "; ".join(modes)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server until interrupted; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = build_config(args, os.environ)
        options = build_options(args)
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        parser.error(f"cannot listen on {args.host}:{args.port}: {exc.strerror}")
    url = base_url(sock)

    def announce() -> None:
        if server.started:
            logging.getLogger("reference_server").info("auth: %s", auth_modes(config, url))
            print(f"listening on {url}", flush=True)

    server = uvicorn_server(create_app(config), options=options, on_startup_done=announce)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
