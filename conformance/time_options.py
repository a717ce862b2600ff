"""The time options `run` and `check-traffic` share: `--clock-skew` and `--expiry-policy`."""

from __future__ import annotations

import argparse

from .config import EXPIRY_POLICIES


def add_time_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clock-skew", type=float, default=5.0, help="seconds of clock skew allowed (>= 0)")
    parser.add_argument(
        "--expiry-policy",
        choices=EXPIRY_POLICIES,
        default="rolling",
        help="rolling: expiresAt = Date + 24 h on every GET; fixed: expiresAt within (Date, Date + 24 h]",
    )
