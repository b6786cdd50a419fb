"""The machine the numbers come from: CPU, cores, RAM, versions, date, load average.

Nothing here imports a deep-learning framework: versions come from the installed
package metadata, of this environment or of the framework's own (``book.environments``:
MXNet's runs numpy 1.26, the others numpy 2).
"""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from book import environments

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


def _site_packages(env: environments.Environment) -> list[str]:
    return [str(p) for p in env.path.glob("lib/python*/site-packages")]


def _version(dist: str, env: environments.Environment | None = None) -> str | None:
    """A distribution's version here, or in the book environment ``env``."""
    if env is None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None
    found = next(metadata.distributions(name=dist, path=_site_packages(env)), None)
    return found.version if found else None


def package_version(name: str) -> str | None:
    """Its version in this environment, else in the first book environment that has it."""
    for env in (None, *environments.ENVIRONMENTS):
        for dist in DIST_NAMES[name]:
            if version := _version(dist, env):
                return version
    return None


def numpy_versions() -> str:
    """numpy here, and in each other book environment with another numpy (its frameworks)."""
    here = environments.current()
    others = [f"{', '.join(environments.LABELS.get(fw, fw) for fw in env.frameworks)}: {v}"
              for env in environments.ENVIRONMENTS if env is not here
              and (v := _version("numpy", env)) and v != np.__version__]
    return np.__version__ + (f" ({'; '.join(others)})" if others else "")


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
        "numpy": numpy_versions(),
        "packages": {name: package_version(name) for name in DIST_NAMES},
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }
