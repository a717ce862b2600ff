"""Command line: `conformance run` and `conformance webhooks`; exit codes 0 conforming, 1 violations, 2 cannot run.

Why no `--token`: a token on the command line ends up in shell history and process lists; it is read
from an environment variable instead (`CONFORMANCE_TOKEN`, or the one `--token-env` names).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from questionnaire_exports_client.redact import SAFE_SECRET_LENGTH, Redactor, redact_url

from . import credentials
from .config import PROFILES, RunConfig, is_header_token, is_loopback, profile_defaults
from .console import progress_printer, summary
from .exits import EXIT_CANNOT_RUN, EXIT_OK, EXIT_VIOLATIONS, UsageError
from .model import Report
from .proxy_cli import add_proxy_parser, command_proxy
from .time_options import add_time_options

DEFAULT_TOKEN_ENV = "CONFORMANCE_TOKEN"
DEFAULT_SECRET_ENV = "CONFORMANCE_WEBHOOK_SECRET"


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False  # `--token` must not silently mean `--token-env`
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _positive(kind: type[float] | type[int]) -> Callable[[str], float | int]:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.ArgumentDefaultsHelpFormatter
    parser = _Parser(prog="conformance", description="Check that a deployment follows openapi.yaml.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser(
        "run",
        help="run the rules against a target (default: the embedded reference server)",
        formatter_class=fmt,
        description="Exit codes: 0 conforming, 1 violations found, 2 could not run.",
    )
    run.add_argument(
        "--base-url", help="API base ending in /v1; without it the embedded reference server is used"
    )
    run.add_argument(
        "--questionnaire-id", help="a questionnaire whose exports succeed (required with --base-url)"
    )
    run.add_argument(
        "--failing-questionnaire-id", help="a questionnaire whose exports fail (checks `failed`)"
    )
    run.add_argument("--document-questionnaire-id", help="a document questionnaire (DOCX) to export as well")
    run.add_argument(
        "--token-env", default=DEFAULT_TOKEN_ENV, help="environment variable holding the bearer token"
    )
    credentials.add_options(run)
    run.add_argument(
        "--profile", choices=PROFILES, help="quick (default off loopback) or full (default on loopback)"
    )
    run.add_argument(
        "--max-requests", type=_positive(int), help="request budget, polling excluded (quick 100, full 400)"
    )
    run.add_argument("--max-polls", type=_positive(int), default=60, help="poll requests allowed")
    run.add_argument(
        "--rate-limit",
        type=_positive(float),
        help="requests per minute, all engines (default 90 off loopback)",
    )
    run.add_argument(
        "--max-exports", type=_positive(int), default=6, help="exports the suite's own steps may create"
    )
    run.add_argument(
        "--read-only", action="store_true", help="send only GET and HEAD; check the --export-id exports only"
    )
    run.add_argument(
        "--export-id", action="append", default=[], help="an existing export to check (repeatable)"
    )
    run.add_argument(
        "--request-timeout",
        type=_positive(float),
        default=10.0,
        help="seconds per request, total (connect, headers and body together)",
    )
    run.add_argument(
        "--deadline",
        type=_positive(float),
        default=300.0,
        help="seconds for the whole run (ends within +10 s)",
    )
    run.add_argument(
        "--poll-timeout", type=_positive(float), default=120.0, help="seconds to wait for an export to finish"
    )
    run.add_argument(
        "--max-body-bytes", type=_positive(int), default=1024 * 1024, help="API answer bodies read at most"
    )
    run.add_argument(
        "--max-download-bytes",
        type=_positive(int),
        default=100 * 1024 * 1024,
        help="bytes of a download link hashed and counted at most (never held in memory)",
    )
    add_time_options(run)
    run.add_argument("--seed", type=int, default=0, help="Schemathesis seed (runs are reproducible)")
    run.add_argument(
        "--no-schemathesis",
        action="store_true",
        help="skip the Schemathesis phases (the suite's own steps only)",
    )
    run.add_argument(
        "--require-coverage",
        action="store_true",
        help="fail (exit 1) when a status variant, a format or an error the suite provokes was never observed",
    )
    run.add_argument("--junit", type=Path, help="write a JUnit XML report (one test case per rule)")
    run.add_argument("--report-json", type=Path, help="write the JSON report")
    run.add_argument("--report-html", type=Path, help="write a self-contained HTML report")
    run.add_argument(
        "--har-out", type=Path, help="write the run's exchanges as a redacted HAR file (for check-traffic)"
    )
    hooks = sub.add_parser(
        "webhooks", help="receive, verify and cross-check webhook deliveries", formatter_class=fmt
    )
    hooks.add_argument("--listen", required=True, help="HOST:PORT to listen on (port 0 picks a free one)")
    hooks.add_argument("--base-url", help="API base for the GET cross-check (optional)")
    hooks.add_argument("--token-env", default=DEFAULT_TOKEN_ENV, help="variable holding the bearer token")
    hooks.add_argument("--secret-env", default=DEFAULT_SECRET_ENV, help="variable holding the whsec_ secret")
    hooks.add_argument(
        "--max-events", type=_positive(int), default=10, help="stop after this many deliveries"
    )
    hooks.add_argument("--timeout", type=_positive(float), default=60.0, help="stop after this many seconds")
    hooks.add_argument(
        "--max-body-bytes", type=_positive(int), default=1024 * 1024, help="larger deliveries answer 413"
    )
    hooks.add_argument("--report-json", type=Path, help="write the JSON report")
    from .traffic import cli as traffic_cli

    traffic_cli.add_parser(sub)
    add_proxy_parser(sub, _positive)
    return parser


def check_token(token: str, variable: str) -> None:
    """A token must be non-empty printable ASCII without spaces (it goes into an HTTP header)."""
    if not token:
        raise UsageError(f"set the bearer token in the environment variable {variable}")
    if not is_header_token(token):
        raise UsageError(f"the token in {variable} must be printable ASCII without spaces")


def _config(args: argparse.Namespace, base_url: str, token: str) -> RunConfig:
    loopback = is_loopback(base_url)
    profile = args.profile or ("full" if loopback else "quick")
    defaults = profile_defaults(profile)
    if args.clock_skew < 0:
        raise UsageError("--clock-skew must be >= 0")
    if args.read_only and not args.export_id:
        raise UsageError("--read-only needs at least one --export-id")
    if not args.read_only and not args.questionnaire_id:
        raise UsageError("--questionnaire-id is required with --base-url (or use --read-only --export-id ID)")
    rate = args.rate_limit if args.rate_limit is not None else (None if loopback else defaults.rate_limit)
    return RunConfig(
        base_url=base_url,
        questionnaire_id=args.questionnaire_id,
        token=token,
        failing_questionnaire_id=args.failing_questionnaire_id,
        document_questionnaire_id=args.document_questionnaire_id,
        profile=profile,
        max_requests=args.max_requests or defaults.max_requests,
        rate_limit=rate,
        max_exports=args.max_exports,
        read_only=args.read_only,
        export_ids=tuple(args.export_id),
        request_timeout=args.request_timeout,
        deadline=args.deadline,
        poll_timeout=args.poll_timeout,
        max_polls=args.max_polls,
        max_body_bytes=args.max_body_bytes,
        max_download_bytes=args.max_download_bytes,
        require_coverage=args.require_coverage,
        clock_skew=args.clock_skew,
        expiry_policy=args.expiry_policy,
        seed=args.seed,
        schemathesis=not args.no_schemathesis,
        st_phases=defaults.st_phases,
        st_max_examples=defaults.st_max_examples,
        st_share=defaults.st_share,
    )


@contextlib.contextmanager
def _target(args: argparse.Namespace, env: Mapping[str, str]) -> Iterator[RunConfig]:
    pair = credentials.client_pair(args, env)  # client credentials: the suite mints its own tokens
    if args.base_url:
        if not args.base_url.startswith(("http://", "https://")):
            raise UsageError(f"--base-url must be an http(s) URL, got {redact_url(args.base_url)!r}")
        if pair is not None:
            oauth = credentials.oauth_config(args, pair, args.base_url)
            yield dataclasses.replace(_config(args, args.base_url, ""), oauth=oauth)
            return
        token = env.get(args.token_env, "")
        check_token(token, args.token_env)
        yield _config(args, args.base_url, token)
        return
    from .embedded import embedded_server

    with embedded_server(oauth_client=pair) as server:
        args.questionnaire_id = args.questionnaire_id or server.questionnaire_id
        args.failing_questionnaire_id = args.failing_questionnaire_id or server.failing_questionnaire_id
        args.document_questionnaire_id = args.document_questionnaire_id or server.document_questionnaire_id
        config = _config(args, server.base_url, server.token)
        if pair is not None:
            cap = server.max_token_requests
            config.oauth = credentials.oauth_config(args, pair, server.base_url, max_token_requests=cap)
        yield config


def _write_reports(args: argparse.Namespace, report: Report, redactor: Redactor, out: TextIO) -> bool:
    from .reports import write_reports

    return write_reports(
        report, redactor, out, json_path=args.report_json, junit_path=args.junit, html_path=args.report_html
    )


def _error_report(args: argparse.Namespace, error: str) -> Report:
    from .model import Tally

    target = Redactor().url(args.base_url or "(embedded reference server)")
    return Report(
        target=target,
        profile=args.profile or "",
        seed=args.seed,
        results=Tally().results(),
        requests=0,
        elapsed=0.0,
        error=error,
    )


def command_run(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    from .embedded import EmbeddedUnavailable
    from .runner import run_suite
    from .traffic.capture import RunCapture
    from .traffic.cli import write_capture

    redactor = Redactor([env.get(args.token_env, ""), env.get(args.client_secret_env, "")])
    progress = progress_printer(redactor, out)
    capture: RunCapture | None = None
    try:
        with _target(args, env) as config:
            redactor.add(config.token)
            if config.oauth is not None and env.get(args.token_env):
                out.write(f"conformance: note: {args.token_env} is ignored: client credentials are set\n")
            elif config.oauth is None and len(config.token) < SAFE_SECRET_LENGTH:
                out.write(
                    f"conformance: warning: the token is {len(config.token)} characters long, too short to "
                    "redact safely; it is hidden only where it stands alone\n"
                )
            capture = RunCapture(config.max_body_bytes) if args.har_out else None
            report = run_suite(config, progress, redactor, on_exchange=capture.add if capture else None)
    except UsageError as exc:
        line = f"conformance: error: {exc}"
        _write_reports(args, _error_report(args, str(exc)), redactor, out)
        out.write(redactor.text(line) + "\n")
        return EXIT_CANNOT_RUN
    except EmbeddedUnavailable as exc:
        report = _error_report(args, str(exc))
    if report.error is None:
        out.write(redactor.text(summary(report)) + "\n")
    written = _write_reports(args, report, redactor, out)
    if capture is not None:
        written = write_capture(args.har_out, capture, redactor, out) and written
    if report.error is not None:
        out.write(redactor.text(f"conformance: cannot run: {report.error}") + "\n")
        return EXIT_CANNOT_RUN
    if not written:
        return EXIT_CANNOT_RUN
    return EXIT_OK if report.conforming else EXIT_VIOLATIONS


def command_webhooks(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    """``conformance webhooks``: listen for deliveries, check each, report like ``run``."""
    from .model import Tally
    from .report_json import write_json
    from .rules import WEBHOOK_RULE
    from .webhooks import WebhookChecker, check_secret, listening, split_listen

    secret = env.get(args.secret_env, "")
    if not secret:
        raise UsageError(f"set the webhook secret (whsec_...) in the environment variable {args.secret_env}")
    token = env.get(args.token_env, "")
    if args.base_url and not token:
        raise UsageError(f"--base-url needs the bearer token in the environment variable {args.token_env}")
    try:
        host, port = split_listen(args.listen)
        check_secret(secret)
    except Exception as exc:
        raise UsageError(str(exc)) from exc
    redactor = Redactor([secret, token, secret.removeprefix("whsec_")])
    tally = Tally(rules=(WEBHOOK_RULE,))
    checker = WebhookChecker(
        secret=secret, tally=tally, redactor=redactor, base_url=args.base_url, token=token
    )
    started = time.monotonic()
    try:
        with listening(host, port, checker, args.max_body_bytes) as listener:
            out.write(
                f"listening on {listener.url} for up to {args.max_events} deliveries, {args.timeout:g} s\n"
            )
            out.flush()
            listener.wait(args.max_events, args.timeout)
    except OSError as exc:
        out.write(f"conformance: cannot run: {exc}\n")
        return EXIT_CANNOT_RUN
    finally:
        checker.close()
    report = Report(
        target=args.listen,
        profile="webhooks",
        seed=0,
        results=tally.results(),
        requests=checker.received,
        elapsed=time.monotonic() - started,
        requests_by_rule=dict(tally.requests),
    )
    for finding in report.findings:
        out.write(redactor.text(f"  FAIL [{finding.rule}] {finding.operation}: {finding.message}") + "\n")
    out.write(redactor.text(summary(report)) + "\n")
    if args.report_json:
        write_json(report, Path(args.report_json), redactor)
    if checker.received == 0:
        out.write(f"conformance: cannot run: no deliveries received within {args.timeout:g} s\n")
        return EXIT_CANNOT_RUN
    return EXIT_OK if report.conforming else EXIT_VIOLATIONS


def run_cli(
    argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None, out: TextIO | None = None
) -> int:
    """Parse and run; every failure becomes one line and an exit code, never a traceback."""
    env = os.environ if env is None else env
    out = out or sys.stdout
    try:
        args = build_parser().parse_args(argv)
        if args.command == "webhooks":
            return command_webhooks(args, env, out)
        if args.command == "check-traffic":
            from .traffic import cli as traffic_cli

            return traffic_cli.command(args, out)
        if args.command == "proxy":
            return command_proxy(args, out)
        return command_run(args, env, out)
    except UsageError as exc:
        out.write(f"conformance: error: {exc}\n")
        return EXIT_CANNOT_RUN
    except KeyboardInterrupt:
        out.write("conformance: interrupted\n")
        return EXIT_CANNOT_RUN
    except Exception as exc:  # the promise is one line and exit 2, never a traceback
        redactor = Redactor(
            [env.get(DEFAULT_TOKEN_ENV, ""), env.get(credentials.DEFAULT_CLIENT_SECRET_ENV, "")]
        )
        out.write(redactor.text(f"conformance: internal error: {type(exc).__name__}: {exc}") + "\n")
        return EXIT_CANNOT_RUN
