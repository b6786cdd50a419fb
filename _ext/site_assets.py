"""What the site's pages load: front-end files from the site itself, each script once, no
icon script, a script that closes the phone's drawers, formulas out of search snippets,
figures that load lazily; and a real root page.

Figures load when the reader nears them
    A chapter page has some twenty figures (a megabyte of PNGs), five of them in view
    at a time. After the build, every output figure's ``<img>`` gets ``loading="lazy"``
    and its displayed width and height (from the PNG's header), so that the browser
    keeps the figure's place before it arrives and the text does not jump. Other
    extensions add their own rewrites of the written pages (``add_page_rewrite``); all
    of them run in one pass over this build's files.

Front-end files from the site itself
    ``make site-tools`` installs npm packages (pinned in package.json / package-lock.json)
    and copies what the pages load into ``_vendor`` (KaTeX's stylesheet and fonts, see
    ``_ext/prerendered_math.py``). This extension adds ``_vendor`` to the static folders
    at build time, so its folders land in ``_static``. (Not in ``_static`` itself:
    Jupyter Book adds a script or stylesheet tag for every file under ``_static``;
    folders added here, after Jupyter Book has written the configuration, are only
    copied.)

Each inline script once
    With Sphinx 7.4, an inline script (``add_js_file(None, body=...)``) that an
    extension adds after the builder is set up is registered twice, once as file name
    ``None`` and once as ``''``, and the page then carries it twice. For sphinx-thebe's
    ``const THEBE_JS_URL = ...`` that is a SyntaxError in the browser console on every
    page. The page-context handler below drops such repeats.

No Font Awesome script
    pydata-sphinx-theme loads ``scripts/fontawesome.js`` (1.5 MB) on every page "so that
    users can add custom icons"; the icons the theme itself shows come from its CSS and
    web fonts, which stay. The extension puts a copy of the theme's
    ``static/webpack-macros.html`` without that script tag first on the template path
    (written into the doctree folder, so it follows the installed theme). If a theme
    upgrade drops the tag, a build warning says that this is no longer needed.

Search tools only on the search page
    pydata-sphinx-theme's layout loads Sphinx's search tools and the whole search index
    (``searchtools.js``, ``language_data.js``, ``searchindex.js``: 75 KB, 98 KB in
    Portuguese) on every page, for its search-as-you-type box; with that option off
    (the theme's default, and this site's) only the search page uses them, and loads
    them itself. The pass over the written pages removes the three tags elsewhere.

A real root page
    The book's root document is ``chapters/index``, so the site's ``/index.html`` is a
    redirect, which sphinx-external-toc writes as a bare ``<meta http-equiv=Refresh>``
    line (no ``<html>``, no title). The extension writes a small, complete HTML page in
    its place: a title, a link for readers without JavaScript or refresh, and a redirect
    that keeps the URL's query (``?framework=...``) and fragment.
"""

from __future__ import annotations

import html
import json
import os
import re
import struct
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

__version__ = "0.1.0"


def add_vendor(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    vendor = Path(app.confdir or app.srcdir) / app.config.site_assets_vendor
    if vendor.is_dir():
        app.config.html_static_path.append(str(vendor))


STATIC = Path(__file__).parent / "static"


def add_drawer_script(app: Sphinx) -> None:
    """drawers.js: a phone's sidebar drawer closes when the reader taps one of its links."""
    if app.builder.format != "html":
        return
    if str(STATIC) not in app.config.html_static_path:
        app.config.html_static_path.append(str(STATIC))
    app.add_js_file("drawers.js", loading_method="defer")


def add_search_snippets_script(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """search-snippets.js, on the search page only: formulas in result snippets as "…"."""
    if pagename == "search":
        app.add_js_file("search-snippets.js", loading_method="defer")  # after searchtools.js


def drop_repeated_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for script in scripts:
        key = (script.filename or "", script.priority, tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


FONTAWESOME_JS = "_static/scripts/fontawesome.js"
MACROS = "static/webpack-macros.html"  # pydata-sphinx-theme's template with the script tag


def drop_fontawesome_script(app: Sphinx, config) -> None:
    """Put the theme's webpack-macros.html, minus the Font Awesome script, first on the
    template path."""
    try:
        import pydata_sphinx_theme
    except ImportError:
        return
    theme = Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme"
    if not (theme / MACROS).is_file():
        return
    lines = (theme / MACROS).read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if FONTAWESOME_JS not in line]
    if len(kept) == len(lines):
        logger.warning("site_assets: pydata-sphinx-theme no longer loads %s in %s; the "
                       "override in _ext/site_assets.py can go", FONTAWESOME_JS, MACROS)
        return
    templates = Path(app.doctreedir) / "site_assets_templates"
    (templates / MACROS).parent.mkdir(parents=True, exist_ok=True)
    (templates / MACROS).write_text("".join(kept), encoding="utf-8")
    config.templates_path = [str(templates), *config.templates_path]


ROOT_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="canonical" href="{target}">
<meta http-equiv="refresh" content="0; url={target}">
<script>location.replace({target_js} + location.search + location.hash);</script>
</head>
<body>
<p><a href="{target}">{title}</a></p>
</body>
</html>
"""


IMAGE_TAG = re.compile(r'<img (?P<attributes>[^>]*?)\s*/?>')
DISPLAYED_WIDTH = re.compile(r'style="width: (?P<width>\d+)px;"')


def png_size(path: Path) -> tuple[int, int] | None:
    """(width, height) in pixels from a PNG's header, or None for anything else."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def lazy_image(tag: re.Match, page: Path) -> str:
    """An output figure's tag with its displayed size (width and height: the browser keeps
    its place before it loads) and ``loading="lazy"`` (it loads when the reader nears it)."""
    attributes = tag["attributes"]
    src = re.search(r'src="([^"]+)"', attributes)
    width = DISPLAYED_WIDTH.search(attributes)
    if "loading=" in attributes or not src or not width or "_images/" not in src[1]:
        return tag[0]
    size = png_size(page.parent / src[1])
    if size is None:
        return tag[0]
    shown = int(width["width"])
    height = round(shown * size[1] / size[0])
    return (f'<img {attributes} width="{shown}" height="{height}" loading="lazy" '
            f'decoding="async" />')


def lazy_images(text: str, page: Path) -> str:
    """Every figure of a page loads lazily, with its size set (see ``lazy_image``)."""
    return IMAGE_TAG.sub(lambda tag: lazy_image(tag, page), text)


SEARCH_TOOLS = re.compile(r'<script src="[^"]*(?:_static/searchtools\.js|_static/language_data\.js'
                          r'|searchindex\.js)"></script>\n?')


def without_search_tools(text: str, page: Path) -> str:
    """A page other than the search page without the search tools' tags (see above)."""
    return text if page.name == "search.html" else SEARCH_TOOLS.sub("", text)


def drop_search_tools(app: Sphinx, config) -> None:
    """Unless the theme's search-as-you-type needs them, the search tools only on the
    search page."""
    if str(config.html_theme_options.get("search_as_you_type", False)).lower() != "true":
        add_page_rewrite(app, without_search_tools)


def add_page_rewrite(app: Sphinx, rewrite) -> None:
    """Have ``rewrite(text, page) -> text`` applied to every HTML page this build writes,
    once the build is done (``rewrite_pages``: one pass over the files for every rewrite)."""
    app.site_assets_page_rewrites.append(rewrite)


def own_pages(app: Sphinx):
    """This build's HTML pages: a translated site built into a folder of this one (it has
    its own ``_static``) is finished by its own build, and the ``.html`` files in
    ``_static`` are the themes' templates, not pages."""
    outdir = Path(app.outdir)
    skipped = [outdir / "_static", *(static.parent for static in outdir.glob("*/_static"))]
    for page in outdir.rglob("*.html"):
        if not any(folder in page.parents for folder in skipped):
            yield page


def rewrite_pages(app: Sphinx, exception: Exception | None) -> None:
    """Apply the registered rewrites to this build's pages, each file replaced whole."""
    if exception is not None or app.builder.format != "html":
        return
    for page in own_pages(app):
        text = page.read_text(encoding="utf-8")
        rewritten = text
        for rewrite in app.site_assets_page_rewrites:
            rewritten = rewrite(rewritten, page)
        if rewritten != text:
            part = page.with_name(page.name + ".part")
            part.write_text(rewritten, encoding="utf-8")
            os.replace(part, page)


def write_root_page(app: Sphinx, exception: Exception | None) -> None:
    """A complete /index.html that sends readers to the root document (see above)."""
    root = app.config.root_doc
    if exception is not None or app.builder.format != "html" or root == "index":
        return
    target = app.builder.get_target_uri(root)
    title = app.config.html_title or app.config.project
    (Path(app.outdir) / "index.html").write_text(ROOT_PAGE.format(
        lang=html.escape((app.config.language or "en").replace("_", "-")), title=html.escape(title),
        target=html.escape(target), target_js=json.dumps(target)), encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.add_config_value("site_assets_vendor", "_vendor", "html", [str])
    app.connect("config-inited", drop_fontawesome_script)
    app.connect("builder-inited", add_vendor)
    app.connect("builder-inited", add_drawer_script)
    app.connect("html-page-context", add_search_snippets_script)
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    # before sphinx-external-toc's ensure_index_file (500), which then leaves it alone
    app.connect("build-finished", write_root_page, priority=400)
    app.site_assets_page_rewrites = [lazy_images]  # add_page_rewrite adds more
    app.connect("config-inited", drop_search_tools)
    # after the themes' own build-finished handlers (500): pydata-sphinx-theme writes its
    # light and dark pygments.css then, which trimmed_assets' code rewrite reads
    app.connect("build-finished", rewrite_pages, priority=600)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
