"""_ext/prerendered_math.py on tiny projects: formulas rendered by KaTeX at build time.

Each test builds a small Sphinx project (html builder, the basic theme) in a temporary
folder with the real KaTeX (Node.js and the npm package, as ``make site-tools`` installs them).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import prerendered_math
import pytest
from sphinx.testing.util import SphinxTestApp
from sphinx_project import build_html

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not prerendered_math.npm_package("katex"),
    reason="needs Node.js and the npm package katex (make site-tools)")

PAGE_WITH_MATH = """Math
====

Inline: :math:`\\boldsymbol{\\gamma} \\odot \\hat{\\mathbf{x}}`.

.. math:: y = \\frac{x - \\mu}{\\sigma}
   :label: scaled

.. math::

   a = b

   c = d \\\\ e = f

See :eq:`scaled`.
"""


def build(src: Path, pages: dict[str, str]) -> tuple[SphinxTestApp, dict[str, str]]:
    """Build the pages with the prerendered renderer; (app, HTML of each page)."""
    app = build_html(src, "extensions = ['prerendered_math']\nhtml_theme = 'basic'\n"
                          "html_math_renderer = 'prerendered'\nexclude_patterns = ['_build']\n",
                     pages)
    return app, {name: (app.outdir / f"{name}.html").read_text() for name in pages}


def test_formulas_are_katex_html_with_numbers_and_stylesheet_only_with_math(tmp_path):
    index = "Home\n====\n\n.. toctree::\n\n   math\n"
    app, html = build(tmp_path, {"index": index, "math": PAGE_WITH_MATH})
    warnings = app.warning.getvalue()
    assert "prerendered_math: cannot render" not in warnings
    page = html["math"]
    assert page.count('class="katex"') == 3  # inline, numbered display, two-part display
    assert page.count('class="katex-display"') == 2
    assert "<math xmlns=" in page  # MathML beside the HTML, for screen readers
    assert "\\(" not in page and "\\[" not in page  # no TeX left for a script
    assert 'id="equation-scaled"' in page and '<span class="eqno">(1)' in page
    assert 'href="#equation-scaled"' in page  # the :eq: reference
    assert "mathjax" not in page.lower()
    assert prerendered_math.STYLESHEET in page
    # the toctree lists a page with math, but the index has none of its own
    assert prerendered_math.STYLESHEET not in html["index"]


def test_display_parts_are_aligned_as_sphinx_aligns_them():
    from docutils import nodes

    block = nodes.math_block("", "a = b\n\nc = d \\\\ e = f")
    assert prerendered_math.display_tex(block) == (
        r"\begin{aligned}a = b\\\begin{split}c = d \\ e = f\end{split}\end{aligned}")
    assert prerendered_math.display_tex(nodes.math_block("", "x")) == "x"


def test_a_formula_katex_cannot_render_is_a_warning_at_its_place(tmp_path):
    app, html = build(tmp_path, {"index": "Bad\n===\n\nA :math:`\\frac{1` here.\n"})
    warnings = app.warning.getvalue()
    assert "index.rst:4" in warnings
    assert "prerendered_math: cannot render '\\\\frac{1'" in warnings
    assert "KaTeX parse error" in warnings
    assert "\\frac{1" in html["index"]  # the TeX itself stays in the page


def test_without_katex_the_warning_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setattr(prerendered_math, "npm_package", lambda name: False)
    app, _ = build(tmp_path, {"index": "Math\n====\n\n:math:`x`\n"})
    assert "run `make site-tools`" in app.warning.getvalue()
