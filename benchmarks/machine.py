"""The machine the numbers come from: CPU, cores, RAM, versions, date, load average.

Nothing here imports a deep-learning framework: versions come from the installed
package metadata.
"""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata
from pathlib import Path

import numpy as np

DIST_NAMES = {  # what to report -> distributions that may provide it
    "torch": ("torch",),
    "tensorflow": ("tensorflow", "tensorflow-cpu"),
    "keras": ("keras",),
    "mxnet": ("mxnet", "mxnet-mkl"),
}


def _proc_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def cpu_model() -> str:
    for line in _proc_lines("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def physical_cores() -> int | None:
    """Distinct (physical id, core id) pairs in /proc/cpuinfo (None when not listed)."""
    cores, phys = set(), "0"
    for line in _proc_lines("/proc/cpuinfo"):
        key, _, value = line.partition(":")
        if key.strip() == "physical id":
            phys = value.strip()
        elif key.strip() == "core id":
            cores.add((phys, value.strip()))
    return len(cores) or None


def ram_gib() -> float | None:
    for line in _proc_lines("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 2**20, 1)
    return None


def package_version(name: str) -> str | None:
    for dist in DIST_NAMES[name]:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def describe() -> dict:
    """CPU, cores, RAM, versions, date and the load average when the run started."""
    return {
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "physical_cores": physical_cores(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "ram_gib": ram_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "packages": {name: package_version(name) for name in DIST_NAMES},
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }
