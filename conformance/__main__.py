"""Entry point of `python -m conformance` and the `conformance` console script."""

from __future__ import annotations

import sys

from .cli import run_cli


def main() -> int:
    return run_cli(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
