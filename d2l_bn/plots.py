"""The live training curves (``ProgressBoard``) and ``show`` for any figure: matplotlib
``Figure``s without pyplot, shown in Jupyter as PNGs rendered at twice their size.
"""

from __future__ import annotations

import io
from collections import defaultdict

from matplotlib.figure import Figure

DPI, SCALE = 100, 2  # displayed at DPI; rendered at DPI * SCALE
PHONE_FONT = 11  # points; a 5-inch figure shown 390 px wide keeps text >= 9 CSS px
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
    """Live curves of named series against epochs, updated in place in Jupyter (headless:
    nothing is shown; ``save(path)`` writes the picture)."""

    def __init__(self, title: str = "", xlabel: str = "epoch", figsize=(5.0, 3.2),
                 live: bool | None = None, xlim: tuple[float, float] | None = None):
        self.title, self.xlabel, self.figsize = title, xlabel, figsize
        self.live = _in_notebook() if live is None else live
        self.series: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
        self._handle = None
        self.xlim = xlim

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
