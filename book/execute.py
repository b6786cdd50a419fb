"""Run a per-framework notebook top to bottom in a fresh kernel and keep its outputs.

The kernel is the one the notebook names (``d2l-bn-<framework>``, registered by ``make
setup``; see ``book.environments``), so each framework runs in its own environment.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from d2l_bn.settings import SMOKE_ENV

# The variables through which the frameworks (and their math libraries) take their
# thread counts. On a shared machine, a kernel whose two OpenMP threads wait for each
# other at every operation can run ten times slower than one with a single thread.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                    "TF_NUM_INTEROP_THREADS", "MXNET_CPU_WORKER_NTHREADS")


def execute(path: Path, smoke: bool = False, timeout: int | None = None,
            threads: int | None = None) -> float:
    """Run a notebook top to bottom in a fresh kernel of the kernelspec it names (its
    framework's environment); save its outputs in place.

    ``threads`` limits the kernel's compute threads (default: the frameworks' own
    choice, one per core). The notebook's metadata records the mode, threads, date and
    wall time of the run.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    if smoke:
        os.environ[SMOKE_ENV] = "1"
    else:
        os.environ.pop(SMOKE_ENV, None)
    for name in THREAD_VARIABLES:
        if threads:
            os.environ[name] = str(threads)
        else:
            os.environ.pop(name, None)
    start = time.perf_counter()
    kernel = nb.metadata["kernelspec"]["name"]  # d2l-bn-<framework>: its own environment
    NotebookClient(nb, timeout=timeout, kernel_name=kernel,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    nb.metadata["d2l_bn"]["run"] = {"seconds": round(seconds, 1),
                                    "mode": "smoke" if smoke else "full",
                                    "threads": threads or os.cpu_count(),
                                    "date": time.strftime("%Y-%m-%d")}
    nbformat.write(nb, path)
    return seconds
