"""The site in two languages (a local Sphinx extension): English, and Brazilian Portuguese
built from the catalogs in ``locales/`` (``python -m book.translation``).

What gets translated
    Sphinx translates what its gettext builder extracts. Two fixes to that set, made
    before Sphinx's own translation transform runs: text that sphinx-design's dropdowns
    parse (the tables of the exercises' explanations) carries no source file, so Sphinx
    would skip it; it gets its page's source. The benchmark tables the performance page
    includes from ``benchmarks/results/`` are the benchmark suite's output, like a code
    cell's output: they stay as the suite wrote them, untranslated.

The extensions' own text
    ``_()`` marks the text the extensions write (the launch box, the download menu, the
    language switch, "and" in citation labels). It is translated with the ``site``
    catalog (``locales/<language>/LC_MESSAGES/site.po``); so are the site title, the
    copyright line and the footer (``html: extra_footer:``, the licenses), the search box's
    placeholder, the label of MyST-NB's button that opens a collapsed cell, the figures'
    alt texts (``_ext/cell_outputs.py``), the bibliography's words
    (``_ext/author_year.py``), and the interface labels the themes and MyST-NB write
    without marking them for translation (``FIXED_LABELS``, replaced in the written
    pages).

The themes' text
    pydata-sphinx-theme marks its interface for translation ("Skip to main content",
    "Back to top", "Color mode", ...) but has no Portuguese; ``sphinx.po`` in the same
    folder, kept by hand, translates it (Sphinx reads the catalogs of ``locale_dirs``
    before its own).

The language switch
    Every page gets a button in its header leading to the same page in the other
    language (English at the site's root, Portuguese under ``pt/``), marked with the
    language it leads to. Its script (``static/language-switch.js``) keeps the reader's
    place: the section whose heading is the last above the window (section ids come from
    the English titles, so they are the same in both languages) and the framework of the
    tabs. Each page names its versions in both languages, and English as the default,
    with ``<link rel="alternate" hreflang>``.
"""

from __future__ import annotations

import html
from pathlib import Path

import site_assets  # a sibling extension in _ext/ (on sys.path like this one)
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.locale import get_translation
from sphinx.transforms import SphinxTransform

__version__ = "0.1.0"

CATALOG = "site"
_ = get_translation(CATALOG)
STATIC = Path(__file__).parent / "static"
LOCALES = Path(__file__).resolve().parents[1] / "locales"
# language -> (its name, in itself; the folder of its site under the English one)
LANGUAGES = {"en": ("English", ""), "pt_BR": ("Português", "pt")}
HREFLANG = {"en": "en", "pt_BR": "pt-BR"}
UNTRANSLATED_SOURCES = ("benchmarks/results/",)  # program output, shown as written


def N_(message: str) -> str:
    """Mark ``message`` for the site catalog (``book.translation`` extracts ``N_``); it is
    translated where it is used."""
    return message


# Interface text that the themes and MyST-NB write into every page without marking it for
# translation (the themes' marked text is in locales/<language>/LC_MESSAGES/sphinx.po):
# (attribute, English value), translated in the built pages.
FIXED_LABELS = (
    ("aria-label", N_("Toggle hidden content")),  # MyST-NB: a collapsed cell's summary
    ("title", N_("Toggle primary sidebar")),  # sphinx-book-theme's header buttons
    ("title", N_("Toggle secondary sidebar")),
    ("aria-label", N_("Main")),  # sphinx-book-theme's navigation landmarks
    ("aria-label", N_("Page")),
)


class MarkTranslatable(SphinxTransform):
    """Give sourceless text a source; keep the included benchmark output as it is."""

    default_priority = 15  # before sphinx.transforms.i18n.Locale (20)

    def apply(self, **kwargs) -> None:
        # A sourceless node (a dropdown's text) gets the source of the text before it. A
        # table takes the source of the text before it: MyST gives the cells of a table
        # that an {include} brought in the including page as their source.
        last = self.document["source"]
        for node in self.document.findall(nodes.Element):
            if isinstance(node, nodes.table):
                for cell in node.findall(nodes.TextElement):
                    cell.source = last
                continue
            if not isinstance(node, nodes.TextElement) or isinstance(node, nodes.Inline):
                continue
            if node.source and not any(isinstance(a, nodes.table) for a in _ancestors(node)):
                last = node.source
            elif not node.source:
                node.source = last
        for node in self.document.findall(nodes.TextElement):
            if any(part in (node.source or "") for part in UNTRANSLATED_SOURCES):
                node["translatable"] = False


def _ancestors(node: nodes.Node):
    while node.parent is not None:
        node = node.parent
        yield node


def other_language(app: Sphinx) -> str:
    return "pt_BR" if app.config.language == "en" else "en"


def other_language_uri(app: Sphinx, pagename: str, pathto) -> str:
    """Relative URL of ``pagename`` in the other language's site."""
    here, there = LANGUAGES[app.config.language][1], LANGUAGES[other_language(app)][1]
    page = app.builder.get_target_uri(pagename)
    if here:  # from pt/... up to the English root
        return pathto("../" * here.count("/") + "../" + page, 1)
    return pathto(f"{there}/{page}", 1)


def add_language_switch(app: Sphinx, pagename: str, templatename: str, context: dict,
                        doctree) -> None:
    if app.builder.format != "html":
        return
    target = other_language(app)
    url = other_language_uri(app, pagename, context["pathto"])
    name = LANGUAGES[target][0]
    button = {"type": "link", "url": url, "text": name, "icon": "fas fa-language",
              "tooltip": str(_("Read this page in English") if target == "en"
                             else _("Read this page in Portuguese")),
              "label": "language-switch"}
    context.setdefault("header_buttons", []).insert(0, button)
    context["metatags"] = context.get("metatags", "") + "".join(
        f'\n<link rel="alternate" hreflang="{hreflang}" href="{html.escape(href)}" />'
        for hreflang, href in alternates(app, pagename, url).items())


def alternates(app: Sphinx, pagename: str, other_url: str) -> dict[str, str]:
    """The page in each language, and the English one as the default for any other: full
    addresses under the English site's ``html_baseurl`` (``html: baseurl:``; a translated
    site's is its folder under it, the address of its canonical links), else relative
    ones."""
    page, base = app.builder.get_target_uri(pagename), app.config.html_baseurl.rstrip("/")
    folder_here = LANGUAGES[app.config.language][1]
    if base and folder_here:
        base = base.removesuffix(f"/{folder_here}")
    if base:
        urls = {language: base + "/" + (f"{folder}/" if folder else "") + page
                for language, (_, folder) in LANGUAGES.items()}
    else:
        urls = {app.config.language: page.rsplit("/", 1)[-1], other_language(app): other_url}
    return {**{HREFLANG[language]: url for language, url in urls.items()},
            "x-default": urls["en"]}


def translate_config(app: Sphinx, config) -> None:
    """The site title, the footer, and MyST-NB's labels of a collapsed cell's button."""
    if config.language == "en":
        return
    if config.html_title:
        config.html_title = str(_(config.html_title))
    config.copyright = str(_(config.copyright))  # the footer's first line names the authors
    options = config.html_theme_options
    options["search_bar_text"] = str(_("Search this book..."))  # Jupyter Book's default
    footer = options.get("extra_footer", "").strip()  # the licenses (html: extra_footer:)
    if footer:
        options["extra_footer"] = str(_(footer))
    # The course collapses whole cells only (hide-cell): {type} is always "content".
    config.nb_code_prompt_show = str(_("Show code cell content"))
    config.nb_code_prompt_hide = str(_("Hide code cell content"))


def page_replacements(app: Sphinx) -> list[tuple[str, str]]:
    """What ``finish_page`` replaces: the language switch says which language it leads to
    (``hreflang``; ``lang`` on its word) and opens in the same tab, its icon is not read
    aloud; on a translated site, ``FIXED_LABELS`` are translated."""
    other = other_language(app)
    name, target = LANGUAGES[other][0], HREFLANG[other]
    pairs = [('target="_blank"\n   class="btn btn-sm btn-language-switch"',
              f'class="btn btn-sm btn-language-switch" hreflang="{target}"'),
             (f'<span class="btn__text-container">{name}</span>',
              f'<span class="btn__text-container" lang="{target}">{name}</span>'),
             ('<i class="fas fa-language"></i>', '<i class="fas fa-language" aria-hidden="true"></i>')]
    if app.config.language != "en":
        pairs += [(f'{attribute}="{english}"', f'{attribute}="{html.escape(str(_(english)))}"')
                  for attribute, english in FIXED_LABELS]
    return pairs


def register_page_rewrite(app: Sphinx) -> None:
    """Finish every written page with ``page_replacements`` (site_assets' pass over them)."""
    if app.builder.format != "html":
        return
    pairs = page_replacements(app)

    def finish_page(text: str, page) -> str:
        for english, own in pairs:
            text = text.replace(english, own)
        return text

    site_assets.add_page_rewrite(app, finish_page)


def add_script(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    if str(STATIC) not in app.config.html_static_path:
        app.config.html_static_path.append(str(STATIC))
    app.add_js_file("language-switch.js")


def setup(app: Sphinx) -> dict:
    app.add_message_catalog(CATALOG, str(LOCALES))
    app.add_transform(MarkTranslatable)
    app.connect("config-inited", translate_config)
    app.connect("builder-inited", add_script)
    # after sphinx-book-theme's add_header_buttons (priority 501)
    app.connect("html-page-context", add_language_switch, priority=610)
    app.setup_extension("site_assets")  # its pass over the written pages
    app.connect("builder-inited", register_page_rewrite)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
