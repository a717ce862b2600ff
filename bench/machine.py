"""The machine the figures came from: cores, memory, load, Python; printed above the table."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess


def describe() -> str:
    """One line: ``nproc``, total/available memory (``free -h``), 1-minute load average, Python version."""
    cores = os.cpu_count() or 0
    memory = "unknown"
    if shutil.which("free"):
        done = subprocess.run(["free", "-h"], capture_output=True, text=True, timeout=10, check=False)
        for line in done.stdout.splitlines():
            if line.startswith("Mem:"):
                cells = line.split()
                memory = f"{cells[1]} total, {cells[-1]} available"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"machine: nproc={cores}, memory {memory}, load average {load:.2f} (1 min), "
        f"Python {platform.python_version()} ({platform.python_implementation()})"
    )
