"""The Brazilian Portuguese edition: message catalogs, the translated site and notebooks.

    python -m book.translation extract    # English text -> locales/pt_BR/LC_MESSAGES/*.po
    python -m book.translation status     # messages, translated; exit 1 if any is missing
    python -m book.translation check      # exit 1 if the English changed since translated
    python -m book.translation notebooks  # chapters/pt_BR/<framework>/<name>.ipynb
    python -m book.translation site       # the Portuguese site, _build/html/pt/

The site uses Sphinx's gettext internationalization. ``extract`` builds the English pages
with Sphinx's gettext builder (one ``.pot`` per page, in ``_build/gettext``) and merges
them into the catalogs with sphinx-intl: one ``.po`` per page under
``locales/pt_BR/LC_MESSAGES/`` (``chapters/batch_norm.po`` ...). A message whose English
changed becomes *fuzzy* (the old translation is kept as a suggestion, but not used); a
new one is untranslated. More catalogs sit beside them: ``site.po``, the text the site's
extensions write or translate (the ``_()`` and ``N_()`` calls in ``_ext/*.py``: the
launch box, the language switch, interface labels the themes write untranslated, the
bibliography's words), the site title, copyright line and footer, and the figures' alt
texts; ``notebooks.po``, the text only the notebooks have (their ``notebook-only``
cells); and ``sphinx.po``, kept by hand, the themes' interface messages that no
Portuguese catalog of theirs covers. Messages with nothing to translate (math, numbers,
framework names) are filled in with themselves.

``site`` builds the pages again with ``language = pt_BR``, Sphinx replacing each message
by its translation, into ``_build/html/pt`` (beside the English site in ``_build/html``).
``notebooks`` writes the Portuguese per-framework notebooks: each markdown cell of the
English notebook, in its MyST form (``book.notebooks.split(learner=False)``), with every
block (paragraph, heading, list item, table cell, admonition title) replaced by its
translation from the page's catalog (or ``notebooks.po``), then converted for Jupyter
(``book.learner_markdown``: links to the Portuguese site, Portuguese section titles and
citations); code cells and outputs are copied unchanged. It also writes their single-file
editions (``book.single_file``). An untranslated or fuzzy message stops both, and
fails ``tests/test_translation.py``. The glossary of terms is
``locales/pt_BR/GLOSSARY.md``.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from d2l_bn import FRAMEWORKS, LABELS, __version__

from . import CHAPTERS, ROOT, single_file
from .files import check_catalogs, exits_on_book_error, read_catalog, read_notebook
from .learner_markdown import Links, collect, convert, site_url
from .markdown_blocks import blocks, replace_blocks

LANGUAGE = "pt_BR"
PROJECT = "d2l-bn"  # the catalogs' Project-Id-Version, with d2l_bn's version
SITE_DIR = "pt"  # the Portuguese site: _build/html/pt
LOCALES = ROOT / "locales"
MESSAGES = LOCALES / LANGUAGE / "LC_MESSAGES"
GETTEXT = ROOT / "_build" / "gettext"
HTML = ROOT / "_build" / "html"
SITE_CATALOG = "site"  # the extensions' text (_ext/*.py)
NOTEBOOK_CATALOG = "notebooks"  # text only the notebooks have
NOTEBOOKS = CHAPTERS / LANGUAGE  # chapters/pt_BR/<framework>/<name>.ipynb
PAGES = ("batch_norm", "exercises")  # the pages with per-framework notebooks
# Words that are the same in both languages; a message of only these, numbers, math,
# code and punctuation is its own translation.
SAME_WORDS = {*LABELS.values(), "LeNet", "LeNet-BN", "BN", "Fashion-MNIST", "Keras", "Flax",
              "NNX", "Gluon", "SGD", "GFLOP/s"}


class TranslationError(RuntimeError):
    """The Portuguese edition cannot be built from the catalogs as they are."""


def sphinx_build(builder: str, out: Path, doctrees: Path | None = None, **config) -> None:
    """Build the book with Jupyter Book's Sphinx configuration, plus ``config``."""
    from jupyter_book.sphinx import build_sphinx

    doctrees = doctrees or ROOT / "_build" / f".doctrees-{builder}-{config.get('language', 'en')}"
    result = build_sphinx(ROOT, out, noconfig=True, path_config=str(ROOT / "_config.yml"),
                          confoverrides={"latex_individualpages": False, **config},
                          doctreedir=doctrees, builder=builder, warningiserror=True,
                          keep_going=True, quiet=True, freshenv=True)
    if result:
        raise TranslationError(f"the {builder} build ({config or 'English'}) failed: {result}")


# --- catalogs ----------------------------------------------------------------------------

def is_neutral(message: str) -> bool:
    """Nothing to translate: a display-math block (TeX, no ``$`` or code), or only inline
    math, code, roles, numbers, names and punctuation."""
    if "$" not in message and "`" not in message and re.search(r"\\[a-zA-Z]+", message):
        return True
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`|\{[\w:-]+\}", " ", message, flags=re.S)
    words = re.findall(r"[^\W\d_][\w./-]*", text)
    return all(word in SAME_WORDS for word in words)


def notebook_messages(pot_dir: Path = GETTEXT) -> dict[str, list[str]]:
    """Blocks of the English notebooks' markdown (MyST, as split) that the site's pages do
    not have: message -> where it occurs."""
    from babel.messages.pofile import read_po

    from .notebooks import split

    found: dict[str, list[str]] = {}
    for page in PAGES:
        with open(pot_dir / "chapters" / f"{page}.pot", "rb") as pot:
            known = {m.id for m in read_po(pot) if m.id}
        for fw in FRAMEWORKS:
            path = CHAPTERS / fw / f"{page}.ipynb"
            for cell in split(CHAPTERS / f"{page}.md", fw, learner=False).cells:
                if cell.cell_type == "markdown":
                    for block in blocks(cell.source):
                        if block.text not in known:
                            found.setdefault(block.text, []).append(
                                f"{path.relative_to(ROOT)}#{cell.id}")
    return found


def site_messages() -> dict[str, list[str]]:
    """The ``_("...")`` and ``N_("...")`` texts of the extensions, the site title, the
    copyright line and the footer, and the figures' alt texts."""
    import yaml
    from babel.messages.extract import extract_from_file

    found: dict[str, list[str]] = {}
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    found[config["title"]] = ["_config.yml"]
    found[config["copyright"]] = ["_config.yml"]
    found[config["html"]["extra_footer"].strip()] = ["_config.yml"]
    for block in blocks(single_file.NOTE):  # the single-file editions' note
        found[block.text] = ["book/single_file.py"]
    for page in sorted(CHAPTERS.glob("*.ipynb")):  # the figures' alt texts (book merge)
        for cell in read_notebook(page).cells:
            if alt := cell.metadata.get("mystnb", {}).get("image", {}).get("alt"):
                found.setdefault(alt, []).append(f"chapters/{page.name}")
    for path in sorted((ROOT / "_ext").glob("*.py")):
        for line, message, _, _ in extract_from_file("python", path):
            found.setdefault(message, []).append(f"_ext/{path.name}:{line}")
    return found


def write_pot(path: Path, messages: dict[str, list[str]]) -> None:
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    catalog = Catalog(project=PROJECT, version=__version__, fuzzy=False)
    for message, places in messages.items():
        catalog.add(message, locations=[(place, None) for place in places])
    with open(path, "wb") as out:
        write_po(out, catalog, width=0, omit_header=False)


def fill_neutral(po: Path) -> int:
    """Translate each message with nothing to translate as itself; return how many."""
    from babel.messages.pofile import read_po, write_po

    with open(po, "rb") as f:
        catalog = read_po(f)
    filled = 0
    for message in catalog:
        if message.id and not message.string and is_neutral(message.id):
            message.string = message.id
            message.flags.discard("fuzzy")
            filled += 1
    if filled:
        with open(po, "wb") as f:
            write_po(f, catalog, width=76)
    return filled


def templates(out: Path = GETTEXT) -> Path:
    """Extract every message of the English text into ``out/<catalog>.pot``."""
    sphinx_build("gettext", out, doctrees=out / ".doctrees", gettext_compact=False,
                 gettext_location=False, gettext_uuid=False, project=PROJECT,
                 version=__version__)
    # The HTML templates' messages (sphinx.pot: "Search", "previous page", ...) are the
    # themes' own: Sphinx's catalogs translate some, the hand-kept sphinx.po the rest.
    (out / "sphinx.pot").unlink(missing_ok=True)
    write_pot(out / f"{NOTEBOOK_CATALOG}.pot", notebook_messages(out))
    write_pot(out / f"{SITE_CATALOG}.pot", site_messages())
    return out


def extract() -> list[Path]:
    """Update every catalog from the English text; return the catalogs."""
    from sphinx_intl.basic import update

    check_catalogs(MESSAGES)  # sphinx-intl would rewrite a malformed entry, losing text
    templates(GETTEXT)
    update(str(LOCALES), str(GETTEXT), (LANGUAGE,), ignore_obsolete=True, jobs=1)
    catalogs = sorted(MESSAGES.rglob("*.po"))
    for po in catalogs:
        fill_neutral(po)
    return catalogs


def stale(pot_dir: Path, messages: Path = MESSAGES) -> dict[str, list[str]]:
    """catalog -> the English messages of ``pot_dir`` that the catalogs in ``messages`` do
    not translate (new, changed since translated, or fuzzy); neutral messages excepted."""
    found = {}
    for pot in sorted(pot_dir.rglob("*.pot")):
        name = pot.relative_to(pot_dir).with_suffix("").as_posix()
        po = messages / f"{name}.po"
        done = {m.id for m in load(po) if m.id and m.string and not m.fuzzy} \
            if po.is_file() else set()
        missing = [m.id for m in load(pot) if m.id and m.id not in done and not is_neutral(m.id)]
        if missing:
            found[name] = missing
    return found


def load(po: Path):
    """The catalog at ``po``, read strictly (``book.files.read_catalog``)."""
    return read_catalog(po)


def status() -> dict[str, tuple[int, int, list[str]]]:
    """catalog -> (messages, translated, the untranslated or fuzzy ones)."""
    report = {}
    for po in sorted(MESSAGES.rglob("*.po")):
        messages = [m for m in load(po) if m.id]
        missing = [m.id for m in messages if not m.string or m.fuzzy]
        report[po.relative_to(MESSAGES).as_posix()] = (
            len(messages), len(messages) - len(missing), missing)
    return report


def translations(catalogs: Iterable[str]) -> dict[str, str]:
    """message -> translation, from the named catalogs (untranslated or fuzzy: absent)."""
    table = {}
    for name in catalogs:
        for message in load(MESSAGES / f"{name}.po"):
            if message.id and message.string and not message.fuzzy:
                table.setdefault(message.id, message.string)
    return table


def compile_catalogs() -> None:
    """The ``.mo`` files Sphinx and the extensions read (next to each ``.po``)."""
    from babel.messages.mofile import write_mo

    for po in MESSAGES.rglob("*.po"):
        with open(po.with_suffix(".mo"), "wb") as out:
            write_mo(out, load(po))


def require_complete() -> None:
    missing = {name: ids for name, (_, _, ids) in status().items() if ids}
    if missing:
        lines = [f"  {name}: {len(ids)} (first: {ids[0][:70]!r})" for name, ids in missing.items()]
        raise TranslationError(
            "untranslated or fuzzy messages (the English changed since it was translated):\n"
            + "\n".join(lines)
            + "\nUpdate them in locales/pt_BR/LC_MESSAGES/ (see CONTRIBUTING.md).")


# --- notebooks ---------------------------------------------------------------------------

def notebook_path(page: str, framework: str) -> Path:
    return NOTEBOOKS / framework / f"{page}.ipynb"


def portuguese_links() -> Links:
    """The Portuguese site's links: its URL, its (translated) section titles, "e"."""
    import jupytext

    pages = {}
    for page in PAGES:
        table = translations([f"chapters/{page}", NOTEBOOK_CATALOG])
        cells = jupytext.read(CHAPTERS / f"{page}.md").cells
        pages[f"chapters/{page}"] = [replace_blocks(c.source, lambda t: table.get(t, t))
                                     for c in cells if c.cell_type == "markdown"]
    word_and = translations([SITE_CATALOG]).get("and", "and")
    return collect(pages, f"{site_url()}{SITE_DIR}/", word_and)


def translate_notebook(page: str, framework: str, links: Links | None = None):
    """The Portuguese notebook: the English one with its markdown translated (from its
    MyST text) and converted for Jupyter with ``links`` (default: ``portuguese_links()``)."""
    from .notebooks import split

    table = translations([f"chapters/{page}", NOTEBOOK_CATALOG])
    path = CHAPTERS / framework / f"{page}.ipynb"
    english = read_notebook(path)
    myst = {c.id: c.source for c in split(CHAPTERS / f"{page}.md", framework, learner=False).cells}
    links = links or portuguese_links()
    missing = []

    def translate(text: str) -> str:
        if text not in table:
            missing.append(text)
            return text
        return table[text]

    notebook = copy.deepcopy(english)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            if cell.id not in myst:
                raise TranslationError(f"{path.relative_to(ROOT)} is out of sync with its "
                                       "source: run `python -m book split`")
            cell.source = convert(replace_blocks(myst[cell.id], translate), f"chapters/{page}",
                                  links)
    if missing:
        raise TranslationError(f"{len(missing)} block(s) of chapters/{framework}/{page}.ipynb "
                               f"have no translation, e.g. {missing[0][:70]!r}: run "
                               "`python -m book.translation extract` and translate them")
    notebook.metadata.setdefault("d2l_bn", {})["language"] = LANGUAGE
    return notebook


def translated_notebooks():
    """(path, text as written) of every Portuguese notebook, from the English and the catalogs."""
    import nbformat

    links = portuguese_links()
    for page in PAGES:
        for framework in FRAMEWORKS:
            notebook = translate_notebook(page, framework, links)
            yield notebook_path(page, framework), nbformat.writes(notebook) + "\n"


def write_notebooks() -> list[Path]:
    """The Portuguese notebooks, then their single-file editions."""
    written = []
    for path, text in translated_notebooks():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written + single_file.write_all(languages=(LANGUAGE,))


def notebooks_out_of_sync() -> list[str]:
    return [f"{path.relative_to(ROOT)} is out of sync: run `python -m book.translation notebooks`"
            for path, text in translated_notebooks()
            if not path.is_file() or path.read_text() != text]


# --- the site ----------------------------------------------------------------------------

def build_site(out: Path = HTML / SITE_DIR, doctrees: Path | None = None) -> Path:
    """The Portuguese site (strict: a warning is an error), linking to the Portuguese
    notebooks and their committed single-file editions."""
    require_complete()
    compile_catalogs()
    config = {"language": LANGUAGE,
              "html_baseurl": f"{site_url()}{SITE_DIR}/",  # its pages' canonical addresses
              "framework_tabs_notebook_dir": NOTEBOOKS.relative_to(ROOT).as_posix(),
              "framework_tabs_single_file_dir": (NOTEBOOKS / "single_file").relative_to(
                  ROOT).as_posix()}
    sphinx_build("html", out, doctrees=doctrees, **config)
    return out


@exits_on_book_error  # a missing or malformed file: one line saying what to do, status 1
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m book.translation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["extract", "status", "check", "notebooks", "site"])
    parser.add_argument("--out", type=Path, help="site: the output folder (default: "
                        f"{(HTML / SITE_DIR).relative_to(ROOT)})")
    args = parser.parse_args(argv)
    try:
        if args.command == "extract":
            for po in extract():
                print(f"updated {po.relative_to(ROOT)}")
        if args.command in ("extract", "status"):
            report = status()
            for name, (total, done, _) in report.items():
                print(f"{name}: {done} of {total} messages translated")
            total = sum(t for t, _, _ in report.values())
            done = sum(d for _, d, _ in report.values())
            print(f"all catalogs: {done} of {total} messages translated")
            return 0 if done == total else 1
        if args.command == "notebooks":
            for path in write_notebooks():
                print(f"wrote {path.relative_to(ROOT)}")
        if args.command == "check":
            import tempfile

            check_catalogs(MESSAGES)  # a malformed catalog stops here, before the build
            with tempfile.TemporaryDirectory() as tmp:
                missing = stale(templates(Path(tmp)))
            problems = [f"{name}: {len(ids)} English message(s) without a current "
                        f"translation, e.g. {ids[0][:70]!r}" for name, ids in missing.items()]
            problems += notebooks_out_of_sync() if not missing else []
            print("\n".join(problems) or "the Portuguese edition is complete and in sync")
            return 1 if problems else 0
        if args.command == "site":
            if args.out is None:
                out = build_site()
            else:
                out = build_site(args.out.absolute(), args.out.absolute().parent / ".doctrees-pt")
            print(f"The Portuguese site is in {out}")
    except TranslationError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
