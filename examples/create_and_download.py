"""Create an export, wait for it with a progress line, and download the file.

    QUESTIONNAIRE_EXPORTS_TOKEN=dev-token python examples/create_and_download.py \
        --base-url http://127.0.0.1:8080/v1 --questionnaire-id 65a5d6e2f1a2b3c4d5e6f7a8 --format csv --output .

The token comes from the environment, so it shows up in neither the process list nor the shell history.
Exit status: 0 downloaded, 1 the export failed or timed out, 2 bad usage or an API error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from questionnaire_exports_client import AuthenticatedClient
from questionnaire_exports_client.lib import (
    HelperError,
    Poll,
    WaitTimeout,
    create_and_wait,
    download_export,
)
from questionnaire_exports_client.models import ExportCompleted
from questionnaire_exports_client.models.export_format import EXPORT_FORMAT_VALUES

TOKEN_VARIABLE = "QUESTIONNAIRE_EXPORTS_TOKEN"


def show_progress(poll: Poll) -> None:
    """One status line per poll, on stderr."""
    state = poll.export.status if poll.export is not None else f"retrying ({poll.error})"
    following = f", next poll in {poll.next_delay:.1f}s" if poll.next_delay is not None else ""
    print(f"[{poll.elapsed:6.1f}s] poll {poll.attempt}: {state}{following}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="API base URL, ending in /v1")
    parser.add_argument("--questionnaire-id", required=True)
    parser.add_argument("--format", choices=sorted(EXPORT_FORMAT_VALUES), default="csv")
    parser.add_argument("--output", type=Path, default=Path("."), help="file or existing folder")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds for create + wait")
    args = parser.parse_args(argv)
    token = os.environ.get(TOKEN_VARIABLE)
    if not token:
        parser.error(f"set {TOKEN_VARIABLE} to your API token")

    with AuthenticatedClient(base_url=args.base_url, token=token) as client:
        try:
            export = create_and_wait(
                client,
                args.questionnaire_id,
                format_=args.format,
                timeout=args.timeout,
                on_poll=show_progress,
            )
            if not isinstance(export, ExportCompleted):
                print(f"export {export.id} failed: {export.error_message}", file=sys.stderr)
                return 1
            path = download_export(client, export, args.output)
        except WaitTimeout as exc:
            print(f"gave up: {exc}", file=sys.stderr)
            return 1
        except HelperError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
