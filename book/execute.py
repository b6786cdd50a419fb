"""Run a per-framework notebook top to bottom in a fresh kernel and keep its outputs.

The kernel is its framework's (``d2l-bn-<framework>``, registered by ``make setup``; see
``book.environments``), whatever kernel the notebook names for learners.

A **full run** prints speeds and takes a wall time that readers see, so it must have the
machine to itself: it starts only on a quiet machine (``book.quiet.check``; ``force``
overrides, and the record says so) and records in the notebook's metadata
(``metadata.d2l_bn.run``) what shows whether it stayed alone: the load average before and
after, the kernel's CPU time over the wall time, the cores other processes used, the
threads, and the training examples the Trainer processed and the seconds it took. The
notebook is replaced only when the run finished, atomically; an interrupted or failed
run leaves the committed file as it was. A **smoke run** never touches the committed
notebook: it writes its copy under ``_build/smoke/``.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from d2l_bn.settings import SMOKE_ENV, TALLY_ENV

from . import ROOT, quiet
from .environments import kernel_name
from .files import BookError, read_notebook

# The variables through which the frameworks (and their math libraries) take their
# thread counts.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                    "TF_NUM_INTEROP_THREADS", "MXNET_CPU_WORKER_NTHREADS")
SMOKE_DIR = ROOT / "_build" / "smoke"


class BusyMachine(BookError):
    """A full run was asked for on a machine that other work is using."""


def smoke_path(path: Path) -> Path:
    """Where a smoke run of ``path`` writes its outputs (never over the committed file)."""
    return SMOKE_DIR / path.resolve().relative_to(ROOT)


def write_atomically(nb, path: Path) -> None:
    """Write a notebook so that ``path`` holds the old file or the new one, never a part."""
    import nbformat

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            nbformat.write(nb, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def kernel_environment(smoke: bool, threads: int | None, tally: Path) -> dict[str, str]:
    """The kernel's environment: ours, with smoke mode, thread counts and the tally file
    set (``os.environ`` itself is left alone)."""
    env = {k: v for k, v in os.environ.items() if k != SMOKE_ENV and k not in THREAD_VARIABLES}
    if smoke:
        env[SMOKE_ENV] = "1"
    if threads:
        env.update(dict.fromkeys(THREAD_VARIABLES, str(threads)))
    return {**env, TALLY_ENV: str(tally)}


def _training_tally(tally: Path) -> dict:
    """Sum of the Trainer's records (one JSON line per fit) of this run."""
    fits = [json.loads(line) for line in tally.read_text().splitlines()] if tally.exists() else []
    return {"fits": len(fits), "examples": sum(f["examples"] for f in fits),
            "seconds": round(sum(f["seconds"] for f in fits), 1)}


def execute(path: Path, smoke: bool = False, timeout: int | None = None,
            threads: int | None = None, force: bool = False) -> float:
    """Run a notebook in a fresh kernel of its framework; keep its outputs (see above).

    ``threads`` limits the kernel's compute threads (default: the frameworks' own
    choice, one per core). Returns the wall time in seconds.
    """
    from nbclient import NotebookClient

    nb = read_notebook(path)
    framework = nb.metadata["d2l_bn"]["framework"]
    checked = None
    if not smoke:
        checked = quiet.check()
        if not checked.quiet and not force:
            raise BusyMachine(
                f"Not starting a full run of {path.name}: the machine is busy "
                f"({checked.describe()}). Full runs print speeds to readers, so they need "
                f"the machine to themselves: stop the other jobs (tests, sweeps, other "
                f"runs) and try again, or pass --force (the record will say so).")
    with tempfile.TemporaryDirectory() as scratch:
        tally = Path(scratch) / "tally.jsonl"
        env = kernel_environment(smoke, threads, tally)
        load_before = quiet.load_average()
        usage = quiet.Usage().start()
        client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name(framework),
                                resources={"metadata": {"path": str(path.parent)}})
        # The kernel's own CPU time, read after each cell while it runs: the children
        # that exit meanwhile (usage.child_cpu, the fallback) may include processes some
        # other code started earlier, as in a test session.
        kernel_cpu = {}
        client.on_cell_executed = lambda **_: kernel_cpu.update(
            seconds=quiet.process_cpu_seconds(client.km.provisioner.pid))
        client.execute(env=env)
        usage.stop()
        cpu = kernel_cpu.get("seconds")
        training = _training_tally(tally)
    record = {"mode": "smoke" if smoke else "full", "date": time.strftime("%Y-%m-%d"),
              "seconds": round(usage.wall, 1), "threads": threads or quiet.cores(),
              "machine": f"{quiet.cpu_model()}, {quiet.cores()} cores",
              "load_before": round(load_before, 2), "load_after": round(quiet.load_average(), 2),
              "kernel_cpu_per_wall": round((usage.child_cpu if cpu is None else cpu)
                                           / usage.wall, 2),
              "other_cores": round(usage.other_cores, 3), "training": training}
    if checked is not None:
        record["quiet_check"] = {"load": checked.load, "core_share": checked.core_share,
                                 "other_cores": checked.other_cores,
                                 "passed": checked.quiet, "forced": force}
    nb.metadata["d2l_bn"]["run"] = record
    write_atomically(nb, smoke_path(path) if smoke else path)
    return usage.wall
