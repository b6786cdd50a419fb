"""nbval compares what it can: every exempt cell says why, every sanitizer is live.

nbval executes each per-framework notebook in smoke mode and compares every code cell's
output with the committed full run, except cells tagged ``nbval-ignore-output``. Smoke
mode changes only training (subset, one epoch), so a cell may be exempt only if its
output depends on a training run, on the size of the data or on timing, and it says
which with a second tag, ``exempt-<reason>`` (``REASONS``), set next to
``nbval-ignore-output`` in the cell options of ``chapters/*.md``. The sanitizers in
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
REASON = "exempt-"
# Why a cell's output may differ between the committed full run and a smoke run.
REASONS = {"training": "it shows a training run, its results or its trained models",
           "data-size": "it shows how many images there are (smoke mode shrinks the data)",
           "timing": "it shows a clock's reading (a speed or a wall time)"}


def code_cells(path: Path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def compared(cell) -> bool:
    return bool(cell.outputs) and IGNORE not in cell.metadata.get("tags", [])


def exemption_problem(tags: list[str]) -> str:
    """What is wrong with a cell's exemption from comparison ('' if nothing)."""
    reasons = [t.removeprefix(REASON) for t in tags if t.startswith(REASON)]
    if IGNORE not in tags:
        return f"{reasons} without {IGNORE}: remove the reason" if reasons else ""
    if len(reasons) != 1 or reasons[0] not in REASONS:
        return (f"{IGNORE} needs exactly one reason tag, one of "
                f"{[REASON + r for r in REASONS]}; has {[REASON + r for r in reasons]}")
    return ""


@pytest.mark.parametrize("tags, problem", [
    ([IGNORE, "exempt-training"], ""), (["hide-cell", IGNORE, "exempt-timing"], ""),
    ([], ""), ([IGNORE], "needs exactly one reason"),
    ([IGNORE, "exempt-training", "exempt-timing"], "needs exactly one reason"),
    ([IGNORE, "exempt-convenience"], "needs exactly one reason"),
    (["exempt-training"], "remove the reason")])
def test_exemption_rule(tags, problem):
    assert (exemption_problem(tags) == "") == (problem == "")
    assert problem in exemption_problem(tags)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_exempt_cell_says_why(path):
    for cell in code_cells(path):
        problem = exemption_problem(cell.metadata.get("tags", []))
        assert not problem, (f"{path}: {problem} (set the tags in the cell options of its "
                             f"source, chapters/*.md):\n{cell.source[:300]}")


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
