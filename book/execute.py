"""Run a per-framework notebook top to bottom in a fresh kernel and keep its outputs."""

from __future__ import annotations

import os
import time
from pathlib import Path

from d2l_bn.settings import SMOKE_ENV


def execute(path: Path, smoke: bool = False, timeout: int | None = None) -> float:
    """Run a notebook top to bottom in a fresh kernel; save its outputs in place."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    if smoke:
        os.environ[SMOKE_ENV] = "1"
    else:
        os.environ.pop(SMOKE_ENV, None)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    nb.metadata["d2l_bn"]["run"] = {"seconds": round(seconds, 1),
                                    "mode": "smoke" if smoke else "full",
                                    "date": time.strftime("%Y-%m-%d")}
    nbformat.write(nb, path)
    return seconds
