"""Figures: the live training curves (``ProgressBoard``) and static figures of experiments.

Everything draws on a ``matplotlib.figure.Figure`` directly (no pyplot, no GUI backend,
no global state). Jupyter gets a PNG rendered at twice its displayed size, so it stays
sharp on high-density screens; headless, nothing is displayed.
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

DPI, SCALE = 100, 2  # displayed at DPI; rendered at DPI * SCALE
METRIC_LABELS = {"train_loss": "training loss", "train_acc": "training accuracy",
                 "valid_loss": "validation loss", "valid_acc": "validation accuracy",
                 "test_loss": "test loss", "test_acc": "test accuracy"}
STYLES = {"train_loss": "-", "valid_loss": "--", "valid_acc": "-.",
          "test_loss": "--", "test_acc": "-."}


def _png(fig: Figure):
    """``fig`` as an IPython PNG image, displayed at DPI."""
    from IPython.display import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI * SCALE)
    return Image(data=buffer.getvalue(), format="png", width=int(fig.get_figwidth() * DPI))


def show(fig: Figure) -> None:
    """Display ``fig`` in Jupyter (a PNG at twice the resolution it is shown at)."""
    from IPython.display import display

    display(_png(fig))


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class ProgressBoard:
    """Live curves of named series (e.g. train_loss, test_loss, test_acc) against epochs.

    Inside a Jupyter kernel the figure is shown once and then updated in place;
    elsewhere nothing is displayed and ``save(path)`` writes the picture.
    """

    def __init__(self, title: str = "", xlabel: str = "epoch", figsize=(5.0, 3.2),
                 live: bool | None = None):
        self.title, self.xlabel, self.figsize = title, xlabel, figsize
        self.live = _in_notebook() if live is None else live
        self.series: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
        self._handle = None
        self.xlim: tuple[float, float] | None = None

    def draw(self, x: float, y: float, label: str, redraw: bool = True) -> None:
        """Add the point (x, y) to series ``label``; redraw the live plot if asked."""
        xs, ys = self.series[label]
        xs.append(float(x))
        ys.append(float(y))
        if redraw:
            self.refresh()

    def figure(self) -> Figure:
        """Render the current curves into a new figure."""
        fig = Figure(figsize=self.figsize)
        ax = fig.add_subplot()
        for label, (xs, ys) in self.series.items():
            ax.plot(xs, ys, STYLES.get(label, "-"), label=label.replace("_", " "))
        ax.set_xlabel(self.xlabel)
        if self.xlim:
            ax.set_xlim(*self.xlim)
        if self.title:
            ax.set_title(self.title)
        ax.grid(alpha=0.3)
        if self.series:  # below the axes, where it never hides a curve
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=len(self.series),
                      frameon=False)
        fig.tight_layout()
        return fig

    def refresh(self) -> None:
        """Show or update the plot in Jupyter; do nothing headless."""
        if not self.live:
            return
        from IPython.display import display

        if self._handle is None:
            self._handle = display(_png(self.figure()), display_id=True)
        else:
            self._handle.update(_png(self.figure()))

    def save(self, path) -> None:
        """Write the current curves to an image file (PNG, SVG, ...)."""
        self.figure().savefig(path)


def plot_histories(runs: Mapping[str, Sequence[Mapping]],
                   metrics: Sequence[str] = ("train_loss", "valid_acc"),
                   diverged: Sequence[str] = (), title: str = "",
                   figsize=(7.0, 2.8)) -> Figure:
    """One panel per metric, one line per run, against epochs (``Trainer.history``).

    Runs named in ``diverged`` are drawn dotted with an x at their last finished epoch
    (or at epoch 0 if they finished none), so a stopped run is not mistaken for a slow one.
    """
    fig = Figure(figsize=figsize)
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, metric in zip(axes, metrics):
        for i, (label, history) in enumerate(runs.items()):
            color = f"C{i}"
            epochs = [0] + [h["epoch"] for h in history]
            values = [math.nan] + [h[metric] for h in history]
            stopped = label in diverged
            ax.plot(epochs, values, ":" if stopped else "-", marker="." if not stopped else "",
                    color=color, label=label + (" (diverged)" if stopped else ""))
            if stopped:
                ax.plot(epochs[-1], values[-1] if history else 0.0, "x", color=color, ms=8)
        ax.set_xlabel("epoch")
        ax.set_ylabel(METRIC_LABELS.get(metric, metric))
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(runs), 4), frameon=False,
               fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def plot_distributions(samples: Mapping[tuple[str, str], Mapping[str, np.ndarray]],
                       threshold: float | None = None, bins: int = 60,
                       figsize=(8.0, 3.6), xlabel: str = "") -> Figure:
    """Small multiples of histograms: one panel per (row, column) key, one histogram per
    entry of its mapping (e.g. "at initialization", "after one epoch"), density-scaled.
    ``threshold`` draws dashed lines at +-threshold."""
    rows = list(dict.fromkeys(r for r, _ in samples))
    cols = list(dict.fromkeys(c for _, c in samples))
    fig = Figure(figsize=figsize)
    axes = fig.subplots(len(rows), len(cols), squeeze=False, sharex=True)
    lo = min(float(np.min(v)) for panel in samples.values() for v in panel.values())
    hi = max(float(np.max(v)) for panel in samples.values() for v in panel.values())
    edges = np.linspace(lo, hi, bins + 1)
    for (row, col), panel in samples.items():
        ax = axes[rows.index(row)][cols.index(col)]
        for i, (label, values) in enumerate(panel.items()):
            ax.hist(np.ravel(values), bins=edges, density=True, histtype="stepfilled",
                    alpha=0.45, color=f"C{i}", label=label)
        if threshold is not None:
            for x in (-threshold, threshold):
                ax.axvline(x, color="k", ls="--", lw=0.8)
        ax.set_yticks([])
        if rows.index(row) == 0:
            ax.set_title(col, fontsize="small")
        if cols.index(col) == 0:
            ax.set_ylabel(row, fontsize="small")
        if rows.index(row) == len(rows) - 1 and xlabel:
            ax.set_xlabel(xlabel, fontsize="small")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False,
               fontsize="small")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def plot_sweep(xs: Sequence[float], series: Mapping[str, Sequence[float]],
               xlabel: str, ylabel: str, failed: Mapping[str, Sequence[bool]] | None = None,
               logx: bool = True, figsize=(4.5, 3.0)) -> Figure:
    """One line per series against a swept setting; points flagged in ``failed`` (e.g.
    diverged runs) are drawn as red x marks at the bottom of the axes instead."""
    fig = Figure(figsize=figsize)
    ax = fig.add_subplot()
    failed = failed or {}
    for i, (label, ys) in enumerate(series.items()):
        bad = list(failed.get(label, [False] * len(xs)))
        good = [(x, y) for x, y, b in zip(xs, ys, bad) if not b]
        if good:
            ax.plot(*zip(*good), "-o", color=f"C{i}", label=label)
        for x, b in zip(xs, bad):
            if b:
                ax.plot(x, 0, "x", color="C3", ms=9, clip_on=False)
    if any(any(v) for v in failed.values()):
        ax.plot([], [], "x", color="C3", label="diverged")
    if logx:
        ax.set_xscale("log")
        ax.set_xticks(list(xs), [f"{x:g}" for x in xs])
        ax.minorticks_off()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig
