"""_ext/site_assets.py on tiny projects: files served from _vendor, each inline script once,
search tools only on the search page.

Each test builds a one-page Sphinx project (html builder, the basic theme) in a
temporary folder; no network.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import site_assets
from sphinx.builders.html._assets import _JavaScript
from sphinx.testing.util import SphinxTestApp
from sphinx_project import build_html

ROOT = Path(__file__).resolve().parents[1]

VENDORED = "katex/katex.min.css"  # as make site-tools writes it
STUB = "/* a stand-in for KaTeX's stylesheet */\n"
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


def build(src: Path, *, extensions=("site_assets",), vendor: bool = True,
          extra: str = "") -> tuple[SphinxTestApp, str]:
    """Build a one-page project with some math; (app, the page's HTML)."""
    if vendor:
        (src / "_vendor" / "katex").mkdir(parents=True)
        (src / "_vendor" / VENDORED).write_text(STUB)
    app = build_html(src, f"extensions = {list(extensions)!r}\nhtml_theme = 'basic'\n"
                          f"exclude_patterns = ['_build', '_vendor']\n{extra}",
                     {"index": "Page\n====\n\nSome math: :math:`a^2 + b^2`.\n"})
    return app, (app.outdir / "index.html").read_text()


def test_vendored_files_are_served(tmp_path):
    app, _ = build(tmp_path)
    assert app.warning.getvalue() == ""
    assert str(tmp_path / "_vendor") in app.config.html_static_path
    assert (app.outdir / "_static" / VENDORED).read_text() == STUB


SEARCH_TOOLS = '<script src="_static/searchtools.js"></script>\n' \
    '<script src="_static/language_data.js"></script>\n<script src="searchindex.js"></script>\n'


def test_search_tools_are_dropped_except_on_the_search_page():
    page = f"<head>\n{SEARCH_TOOLS}<script src='_static/doctools.js'></script>\n</head>"
    kept = page.replace(SEARCH_TOOLS, "")
    assert site_assets.without_search_tools(page, Path("out/chapters/x.html")) == kept
    assert site_assets.without_search_tools(page, Path("out/search.html")) == page


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
