"""Every committed full run had the machine to itself, and its record shows it.

``book execute`` writes the record (``metadata.d2l_bn.run``, see ``book.execute``): the
quiet check before the run, and the cores other processes used while it ran. The speeds
and wall times these notebooks print reach readers, so a run that shared the machine
fails here and has to be repeated.
"""

from __future__ import annotations

import nbformat
import pytest

from book import CHAPTERS, quiet
from d2l_bn import FRAMEWORKS

NOTEBOOKS = sorted(p for fw in FRAMEWORKS for p in (CHAPTERS / fw).glob("*.ipynb"))
# A notebook's kernel keeps at least this much CPU busy per second of wall time: its
# training uses both cores. A run whose kernel waited for the CPU falls below it.
MIN_KERNEL_CPU_PER_WALL = 1.0


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_committed_run_had_the_machine_to_itself(path):
    run = nbformat.read(path, as_version=4).metadata["d2l_bn"].get("run", {})
    assert run.get("mode") == "full", f"{path}: no full-run record; run `python -m book execute`"
    assert "quiet_check" in run, f"{path}: its run has no contention record"
    check = run["quiet_check"]
    assert check["passed"] and not check["forced"], (path, check)
    assert run["other_cores"] <= quiet.OTHER_CORES_LIMIT, (path, run)
    assert run["kernel_cpu_per_wall"] >= MIN_KERNEL_CPU_PER_WALL, (path, run)
    assert run["training"]["examples"] > 0, (path, run)
