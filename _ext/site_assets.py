"""What the site's pages load: MathJax from the site itself, and each script once.

Offline MathJax
    Sphinx loads MathJax 3 from a CDN by default, so a page read offline, or tested on
    a machine without internet, shows raw TeX. ``make mathjax`` installs the npm
    package ``mathjax`` (pinned in package.json / package-lock.json) and copies the
    files that ``tex-mml-chtml.js`` loads into ``_vendor/mathjax``. This extension adds
    ``_vendor`` to the static folders at build time, so they land in
    ``_static/mathjax``, where ``mathjax_path`` in ``_config.yml`` points. (Not in
    ``_static`` itself: Jupyter Book adds a script tag for every ``.js`` file under
    ``_static``, which would load all of MathJax's lazily loaded parts on every page.
    Folders added here, after Jupyter Book has written the configuration, are only
    copied.) A configured local MathJax that is missing is a build warning, so an
    error with ``-W``.

Each inline script once
    With Sphinx 7.4, an inline script (``add_js_file(None, body=...)``) that an
    extension adds after the builder is set up is registered twice, once as file name
    ``None`` and once as ``''``, and the page then carries it twice. For sphinx-thebe's
    ``const THEBE_JS_URL = ...`` that is a SyntaxError in the browser console on every
    page. The page-context handler below drops such repeats.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

__version__ = "0.1.0"


def add_mathjax(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    base = Path(app.confdir or app.srcdir)
    vendor = base / app.config.site_assets_vendor
    if vendor.is_dir():
        app.config.html_static_path.append(str(vendor))
    path = app.config.mathjax_path
    if not path or "://" in path or path.startswith("/"):
        return  # a CDN or an absolute URL: nothing to serve
    folders = [base / folder for folder in app.config.html_static_path]
    if not any((folder / path).is_file() for folder in folders):
        logger.warning("site_assets: mathjax_path is _static/%s, but no static folder has "
                       "it: run `make mathjax` (npm package mathjax@3)", path)


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


def setup(app: Sphinx) -> dict:
    app.add_config_value("site_assets_vendor", "_vendor", "html", [str])
    app.connect("builder-inited", add_mathjax)
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
