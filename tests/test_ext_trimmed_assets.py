"""_ext/trimmed_assets.py: code without needless spans, stylesheets purged, icon fonts cut
down; on small inputs and a tiny project (PurgeCSS needs Node.js and the npm package)."""

from __future__ import annotations

import shutil
from pathlib import Path

import prerendered_math
import pytest
import trimmed_assets
from sphinx_project import build_html

PYGMENTS = """
html[data-theme="light"] .highlight { background: #fefefe; color: #080808 }
html[data-theme="light"] .highlight .n { color: #080808 }
html[data-theme="light"] .highlight .p { color: #080808 }
html[data-theme="light"] .highlight .k { color: #6730C5 }
html[data-theme="light"] .highlight .o { color: #080808; font-weight: bold }
html[data-theme="dark"] .highlight { background: #2b2b2b; color: #F8F8F2 }
html[data-theme="dark"] .highlight .n { color: #F8F8F2 }
html[data-theme="dark"] .highlight .p { color: #FFD900 }
html[data-theme="dark"] .highlight .k { color: #DCC6E0 }
"""


def test_plain_tokens_are_those_in_the_text_colour_in_both_modes():
    # .p differs in the dark mode, .k in both, .o is bold
    assert trimmed_assets.plain_tokens(PYGMENTS) == {"n"}
    assert trimmed_assets.plain_tokens("html .highlight .n { color: #000 }") == set()


def test_slim_code_unwraps_plain_tokens_and_joins_runs_of_one_class():
    code = ('<div class="highlight"><pre><span></span><span class="k">for</span> '
            '<span class="n">x</span><span class="w"> </span><span class="s2">&quot;a</span>'
            '<span class="s2">b&quot;</span><span class="s2">c</span>\n</pre></div>')
    slim = trimmed_assets.slim_code(code, {"n", "w"})
    assert slim == ('<div class="highlight"><pre><span></span><span class="k">for</span> '
                    'x <span class="s2">&quot;ab&quot;c</span>\n</pre></div>')
    outside = '<p><span class="n">kept</span></p>'
    assert trimmed_assets.slim_code(outside, {"n"}) == outside


def test_icons_are_found_escaped_or_as_characters():
    css = ('.fa-bars:before{content:"\\f0c9"}:root{--pst-icon-tip:"\uf0eb"}'
           '.x:before{content:"\\2014"}.y{content:"\\e05d "}')
    assert trimmed_assets.private_use(css) == {0xF0C9, 0xF0EB, 0xE05D}  # not the dash


def test_subset_font_keeps_only_the_named_glyphs(tmp_path):
    import pydata_sphinx_theme

    found = sorted(Path(pydata_sphinx_theme.__file__).parent.rglob("fa-solid-900.woff2"))
    if not found:
        pytest.skip("this pydata-sphinx-theme ships no Font Awesome WOFF2")
    from fontTools.ttLib import TTFont

    font = tmp_path / "fa-solid-900.woff2"
    shutil.copy(found[0], font)
    bars, magnifier = 0xF0C9, 0xF002
    before, after = trimmed_assets.subset_font(font, {bars, magnifier, 0x10FFFF})
    assert after < before / 10
    kept = TTFont(font)
    assert kept.flavor == "woff2"
    assert set(kept.getBestCmap()) == {bars, magnifier}


@pytest.mark.skipif(shutil.which("node") is None
                    or not prerendered_math.npm_package("purgecss"),
                    reason="needs Node.js and the npm package purgecss (make site-tools)")
def test_build_purges_unused_rules_and_keeps_what_pages_and_scripts_use(tmp_path):
    static = tmp_path / "_static"
    static.mkdir()
    (static / "own.css").write_text(
        ".used-in-page{color:red}.never-used{color:blue}.added-by-script{color:green}"
        "@font-face{font-family:X;src:url(x.woff2)}")
    (static / "own.js").write_text("el.classList.add('added-by-script');")
    app = build_html(tmp_path, "extensions = ['trimmed_assets']\nhtml_theme = 'basic'\n"
                               "html_static_path = ['_static']\nhtml_css_files = ['own.css']\n"
                               "html_js_files = ['own.js']\nexclude_patterns = ['_build']\n",
                     {"index": "Page\n====\n\n.. container:: used-in-page\n\n   Hi.\n"})
    assert "trimmed_assets" not in app.warning.getvalue()
    css = (app.outdir / "_static" / "own.css").read_text()
    assert ".used-in-page" in css and ".added-by-script" in css and "@font-face" in css
    assert ".never-used" not in css
    assert not list((app.outdir / "_static").rglob("*.part"))
