"""Tiny Sphinx projects for the tests of the extensions in _ext/."""

from __future__ import annotations

from pathlib import Path

from sphinx.testing.util import SphinxTestApp


def build_html(src: Path, conf: str | None = None,
               pages: dict[str, str] | None = None) -> SphinxTestApp:
    """Build the project in ``src`` with the html builder, in a fresh environment, after
    writing ``conf`` as its conf.py and each of ``pages`` as ``<name>.rst`` (if given).
    The app's ``outdir`` and ``warning`` stay readable after the build."""
    if conf is not None:
        (src / "conf.py").write_text(conf)
    for name, text in (pages or {}).items():
        (src / f"{name}.rst").write_text(text)
    app = SphinxTestApp("html", srcdir=src, freshenv=True)
    try:
        app.build()
    finally:
        app.cleanup()
    return app
