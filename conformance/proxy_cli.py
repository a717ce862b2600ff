"""`conformance proxy`: the validating reverse proxy's command, serving until SIGINT or SIGTERM, then reporting.

Why the reports come at the end: a proxy has no natural end, so the signal is the end of the run. Findings
are printed as the judge makes them; the reports (the same writers and formats as `run`) and the HAR are
written once serving has stopped and every exchange has been judged. Exit codes: 0 conforming (or no API
traffic seen, said so), 1 violations, 2 could not run (a bad `--upstream`, an address that cannot be served).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from questionnaire_exports_client.redact import Redactor

from . import embedded
from .console import progress_printer, summary
from .exits import EXIT_CANNOT_RUN, EXIT_OK, EXIT_VIOLATIONS, UsageError
from .proxy import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, Proxy, ProxyConfig, Upstream, quiet_aborts
from .proxy_log import DEFAULT_MAX_EXCHANGES, ExchangeLog
from .reports import write_reports
from .time_options import add_time_options
from .traffic.har import write_har
from .traffic.judge import TrafficConfig, TrafficJudge
from .webhooks import split_listen

DEFAULT_LISTEN = "127.0.0.1:8090"
#: How often the waiting main thread looks at the flag the signal handler sets (the handler takes no lock).
_POLL_S = 0.2


def add_proxy_parser(sub: Any, positive: Callable[[type[float] | type[int]], Callable[[str], Any]]) -> None:
    """Register `proxy` on the CLI's subparsers (``positive`` is the CLI's number parser)."""
    proxy = sub.add_parser(
        "proxy",
        help="a validating reverse proxy: forward traffic unchanged and judge it live",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Stops on SIGINT or SIGTERM. Exit codes: 0 conforming (or no API traffic), "
        "1 violations found, 2 could not run.",
    )
    proxy.add_argument(
        "--upstream", required=True, help="the API base to forward to, ending in its prefix (/v1)"
    )
    proxy.add_argument("--listen", default=DEFAULT_LISTEN, help="HOST:PORT to listen on (port 0: a free one)")
    proxy.add_argument(
        "--request-timeout",
        type=positive(float),
        default=DEFAULT_TIMEOUT,
        help="seconds for an API exchange in total; for a download its head and each wait between chunks",
    )
    proxy.add_argument(
        "--max-request-bytes",
        type=positive(int),
        default=DEFAULT_MAX_BYTES,
        help="client request bodies larger than this answer 413",
    )
    proxy.add_argument(
        "--max-body-bytes",
        type=positive(int),
        default=DEFAULT_MAX_BYTES,
        help="bytes of an API answer kept for validation (all are forwarded; a longer body is judged as cut)",
    )
    proxy.add_argument(
        "--max-exchanges",
        type=positive(int),
        default=DEFAULT_MAX_EXCHANGES,
        help="exchanges judged and recorded; later ones are only forwarded",
    )
    add_time_options(proxy)
    proxy.add_argument("--junit", type=Path, help="write a JUnit XML report at the end")
    proxy.add_argument("--report-json", type=Path, help="write the JSON report at the end")
    proxy.add_argument("--report-html", type=Path, help="write a self-contained HTML report at the end")
    proxy.add_argument("--har-out", type=Path, help="write what passed through as a HAR 1.2 file (redacted)")


@contextlib.contextmanager
def _until_signalled(stop: threading.Event) -> Iterator[Callable[[], bool]]:
    """SIGINT and SIGTERM set a flag (a handler must take no lock: it may interrupt this thread holding one);
    yields whether it is time to stop. Outside the main thread only ``stop`` ends the wait."""
    caught: list[int] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        caught.append(signum)

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for wanted in (signal.SIGINT, signal.SIGTERM):
            previous[wanted] = signal.signal(wanted, handler)
    try:
        yield lambda: bool(caught) or stop.is_set()
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def command_proxy(args: argparse.Namespace, out: TextIO, stop: threading.Event | None = None) -> int:
    """Serve until a signal (or ``stop``), then write the reports and the HAR; the exit code."""
    try:
        upstream = Upstream.parse(args.upstream)
        host, port = split_listen(args.listen)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.clock_skew < 0:
        raise UsageError("--clock-skew must be >= 0")
    redactor = Redactor()
    lock = threading.Lock()
    printer = progress_printer(redactor, out)

    def progress(line: str) -> None:
        with lock:  # the judge's worker and the serving loop both print
            printer(line)

    config = TrafficConfig(
        base_url=upstream.base_url, expiry_policy=args.expiry_policy, clock_skew=args.clock_skew
    )
    judge = TrafficJudge(config, redactor, progress)
    log = ExchangeLog(
        judge, redactor, progress, keep=args.har_out is not None, max_exchanges=args.max_exchanges
    )
    proxy = Proxy(
        ProxyConfig(
            upstream,
            request_timeout=args.request_timeout,
            max_request_bytes=args.max_request_bytes,
            max_body_bytes=args.max_body_bytes,
        ),
        log,
    )
    started = time.monotonic()
    try:
        with (
            _until_signalled(stop or threading.Event()) as stopping,
            quiet_aborts(),
            embedded.serving(proxy, host, port, name="conformance-proxy") as bound,
        ):
            shown = f"[{host}]" if ":" in host else host
            progress(
                f"listening on http://{shown}:{bound}{upstream.prefix} (forwarding to {upstream.base_url})"
            )
            while not stopping():
                time.sleep(_POLL_S)
    except OSError as exc:
        out.write(redactor.text(f"conformance: cannot run: {exc}") + "\n")
        return EXIT_CANNOT_RUN
    finally:
        log.close()
    report = judge.report(redactor.url(upstream.base_url), time.monotonic() - started)
    report.notes.extend(log.notes())
    out.write(redactor.text(summary(report)) + "\n")
    written = write_reports(
        report, redactor, out, json_path=args.report_json, junit_path=args.junit, html_path=args.report_html
    )
    if args.har_out is not None:
        try:
            write_har(args.har_out, log.entries, redactor)
        except OSError as exc:
            out.write(f"conformance: cannot write the HAR: {exc}\n")
            written = False
    if not written:
        return EXIT_CANNOT_RUN
    if judge.api_exchanges == 0:
        out.write("conformance: no API traffic passed through the proxy: nothing to judge (exit 0)\n")
        return EXIT_OK
    return EXIT_OK if report.conforming else EXIT_VIOLATIONS
