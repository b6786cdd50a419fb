"""Stylesheets and icon fonts trimmed to what the site uses, once every page is written.

The themes ship for every site: pydata-sphinx-theme's stylesheet (0.40 MB) carries all of
Bootstrap and all of Font Awesome's 2,000 icon classes, its two icon fonts weigh 0.27 MB
for the dozen icons these pages show, and sphinx-design and MyST-NB add 0.1 MB of rules
for components the book does not use. A page loads all of it before the reader sees text.

The code is heavy too: Pygments wraps every token of the chapter's four frameworks'
code in its own ``<span class="...">`` (23,000 of them, 0.69 MB of the page's 0.86 MB),
though names, punctuation and spaces are drawn in the code's own text colour in both
colour modes. So, in the pass over the written pages (``site_assets.add_page_rewrite``):

0. **Code**: a token whose class the build's ``pygments.css`` colours like the code's
   text in the light and the dark mode alike, and styles no other way, loses its span;
   neighbouring tokens of one class share one span. The code looks and copies the same.

Then, after the build (and after ``site_assets`` has finished the pages), two steps:

1. **Stylesheets**: PurgeCSS (npm package ``purgecss``, pinned in package.json, run by
   ``purge_css.cjs``) keeps the rules whose selectors can match this build's pages, with
   the words of every script under ``_static`` counted as used (classes and attributes
   that scripts add: the theme's dark mode, Bootstrap's dropdowns, the search page's
   results). ``@font-face``, ``@keyframes`` and custom properties are all kept.
   KaTeX's stylesheet is left whole (its classes are written by KaTeX, at build time, on
   the pages with math).
2. **Icon fonts**: every Font Awesome font is cut down (fontTools) to the glyphs that
   the kept stylesheets name (icons sit in Unicode's private use areas: any such code
   point, escaped as in ``content: "\\f0c9"`` or written as the character, as in the
   theme's ``--pst-icon-*`` properties), written as WOFF2 under the same name.

Both run on the build's own output, which Sphinx writes again from the themes on every
build, so they repeat safely. A failure is a build warning (an error with ``-W``); the
files stay as they were.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import site_assets  # sibling extensions in _ext/ (on sys.path like this one)
from prerendered_math import node_command
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

__version__ = "0.1.0"

SCRIPT = Path(__file__).with_name("purge_css.cjs")
KEPT_WHOLE = ("katex",)  # folders under _static whose stylesheets are not purged
ICON_FONTS = "vendor/fontawesome/webfonts/*.woff2"  # under _static
# An icon font's glyphs sit in Unicode's private use areas; a stylesheet names one as an
# escape (content: "\f0c9") or as the character itself (--pst-icon-tip: "<U+F0EB>").
PRIVATE_USE = ((0xE000, 0xF8FF), (0xF0000, 0xFFFFD), (0x100000, 0x10FFFD))
ESCAPE = re.compile(r"\\([0-9a-fA-F]{4,6})")


TOKEN_RULE = re.compile(r'html\[data-theme="(light|dark)"\] \.highlight'
                        r'(?: \.(?P<token>[\w-]+))? \{(?P<style>[^}]*)\}')
CODE_BLOCK = re.compile(r'(<div class="highlight[^"]*"><pre>)(.*?)(</pre>)', re.S)
TOKEN = re.compile(r'<span class="([\w-]+)">([^<]*)</span>')
SAME_CLASS_AGAIN = re.compile(r'(<span class="([\w-]+)">[^<]*)</span><span class="\2">')


def plain_tokens(pygments_css: str) -> set[str]:
    """The token classes styled only with the code's text colour, in both colour modes."""
    text, styles = {}, {}
    for rule in TOKEN_RULE.finditer(pygments_css):
        mode, token = rule[1], rule["token"]
        declarations = {part.strip() for part in rule["style"].split(";") if part.strip()}
        if token is None:
            text[mode] = {part for part in declarations if part.startswith("color:")}
        else:
            styles.setdefault(token, {})[mode] = declarations
    if set(text) != {"light", "dark"}:
        return set()
    return {token for token, modes in styles.items()
            if all(modes.get(mode, set()) <= text[mode] for mode in ("light", "dark"))}


def slim_code(text: str, plain: set[str]) -> str:
    """Each code block with its plain tokens unwrapped and runs of one class joined."""
    def slim(block: re.Match) -> str:
        code = TOKEN.sub(lambda t: t[2] if t[1] in plain else t[0], block[2])
        joined = None
        while joined != code:
            joined, code = code, SAME_CLASS_AGAIN.sub(r"\1", code)
        return block[1] + code + block[3]
    return CODE_BLOCK.sub(slim, text)


def code_rewrite(app: Sphinx):
    """The page rewrite for ``site_assets``: ``slim_code`` with the plain tokens of this
    build's ``pygments.css`` (read once, when the first page is rewritten; the theme has
    written its light and dark version by then)."""
    plain = None

    def rewrite(text: str, page: Path) -> str:
        nonlocal plain
        if plain is None:
            css = Path(app.outdir) / "_static" / "pygments.css"
            plain = plain_tokens(css.read_text(encoding="utf-8")) if css.is_file() else set()
        return slim_code(text, plain)
    return rewrite


def stylesheets(static: Path) -> list[Path]:
    return sorted(path for path in static.rglob("*.css")
                  if not any(part in KEPT_WHOLE for part in path.relative_to(static).parts))


def purge_stylesheets(app: Sphinx, static: Path) -> dict[str, list[int]]:
    """PurgeCSS over this build's stylesheets; {path: [bytes before, after]}."""
    command = node_command(SCRIPT, "purgecss")
    content = [str(page) for page in site_assets.own_pages(app)]
    content += [str(script) for script in static.rglob("*.js")]
    request = {"css": [str(path) for path in stylesheets(static)], "content": content}
    done = subprocess.run(command, input=json.dumps(request),
                          capture_output=True, text=True, encoding="utf-8")
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip()[-2000:])
    return json.loads(done.stdout)["sizes"]


def private_use(css: str) -> set[int]:
    """The private-use code points a stylesheet names, escaped or as characters."""
    named = {int(code, 16) for code in ESCAPE.findall(css)} | {ord(char) for char in css}
    return {code for code in named if any(low <= code <= high for low, high in PRIVATE_USE)}


def used_icons(static: Path) -> set[int]:
    """The code points of the icon glyphs that the (purged) stylesheets still name."""
    return set().union(*(private_use(path.read_text(encoding="utf-8"))
                         for path in stylesheets(static)))


def subset_font(path: Path, codepoints: set[int]) -> tuple[int, int]:
    """Cut a WOFF2 font down to ``codepoints`` (those it has), in place; (bytes before,
    after)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    before = path.stat().st_size
    font = TTFont(path)
    present = set(font.getBestCmap())
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codepoints & present) or [0x20])
    subsetter.subset(font)
    part = path.with_name(path.name + ".part")
    font.flavor = "woff2"
    font.save(part)
    part.replace(path)
    return before, path.stat().st_size


def trim(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    try:
        sizes = purge_stylesheets(app, static)
        icons = used_icons(static)
        for font in sorted(static.glob(ICON_FONTS)):
            sizes[str(font)] = list(subset_font(font, icons))
    except Exception as error:  # noqa: BLE001 - any failure leaves the files as they were
        logger.warning("trimmed_assets: the stylesheets and icon fonts were not trimmed: %s",
                       error, type="trimmed_assets")
        return
    before = sum(size[0] for size in sizes.values())
    after = sum(size[1] for size in sizes.values())
    logger.info("trimmed_assets: %d stylesheets and fonts, %d KB -> %d KB (%d icons)",
                len(sizes), before // 1000, after // 1000, len(icons))


def setup(app: Sphinx) -> dict:
    app.setup_extension("site_assets")
    site_assets.add_page_rewrite(app, code_rewrite(app))
    # after site_assets' rewrite of the pages (priority 600), which changes their classes
    app.connect("build-finished", trim, priority=700)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
