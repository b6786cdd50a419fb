"""The ``notebook-runs`` directive: the notebooks' wall times, from their run records.

Each committed per-framework notebook records its last full run in its metadata
(``metadata.d2l_bn.run``, written by ``book execute``): wall time, training examples
the Trainer processed, the machine and how many cores other processes used meanwhile.
This directive turns those records into a table at build time, so the Performance page
never shows a time copied by hand. It adds the **learner's wait**: the wall time over
the time the notebook's training examples would take at the raw training loop's rate of
the benchmark run (``benchmarks/results/latest.json``, LeNet-BN with the built-in layer):
what evaluation, plotting, compiling, setup and the slower scratch layers add.

A notebook whose last full run predates the run records (no contention record yet) is
named below the table instead; ``tests/test_run_records.py`` says which may be so. A
notebook over its time budget (``BUDGET_SECONDS``: ten minutes on a quiet two-core
machine) is named below the table with its time.
"""

from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.locale import get_translation
from sphinx.util.docutils import SphinxDirective

from d2l_bn import FRAMEWORKS, LABELS

__version__ = "0.1.0"

_ = get_translation("site")  # the site catalog, registered by _ext/translation.py
ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks" / "results" / "latest.json"
PAGES = {"batch_norm": _("chapter"), "exercises": _("exercises")}
BUDGET_SECONDS = 600  # each notebook's full run, on a quiet two-core machine


def duration(seconds: float) -> str:
    """``4 min 05 s`` (or ``42 s``), with no-break spaces: one line in a narrow column."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}\u00a0min {rest:02d}\u00a0s" if minutes else f"{rest}\u00a0s"


def raw_rates(path: Path = BENCHMARKS) -> dict[str, float]:
    """Examples/sec of the benchmark run's raw training loop, per framework."""
    frameworks = json.loads(path.read_text())["frameworks"]
    raw = {fw: res.get("trainer_overhead", {}).get("raw") for fw, res in frameworks.items()}
    return {fw: stats["median"] for fw, stats in raw.items() if stats}


def run_record(page: str, framework: str) -> dict | None:
    """The full-run record of ``chapters/<framework>/<page>.ipynb`` (None if it has none)."""
    path = ROOT / "chapters" / framework / f"{page}.ipynb"
    run = json.loads(path.read_text())["metadata"].get("d2l_bn", {}).get("run")
    return run if run and run.get("mode") == "full" and "quiet_check" in run else None


def row(page: str, framework: str, run: dict, rate: float | None) -> list[str]:
    examples = run["training"]["examples"]
    at_rate = examples / rate if rate else None
    return [str(PAGES[page]), LABELS[framework], duration(run["seconds"]), f"{examples:,}",
            duration(at_rate) if at_rate else "-",
            f"{run['seconds'] / at_rate:.2f}" if at_rate else "-",
            f"{run['other_cores']:.2f}"]


def table(header: list[str], rows: list[list[str]]) -> nodes.table:
    """A plain docutils table (the theme styles it as every other table)."""
    group = nodes.tgroup(cols=len(header))
    group += [nodes.colspec(colwidth=1) for _ in header]
    for part, lines in ((nodes.thead(), [header]), (nodes.tbody(), rows)):
        for cells in lines:
            line = nodes.row()
            for text in cells:  # already in the page's language: no gettext message
                line += nodes.entry("", nodes.paragraph(text=text, translatable=False))
            part += line
        group += part
    return nodes.table("", group, classes=["notebook-runs"])


class NotebookRuns(SphinxDirective):
    """The table of the notebooks' full runs (see the module docstring)."""

    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(str(BENCHMARKS))
        rates = raw_rates()
        rows, runs, awaiting, over = [], [], [], []
        for page in PAGES:
            for fw in FRAMEWORKS:
                self.env.note_dependency(str(ROOT / "chapters" / fw / f"{page}.ipynb"))
                if (run := run_record(page, fw)) is None:
                    awaiting.append(f"{PAGES[page]} ({LABELS[fw]})")
                    continue
                rows.append(row(page, fw, run, rates.get(fw)))
                runs.append(run)
                if run["seconds"] > BUDGET_SECONDS:
                    over.append(f"{PAGES[page]} ({LABELS[fw]}) {duration(run['seconds'])}")
        header = [str(_("notebook")), str(_("framework")), str(_("wall time")),
                  str(_("training examples")), str(_("at the raw-loop rate")),
                  str(_("learner's wait")), str(_("other processes (cores)"))]
        note = ""
        if runs:
            dates = sorted(r["date"] for r in runs)
            when = dates[0] if dates[0] == dates[-1] else str(_("{first} to {last}")).format(
                first=dates[0], last=dates[-1])
            note = str(_("Full runs on {machines}, {dates}.")).format(
                machines="; ".join(sorted({r["machine"] for r in runs})), dates=when)
        if over:
            note += " " + str(_("Over the budget of {budget} per notebook: {notebooks}.")).format(
                budget=duration(BUDGET_SECONDS), notebooks=", ".join(over))
        if awaiting:
            note += " " + str(_("Not yet re-run since runs began recording whether they had "
                                "the machine to themselves: {notebooks}.")).format(
                notebooks=", ".join(awaiting))
        return [table(header, rows), nodes.paragraph(text=note.strip(), translatable=False,
                                                     classes=["notebook-runs-note"])]


def setup(app: Sphinx) -> dict:
    app.add_directive("notebook-runs", NotebookRuns)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
