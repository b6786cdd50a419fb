"""Seconds to load all 70,000 images with ``d2l_bn.data.load_arrays()`` (locate,
decompress, SHA-256, parse): warm (repeated calls; target under 1 s) and cold (the first
call in a fresh process, imports done first; the files stay in the page cache)."""

from __future__ import annotations

import subprocess
import sys
import time

from .config import Config
from .timing import interleave, summarize

N_IMAGES = 70_000

# Runs in a fresh interpreter; prints the seconds of its first load_arrays() call.
_CHILD = ("import time\nfrom d2l_bn.data import load_arrays\nstart = time.perf_counter()\n"
          "load_arrays()\nprint(time.perf_counter() - start)\n")


def measure(config: Config, env: dict, progress=None) -> dict:
    """Warm and cold load times (interleaved repeats) and the verdict on the warm median."""
    from d2l_bn.data import load_arrays

    arrays = load_arrays()  # untimed: downloads once if needed, fills the page cache
    assert len(arrays.train_images) + len(arrays.val_images) == N_IMAGES

    def warm() -> float:
        start = time.perf_counter()
        load_arrays()
        return time.perf_counter() - start

    def cold() -> float:
        out = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True,
                             text=True, check=True, timeout=600)
        return float(out.stdout.split()[-1])

    seconds = interleave({"warm": warm, "cold": cold}, config.repeats, config.warmup,
                         progress)
    warm_stats = summarize(seconds["warm"], "s")
    return {"images": N_IMAGES, "warm": warm_stats, "cold": summarize(seconds["cold"], "s"),
            "target_s": config.data_target_s,
            "pass": warm_stats["median"] < config.data_target_s}
