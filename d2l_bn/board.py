"""A live training-curve plot that redraws in Jupyter and works headless.

It draws on a ``matplotlib.figure.Figure`` directly (no pyplot), so it needs no GUI
backend and leaves no global figure state behind. Inside a Jupyter kernel the figure
is shown once and then updated in place; elsewhere nothing is displayed and
``save(path)`` writes the picture.
"""

from __future__ import annotations

import io
from collections import defaultdict

from matplotlib.figure import Figure

STYLES = {"train_loss": "-", "val_loss": "--", "val_acc": "-."}


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class ProgressBoard:
    """Curves of named series (e.g. train_loss, val_loss, val_acc) against epochs."""

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
        from IPython.display import Image, display

        # A PNG image, not the Figure object: displaying a Figure needs pyplot's inline
        # backend, which this module deliberately does not load.
        # Rendered at twice the displayed size, so it stays sharp on high-density screens.
        fig = self.figure()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=200)
        image = Image(data=buffer.getvalue(), format="png", width=int(fig.get_figwidth() * 100))
        if self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)

    def save(self, path) -> None:
        """Write the current curves to an image file (PNG, SVG, ...)."""
        self.figure().savefig(path)
