"""nbval compares what it can: only training-dependent cells are exempt, every sanitizer is live.

nbval executes each per-framework notebook in smoke mode and compares every code cell's
output with the committed full run, except cells tagged ``nbval-ignore-output``. Smoke
mode changes only training (subset, one epoch), so a cell may be exempt only if its
output depends on a training run, on the size of the data or on timing. The sanitizers in
``tests/nbval_sanitize.cfg`` hide what legitimately differs between runs of a compared
cell (rounding-level differences between two implementations); each must match some
compared output, or it is dead configuration.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import nbformat
import pytest
from notebook_text import output_text

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(ROOT.glob("chapters/*/*.ipynb"))
IGNORE = "nbval-ignore-output"
# What makes an output depend on training or timing: a training run, its results or
# its trained models, the exercises' training helpers and their rows, the data (smoke
# mode shrinks it), or a clock.
TRAINING = re.compile(r"\.fit\(|_result\b|\btrainer\b|Trainer\(|_model\b|\bmodel\b|"
                      r"\brun\(|\brun_tracked\(|\bsweeps?\b|\bbest_rate\(|_rows\b|"
                      r"FashionMNIST\(|\bsubset\(|"
                      r"perf_counter|timeit|time\.")


def code_cells(path: Path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def compared(cell) -> bool:
    return bool(cell.outputs) and IGNORE not in cell.metadata.get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_only_training_dependent_cells_are_exempt(path):
    for cell in code_cells(path):
        if IGNORE in cell.metadata.get("tags", []):
            assert TRAINING.search(cell.source), (
                f"{path.name}: a cell exempt from comparison does not depend on training "
                f"or timing; let nbval compare it:\n{cell.source[:300]}")


def test_every_notebook_has_compared_cells(record_property):
    counts = {f"{p.parent.name}/{p.name}": sum(map(compared, code_cells(p)))
              for p in NOTEBOOKS}
    record_property("compared_cells", counts)
    print("\ncells whose outputs nbval compares:", counts, "total", sum(counts.values()))
    assert all(n >= 5 for n in counts.values()), counts


def test_every_sanitizer_matches_a_compared_output():
    config = configparser.ConfigParser()
    config.read(ROOT / "tests" / "nbval_sanitize.cfg")
    outputs = "\n".join(output_text(c) for p in NOTEBOOKS for c in code_cells(p)
                        if compared(c))
    for section in config.sections():
        assert re.search(config[section]["regex"], outputs), (
            f"sanitizer [{section}] matches no compared output: remove it")
