"""How hard each part works: the full run for ``make bench``, a tiny one for the smoke test."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """Loop counts and time budgets; every loop in ``bench`` is bounded by one of these."""

    quick: bool
    repeats: int  # interleaved repeats of a micro-benchmark
    budget_s: float  # wall-time cap of one micro-benchmark comparison
    parse_rounds: int  # passes over the body mix per repeat
    requests: int  # requests per HTTP measurement (loopback GET, pipeline)
    load_seconds: float  # duration of one server load run
    load_requests: int  # request cap of one server load run
    wait_seeds: int  # jitter seeds per simulated wait
    subprocess_timeout_s: float  # cap on make conformance / generate.sh

    def n(self, full: int) -> int:
        """``full`` in a full run, a tenth (at least 1) in a quick one."""
        return max(1, full // 10) if self.quick else full


FULL = Scale(
    quick=False,
    repeats=9,
    budget_s=8.0,
    parse_rounds=400,
    requests=300,
    load_seconds=4.0,
    load_requests=20000,
    wait_seeds=200,
    subprocess_timeout_s=240.0,
)
QUICK = Scale(
    quick=True,
    repeats=2,
    budget_s=0.5,
    parse_rounds=5,
    requests=10,
    load_seconds=0.3,
    load_requests=200,
    wait_seeds=3,
    subprocess_timeout_s=120.0,
)
