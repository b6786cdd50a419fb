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

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

DPI, SCALE = 100, 2  # displayed at DPI; rendered at DPI * SCALE
PHONE_FONT = 11  # points; a 5-inch figure shown 390 px wide keeps text >= 9 CSS px
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
                   figsize=(5.0, 3.6)) -> Figure:
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
        ax.set_xlabel("epoch", fontsize=PHONE_FONT)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(METRIC_LABELS.get(metric, metric), fontsize=PHONE_FONT)
        ax.tick_params(labelsize=PHONE_FONT - 1)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False,
               fontsize=PHONE_FONT - 1)
    if title:
        fig.suptitle(title)
    rows = math.ceil(len(runs) / 2)
    fig.tight_layout(rect=(0, 0.07 * rows, 1, 1))
    return fig



def plot_diagnostics(diagnostics: Mapping[str, Sequence[Mapping[str, Sequence[float]]]],
                     steps: Sequence[int], figsize=(5.0, 4.6)) -> Figure:
    """A row per network, two panels: the spread across images of each layer's output
    (``"spread"``) and each weight layer's update-to-weight ratio (``"ratio"``), against
    training steps, on log scales (step 0 drawn at the left edge)."""
    columns = [("spread", "spread across images"), ("ratio", "update / weight")]
    fig = Figure(figsize=figsize)
    axes = fig.subplots(len(diagnostics), 2, squeeze=False, sharex=True, sharey="col")
    xs = [max(step, 1) for step in steps]  # a log axis has no 0
    for row, (network, records) in zip(axes, diagnostics.items()):
        for ax, (key, label) in zip(row, columns):
            for k in range(len(records[0][key])):
                ax.plot(xs, [r[key][k] for r in records], "-o", ms=3, color=f"C{k}",
                        label=f"{k + 1}")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=PHONE_FONT - 1)
            ax.set_title(f"{network}: {label}", fontsize=PHONE_FONT)
    for ax in axes[-1]:
        ax.set_xlabel("step (0 at the left)", fontsize=PHONE_FONT)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, title="layer", loc="lower center", ncol=len(labels),
               frameon=False, fontsize=PHONE_FONT, title_fontsize=PHONE_FONT)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def plot_ghost(group_sizes: Sequence[int], accuracies: Mapping[str, float],
               figsize=(5.0, 3.4)) -> Figure:
    """Accuracy against the ghost-batch group size, for the entries whose label starts
    with "BN, groups" (in the order of ``group_sizes``); the other entries
    (batch-independent normalizations) as horizontal lines. A diverged run (NaN) is a
    red x at the bottom."""
    fig = Figure(figsize=figsize)
    ax = fig.add_subplot()
    ghost = [acc for label, acc in accuracies.items() if label.startswith("BN, groups")]
    ax.plot(group_sizes, ghost, "-o", color="C0", label="BN (ghost batches)")
    for g, acc in zip(group_sizes, ghost):
        if math.isnan(acc):
            ax.plot(g, 0, "x", color="C3", ms=8, clip_on=False)
    others = [label for label in accuracies if not label.startswith("BN, groups")]
    for i, label in enumerate(others, start=1):
        ax.axhline(accuracies[label], color=f"C{i}", ls="--", label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(group_sizes), [str(g) for g in group_sizes])
    ax.minorticks_off()
    ax.set_xlabel("examples per BN group (SGD batch 128)", fontsize=PHONE_FONT)
    ax.set_ylabel("validation accuracy", fontsize=PHONE_FONT)
    ax.set_ylim(0, 1)
    ax.tick_params(labelsize=PHONE_FONT - 1)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=PHONE_FONT - 1)
    fig.tight_layout()
    return fig
