"""Time to load all 70,000 Fashion-MNIST images with ``d2l_bn.data.load_arrays()``.

* cold: the first call in a fresh Python process (imports done before the clock
  starts). Measured twice per repeat, interleaved: with the files in the page cache
  (one untimed load first), and right after ``sync; echo 3 > /proc/sys/vm/drop_caches`` when that is
  possible (root, and a kernel that allows it). On a virtual machine the host may
  still cache the disk image, so "dropped" means dropped in this kernel only.
* warm: repeated calls in this process (files in the page cache, code imported).

``load_arrays`` locates the four files, decompresses them, checks size and SHA-256,
and parses them; all of that is in the time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from .config import Config
from .machine import drop_page_cache
from .timing import interleave, summarize

N_IMAGES = 70_000

# Runs in a fresh interpreter; prints one JSON line.
_CHILD = """
import json, time
t0 = time.perf_counter()
from d2l_bn.data import load_arrays
t1 = time.perf_counter()
arrays = load_arrays()
t2 = time.perf_counter()
n = len(arrays.train_images) + len(arrays.val_images)
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "images": n}))
"""


def _fresh_process(env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True,
                         text=True, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(config: Config, env: dict | None = None, progress=None) -> dict:
    from d2l_bn.data import load_arrays, locate

    env = dict(os.environ if env is None else env)
    paths = locate()  # downloads once if the files are nowhere (not timed)
    load_arrays()  # untimed: puts the files in the page cache
    drops: list[dict] = []
    imports: list[float] = []

    def cold_cached() -> float:
        result = _fresh_process(env)
        imports.append(result["import_s"])
        return result["load_s"]

    def cold_dropped() -> float:
        drops.append(drop_page_cache())
        result = _fresh_process(env)
        imports.append(result["import_s"])
        return result["load_s"]

    sides = {"cold_page_cached": cold_cached}
    if config.drop_caches:
        sides["cold_page_cache_dropped"] = cold_dropped
    cold = interleave(sides, config.cold_repeats, warmup=0, progress=progress)

    def warm_call() -> float:
        start = time.perf_counter()
        arrays = load_arrays()
        seconds = time.perf_counter() - start
        assert len(arrays.train_images) + len(arrays.val_images) == N_IMAGES
        return seconds

    warm = interleave({"warm": warm_call}, config.repeats, config.warmup)["warm"]
    warm_stats = summarize(warm, "s")
    result = {
        "images": N_IMAGES,
        "files": {name: str(path) for name, path in paths.items()},
        "cold": {name: summarize(samples, "s") for name, samples in cold.items()},
        "cold_import_s": summarize(imports, "s"),
        "warm": warm_stats,
        "target_s": config.data_target_s,
        "pass": warm_stats["median"] < config.data_target_s,
        "page_cache": _page_cache_verdict(config, drops),
        "notes": ("cold = first load_arrays() call in a fresh subprocess (its imports are "
                  "timed separately, in cold_import_s); warm = repeated calls in one "
                  "process; target: warm median below target_s"),
    }
    return result


def _page_cache_verdict(config: Config, drops: list[dict]) -> dict:
    if not config.drop_caches:
        return {"attempted": False, "dropped": False,
                "reason": "not attempted (--quick or --no-drop-caches)"}
    ok = bool(drops) and all(d["dropped"] for d in drops)
    return {"attempted": True, "dropped": ok,
            "reason": "" if ok else next((d["reason"] for d in drops if d["reason"]), ""),
            "runs": drops}
