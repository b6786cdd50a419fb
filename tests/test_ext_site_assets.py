"""_ext/site_assets.py on tiny projects: MathJax served from _vendor, each inline script once.

Each test builds a one-page Sphinx project (html builder, the basic theme) in a
temporary folder; no network.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import site_assets
from sphinx.builders.html._assets import _JavaScript
from sphinx.testing.util import SphinxTestApp

ROOT = Path(__file__).resolve().parents[1]

MATHJAX = "mathjax/startup.js"  # mathjax_path, as in _config.yml
STUB = "/* a stand-in for MathJax */\n"
INLINE = ["const INLINE_ONE = 1;", "const INLINE_TWO = 2;"]

# Added the way sphinx-thebe adds its configuration: an inline script, after the
# builder is set up (Sphinx 7.4 then registers it twice).
ADD_INLINE_SCRIPTS = f"""
def add_inline_scripts(app):
    for body in {INLINE!r}:
        app.add_js_file(None, body=body)


def setup(app):
    app.connect("builder-inited", add_inline_scripts)
"""


def build(src: Path, *, extensions=("site_assets",), mathjax_path: str = MATHJAX,
          vendor: bool = True, extra: str = "") -> tuple[SphinxTestApp, str]:
    """Build a one-page project with some math; (app, the page's HTML)."""
    if vendor:
        (src / "_vendor" / "mathjax").mkdir(parents=True)
        (src / "_vendor" / MATHJAX).write_text(STUB)
    (src / "conf.py").write_text(
        f"extensions = {list(extensions)!r}\nhtml_theme = 'basic'\n"
        f"mathjax_path = {mathjax_path!r}\nexclude_patterns = ['_build', '_vendor']\n"
        f"{extra}")
    (src / "index.rst").write_text("Page\n====\n\nSome math: :math:`a^2 + b^2`.\n")
    app = SphinxTestApp("html", srcdir=src, freshenv=True)
    try:
        app.build()
    finally:
        app.cleanup()
    return app, (app.outdir / "index.html").read_text()


def test_vendored_mathjax_is_copied_and_loaded(tmp_path):
    app, html = build(tmp_path)
    assert app.warning.getvalue() == ""
    assert str(tmp_path / "_vendor") in app.config.html_static_path
    assert (app.outdir / "_static" / MATHJAX).read_text() == STUB
    assert re.search(rf'src="_static/{re.escape(MATHJAX)}(\?v=\w+)?"', html)  # ?v=checksum


@pytest.mark.parametrize("vendor", [False, True], ids=["no _vendor", "_vendor without it"])
def test_missing_local_mathjax_is_a_warning(tmp_path, vendor):
    path = "mathjax/elsewhere.js" if vendor else MATHJAX
    app, _ = build(tmp_path, mathjax_path=path, vendor=vendor)
    assert f"site_assets: mathjax_path is _static/{path}, but no static folder has it" \
        in app.warning.getvalue()


@pytest.mark.parametrize("path", ["https://cdn.example.org/mathjax/tex-mml-chtml.js",
                                  "/mathjax/tex-mml-chtml.js"])
def test_mathjax_from_elsewhere_needs_no_local_copy(tmp_path, path):
    app, html = build(tmp_path, mathjax_path=path, vendor=False)
    assert app.warning.getvalue() == ""
    assert f'src="{path}"' in html


def test_inline_script_added_after_builder_setup_is_on_the_page_once(tmp_path):
    app, html = build(tmp_path, extra=ADD_INLINE_SCRIPTS)
    assert app.warning.getvalue() == ""
    assert [html.count(body) for body in INLINE] == [1, 1]
    assert html.index(INLINE[0]) < html.index(INLINE[1])


def test_without_the_extension_the_inline_script_is_repeated(tmp_path):
    """The Sphinx behaviour the extension works around; if this stops, it may go."""
    _, html = build(tmp_path, extensions=(), vendor=False, extra=ADD_INLINE_SCRIPTS)
    if html.count(INLINE[0]) == 1:
        pytest.skip("this Sphinx writes an inline script once: drop_repeated_scripts "
                    "in _ext/site_assets.py may be unneeded")
    assert [html.count(body) for body in INLINE] == [2, 2]


def test_drop_repeated_scripts_keeps_first_of_each_and_the_order():
    scripts = [_JavaScript(None, body="a"), _JavaScript("_static/x.js"),
               _JavaScript("", body="a"), _JavaScript("", body="b"),
               _JavaScript("_static/x.js", priority=900), _JavaScript("_static/x.js")]
    context = {"script_files": list(scripts)}
    site_assets.drop_repeated_scripts(None, "index", "page.html", context, None)
    assert context["script_files"] == [scripts[i] for i in (0, 1, 3, 4)]
