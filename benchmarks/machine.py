"""The machine the numbers come from, the page cache, and numpy's matrix-multiply speed.

Nothing here imports a deep-learning framework: versions come from the installed
package metadata.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from .timing import interleave, rates

DIST_NAMES = {  # what to report -> distributions that may provide it
    "torch": ("torch",),
    "tensorflow": ("tensorflow", "tensorflow-cpu"),
    "keras": ("keras",),
    "mxnet": ("mxnet", "mxnet-mkl"),
    "matplotlib": ("matplotlib",),
}


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def physical_cores() -> int | None:
    """Distinct (physical id, core id) pairs in /proc/cpuinfo (None when not listed)."""
    cores, phys = set(), "0"
    for line in _read("/proc/cpuinfo").splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "physical id":
            phys = value.strip()
        elif key == "core id":
            cores.add((phys, value.strip()))
    return len(cores) or None


def meminfo_kib(field: str) -> int | None:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def package_version(name: str) -> str | None:
    for dist in DIST_NAMES.get(name, (name,)):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def describe() -> dict:
    """CPU, cores, RAM, versions, date and the load average when the run started."""
    ram = meminfo_kib("MemTotal")
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "physical_cores": physical_cores(),
        "usable_cores": usable,
        "ram_gib": round(ram / 2**20, 1) if ram else None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "packages": {name: package_version(name) for name in DIST_NAMES},
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "executable": sys.executable,
    }


def drop_page_cache() -> dict:
    """Try ``sync; echo 3 > /proc/sys/vm/drop_caches``; report whether it worked.

    Needs root (and a kernel that lets this process write the file: not in most
    containers). The page-cache size before and after shows whether it took effect.
    """
    before = meminfo_kib("Cached")
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    except OSError as err:
        return {"dropped": False, "reason": f"{type(err).__name__}: {err}",
                "cached_mib_before": _mib(before)}
    after = meminfo_kib("Cached")
    return {"dropped": True, "reason": "", "cached_mib_before": _mib(before),
            "cached_mib_after": _mib(after)}


def _mib(kib: int | None) -> float | None:
    return round(kib / 1024, 1) if kib is not None else None


def matmul_flops(n: int) -> float:
    """Floating-point operations of an n x n by n x n product: n^3 multiply-adds x 2."""
    return 2.0 * n ** 3


def numpy_matmul(n: int, repeats: int, warmup: int) -> dict:
    """float32 ``a @ b`` with numpy's BLAS: GFLOP/s (median, min, max)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)

    def side() -> float:
        start = time.perf_counter()
        a @ b
        return time.perf_counter() - start

    seconds = interleave({"numpy": side}, repeats, warmup)["numpy"]
    result = rates(seconds, matmul_flops(n) / 1e9, "GFLOP/s")
    result.update(size=n, dtype="float32", library="numpy " + np.__version__,
                  blas=_numpy_blas())
    return result


def _numpy_blas() -> str:
    try:
        config = np.show_config(mode="dicts")  # numpy >= 1.25
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 (only a label)
        return "unknown"
