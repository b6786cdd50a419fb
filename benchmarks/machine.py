"""The machine: CPU, cores, RAM, versions (package metadata: no framework imported)."""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata

import numpy as np

from book import environments
from book.quiet import cores, cpu_model

PACKAGES = ("torch", "tensorflow", "keras", "jax", "flax", "mxnet")


def ram_gib() -> float | None:
    with open("/proc/meminfo") as f:
        kib = next((int(line.split()[1]) for line in f if line.startswith("MemTotal:")), None)
    return round(kib / 2**20, 1) if kib else None


def _version(dist: str, env: environments.Environment | None = None) -> str | None:
    """A distribution's version here (``env`` None), or in the book environment ``env``."""
    where = {} if env is None else {
        "path": [str(p) for p in env.path.glob("lib/python*/site-packages")]}
    found = next(metadata.distributions(name=dist, **where), None)
    return found.version if found else None


def package_version(name: str) -> str | None:
    """Its version in this environment, else in the first book environment that has it."""
    return next((v for env in (None, *environments.ENVIRONMENTS) if (v := _version(name, env))),
                None)


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
        "cpu_model": cpu_model(), "usable_cores": cores(),
        "ram_gib": ram_gib(), "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(), "numpy": numpy_versions(),
        "packages": {name: package_version(name) for name in PACKAGES},
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }
