"""Math rendered at build time: the pages carry finished formulas and need no math script.

Sphinx's default renderer leaves TeX in the page for MathJax to typeset in the browser
(0.9 MB of script, code and font data on the chapter page, and raw TeX wherever text is
read without running it, such as search snippets). This extension registers a math
renderer, ``prerendered``, that writes each formula as KaTeX's HTML (with MathML beside
it for screen readers), so a page with math loads only KaTeX's stylesheet (23 KB) and the
few fonts its formulas use.

KaTeX runs in Node.js (``render_math.cjs``, one process per build, one formula a line);
``make site-tools`` installs the npm package ``katex`` (pinned in package.json /
package-lock.json) and copies its stylesheet and WOFF2 fonts into ``_vendor/katex``,
which ``_ext/site_assets.py`` serves as ``_static/katex``. A formula KaTeX cannot render
is a build warning at the formula's place, so an error with ``-W``; so is a missing
Node.js or KaTeX.

Markup: the formula stays in ``<span class="math">`` / ``<div class="math">`` as Sphinx's
MathJax renderer writes it, with the same equation ids, numbers and permalinks, so links
to equations, the theme's styles and the search page's snippets (which skip ``.math``)
work as before.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.locale import _ as sphinx_text  # Sphinx's own messages, in its own catalogs
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

logger = logging.getLogger(__name__)

__version__ = "0.1.0"

SCRIPT = Path(__file__).with_name("render_math.cjs")
STYLESHEET = "katex/katex.min.css"  # under _static (see site_assets_vendor)


class MathError(Exception):
    """A formula KaTeX could not render, or a KaTeX process that stopped."""


class MissingTool(RuntimeError):
    """Node.js, or an npm package a build script needs, is not installed."""


def npm_package(name: str) -> bool:
    """Whether Node.js finds the package from this folder (a node_modules above it)."""
    return any((folder / "node_modules" / name).is_dir() for folder in SCRIPT.parents)


def node_command(script: Path, package: str) -> list[str]:
    """The command that runs ``script`` (in this folder) in Node.js, which needs the npm
    package ``package``; MissingTool, saying what to install, if either is missing."""
    node = shutil.which("node")
    if node is None or not npm_package(package):
        raise MissingTool(f"{script.name} needs Node.js and the npm package {package}: "
                          "install nodejs, then run `make site-tools` (npm ci)")
    return [node, str(script)]


class KaTeX:
    """One Node.js process running KaTeX, started on the first formula; results cached."""

    def __init__(self):
        self.process: subprocess.Popen | None = None
        self.cache: dict[tuple[str, bool], str] = {}

    def start(self) -> subprocess.Popen:
        return subprocess.Popen(node_command(SCRIPT, "katex"), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, encoding="utf-8")

    def render(self, tex: str, display: bool) -> str:
        key = (tex, display)
        if key not in self.cache:
            if self.process is None:
                self.process = self.start()
            try:
                self.process.stdin.write(json.dumps({"tex": tex, "display": display}) + "\n")
                self.process.stdin.flush()
                answer = json.loads(self.process.stdout.readline())
            except (OSError, ValueError) as error:  # the process died or wrote no answer
                self.close()
                raise MathError("the KaTeX process (_ext/render_math.cjs) stopped; its "
                                f"message is above ({error})") from None
            if "error" in answer:
                raise MathError(answer["error"])
            self.cache[key] = answer["html"]
        return self.cache[key]

    def close(self) -> None:
        if self.process is not None:
            process, self.process = self.process, None
            try:
                process.stdin.close()
                process.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                process.kill()
                process.wait()


def rendered(translator, node: nodes.Element, tex: str, display: bool) -> str:
    """KaTeX's HTML for ``tex``; on failure a warning at the node, and the TeX itself."""
    try:
        return translator.builder.app.prerendered_math.render(tex, display)
    except (MathError, MissingTool) as error:
        logger.warning("prerendered_math: cannot render %r: %s", tex, error, location=node,
                       type="prerendered_math")
        return translator.encode(tex)


def visit_inline(self, node: nodes.math) -> None:
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate nohighlight"))
    self.body.append(rendered(self, node, node.astext(), display=False) + "</span>")
    raise nodes.SkipNode


def display_tex(node: nodes.math_block) -> str:
    """The TeX of a display block, its parts (separated by blank lines) aligned as Sphinx
    aligns them for MathJax."""
    parts = [part for part in node.astext().split("\n\n") if part.strip()]
    parts = [rf"\begin{{split}}{part}\end{{split}}" if r"\\" in part else part
             for part in parts]
    if len(parts) == 1:
        return parts[0]
    return r"\begin{aligned}" + r"\\".join(parts) + r"\end{aligned}"


def visit_display(self, node: nodes.math_block) -> None:
    self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight"))
    if node["number"] and not node["nowrap"]:  # as Sphinx's renderers: no number if nowrap
        self.body.append(f'<span class="eqno">({get_node_equation_number(self, node)})')
        self.add_permalink_ref(node, sphinx_text("Link to this equation"))
        self.body.append("</span>")
    tex = node.astext() if node["nowrap"] else display_tex(node)
    self.body.append(rendered(self, node, tex, display=True) + "</div>\n")
    raise nodes.SkipNode


def start(app: Sphinx) -> None:
    app.prerendered_math = KaTeX()


def prerendering(app: Sphinx) -> bool:
    """Whether this build writes HTML with this renderer."""
    return app.builder.format == "html" and app.builder.math_renderer_name == "prerendered"


def add_stylesheet(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """KaTeX's stylesheet on the pages with math of their own (not on a page whose toctree
    merely lists one, as the math domain's ``has_equations`` would have it)."""
    if prerendering(app) and app.env.get_domain("math").data["has_equations"].get(pagename, False):
        app.add_css_file(STYLESHEET)


def check_stylesheet(app: Sphinx) -> None:
    if not prerendering(app):
        return
    base = Path(app.confdir or app.srcdir)
    if not any((base / folder / STYLESHEET).is_file() for folder in app.config.html_static_path):
        logger.warning("prerendered_math: no static folder has %s: run `make site-tools`",
                       STYLESHEET)


def stop(app: Sphinx, exception: Exception | None) -> None:
    app.prerendered_math.close()


def setup(app: Sphinx) -> dict:
    app.add_html_math_renderer("prerendered", (visit_inline, None), (visit_display, None))
    app.connect("builder-inited", start)
    app.connect("builder-inited", check_stylesheet, priority=600)  # after site_assets' vendor
    app.connect("html-page-context", add_stylesheet)
    app.connect("build-finished", stop)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": False}
