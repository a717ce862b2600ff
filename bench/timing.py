"""Bounded, interleaved timing: every loop has a call count and a wall-time budget.

Why interleaved: a noisy neighbour slows whatever runs at that moment; alternating the candidates
repeat by repeat spreads that noise over all of them, so their ratio stays meaningful. CPU-bound
figures use the best repeat (the run least disturbed); latency figures use the median.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """Per-call nanoseconds over ``repeats`` repeats of ``number`` calls each."""

    best_ns: float
    median_ns: float
    repeats: int
    number: int


def _one_repeat(fn: Callable[[], object], number: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(number):
        fn()
    return (time.perf_counter_ns() - start) / number


def compare(
    candidates: Mapping[str, Callable[[], object]], *, number: int, repeats: int, budget_s: float
) -> dict[str, Timing]:
    """Time each candidate ``repeats`` times, interleaved; stop early once ``budget_s`` is spent.

    Every candidate gets at least one repeat (after one warm-up call each), so the result always has
    every key; ``number`` and ``repeats`` must be positive.
    """
    if number < 1 or repeats < 1:
        raise ValueError(f"number and repeats must be >= 1, got {number} and {repeats}")
    for fn in candidates.values():
        fn()
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    deadline = time.monotonic() + budget_s
    for _ in range(repeats):
        for name, fn in candidates.items():
            samples[name].append(_one_repeat(fn, number))
        if time.monotonic() > deadline:
            break
    return {
        name: Timing(min(values), statistics.median(values), len(values), number)
        for name, values in samples.items()
    }


def latencies(fn: Callable[[], object], *, count: int, budget_s: float) -> list[float]:
    """Nanoseconds of up to ``count`` single calls, stopping once ``budget_s`` is spent (at least one)."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    out: list[float] = []
    deadline = time.monotonic() + budget_s
    for _ in range(count):
        start = time.perf_counter_ns()
        fn()
        out.append(float(time.perf_counter_ns() - start))
        if time.monotonic() > deadline:
            break
    return out


def human_ns(ns: float) -> str:
    """``812 ns``, ``41.3 µs``, ``2.40 ms``, ``1.25 s``."""
    if ns < 1e3:
        return f"{ns:.0f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.1f} µs"
    if ns < 1e9:
        return f"{ns / 1e6:.2f} ms"
    return f"{ns / 1e9:.2f} s"
