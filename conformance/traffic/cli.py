"""`conformance check-traffic FILE.har`: judge recorded traffic with `run`'s rules; `run --har-out` writing.

Exit codes as `run`: 0 conforming, 1 violations, 2 could not run (an unreadable or invalid file, no API
exchange in it), always with one line and never a traceback.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any, TextIO

from questionnaire_exports_client.redact import Redactor, redact_url

from ..console import progress_printer, summary
from ..exits import EXIT_CANNOT_RUN, EXIT_OK, EXIT_VIOLATIONS, UsageError
from ..model import Report, Tally
from ..reports import write_reports
from ..time_options import add_time_options
from .capture import RunCapture
from .har import MAX_BODY_BYTES, MAX_ENTRIES, MAX_HAR_BYTES, HarError, load_har, write_har
from .judge import TrafficConfig, TrafficJudge

COMMAND = "check-traffic"


def add_parser(sub: Any) -> None:
    """Register `check-traffic` on the CLI's subcommands (`sub` is argparse's subparsers action)."""
    check = sub.add_parser(
        COMMAND,
        help="judge a recorded HAR file with the same rules as run (no request is sent)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Exit codes: 0 conforming, 1 violations found, 2 could not run.",
    )
    check.add_argument(
        "har", type=Path, metavar="FILE.har", help="a HAR 1.1/1.2 file (browser, mitmproxy, ...)"
    )
    check.add_argument("--base-url", help="API base ending in /v1 (default: inferred from the spec's paths)")
    add_time_options(check)
    check.add_argument("--max-har-bytes", type=int, default=MAX_HAR_BYTES, help="larger files are refused")
    check.add_argument(
        "--max-entries", type=int, default=MAX_ENTRIES, help="files with more entries are refused"
    )
    check.add_argument(
        "--max-body-bytes",
        type=int,
        default=MAX_BODY_BYTES,
        help="bodies judged at most (longer: not judged)",
    )
    check.add_argument("--junit", type=Path, help="write a JUnit XML report (one test case per rule)")
    check.add_argument("--report-json", type=Path, help="write the JSON report")
    check.add_argument("--report-html", type=Path, help="write a self-contained HTML report")


def _config(args: argparse.Namespace) -> TrafficConfig:
    if args.clock_skew < 0:
        raise UsageError("--clock-skew must be >= 0")
    for name in ("max_har_bytes", "max_entries", "max_body_bytes"):
        if getattr(args, name) <= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be positive")
    if args.base_url and not args.base_url.startswith(("http://", "https://")):
        raise UsageError(f"--base-url must be an http(s) URL, got {redact_url(args.base_url)!r}")
    return TrafficConfig(base_url=args.base_url, expiry_policy=args.expiry_policy, clock_skew=args.clock_skew)


def _write(args: argparse.Namespace, report: Report, redactor: Redactor, out: TextIO) -> bool:
    return write_reports(
        report, redactor, out, json_path=args.report_json, junit_path=args.junit, html_path=args.report_html
    )


def command(args: argparse.Namespace, out: TextIO) -> int:
    """Read the file, judge every entry in time order, report like `run`."""
    config = _config(args)
    redactor = Redactor()
    printer = progress_printer(redactor, out)
    started = time.monotonic()
    name = args.har.name
    header: list[str] = []  # printed before the first finding, or the summary: never when exit 2

    def progress(line: str) -> None:
        while header:
            printer(header.pop())
        printer(line)

    judge = TrafficJudge(config, redactor, progress)
    try:
        har = load_har(
            args.har,
            max_bytes=args.max_har_bytes,
            max_entries=args.max_entries,
            max_body_bytes=args.max_body_bytes,
        )
    except HarError as exc:
        return _cannot_run(args, str(exc), redactor, out)
    made_by = f" written by {har.creator}" if har.creator else ""
    header.append(f"checking {name}: {len(har.entries)} entries{made_by}")
    for recorded in har.entries:
        judge.observe(recorded)
    report = judge.report(target=name, elapsed=time.monotonic() - started)
    report.notes[:0] = har.notes()
    if judge.api_exchanges == 0:
        skipped = sum(har.skipped.values())
        why = f"{len(har.entries)} usable entries" + (f", {skipped} skipped" if skipped else "")
        return _cannot_run(
            args, f"no API exchange in {name} ({why}; --base-url to name the API)", redactor, out, report
        )
    progress(redactor.text(summary(report)))
    if not _write(args, report, redactor, out):
        return EXIT_CANNOT_RUN
    return EXIT_OK if report.conforming else EXIT_VIOLATIONS


def _cannot_run(
    args: argparse.Namespace, error: str, redactor: Redactor, out: TextIO, report: Report | None = None
) -> int:
    if report is None:
        report = Report(
            target=args.har.name,
            profile="traffic",
            seed=0,
            results=Tally().results(),
            requests=0,
            elapsed=0.0,
        )
    report.error = error
    _write(args, report, redactor, out)
    out.write(redactor.text(f"conformance: cannot run: {error}") + "\n")
    return EXIT_CANNOT_RUN


def write_capture(path: Path, capture: RunCapture, redactor: Redactor, out: TextIO) -> bool:
    """`run --har-out`: the run's exchanges as a redacted HAR file; False (one line) when it cannot be written."""
    try:
        write_har(path, capture.entries(), redactor)
    except OSError as exc:
        out.write(f"conformance: cannot write HAR file: {exc}\n")
        return False
    if capture.dropped:
        out.write(
            f"conformance: --har-out kept the first {capture.max_entries} exchanges, {capture.dropped} not recorded\n"
        )
    return True
