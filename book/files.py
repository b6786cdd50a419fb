"""Reading the book's generated files and catalogs, with one clear error for a bad one.

A generated notebook can be cut short by an interrupted write or mangled by a merge
conflict; a message catalog is edited by hand. The tooling reads both through this
module, which turns any fault into a :class:`BookError` naming the file (and the line,
where there is one), what was wrong and what to do. The command lines
(``python -m book``, ``python -m book.translation``) print it and exit with status 1,
instead of a traceback from ``json``, ``nbformat`` or babel.

* :func:`read_notebook`: a Jupyter notebook of format 4, valid against nbformat's schema.
* :func:`read_catalog`: a gettext ``.po``/``.pot`` file, read strictly (babel on its own
  passes over a malformed line with a warning, or cuts a string short, so a broken entry
  would count as translated), with no duplicate entries, and each current translation
  keeping the roles, links, inline math, code, placeholders and numbers of its English
  (:func:`lost_in_translation`).
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from d2l_bn import FRAMEWORKS

from . import CHAPTERS, ROOT


class BookError(Exception):
    """A file the book tooling reads is missing or malformed; the message says what to do."""


def exits_on_book_error(main: Callable[..., int]) -> Callable[..., int]:
    """``main`` printing a :class:`BookError` as ``error: ...`` and returning 1."""

    @functools.wraps(main)
    def run(*args, **kwargs) -> int:
        try:
            return main(*args, **kwargs)
        except BookError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1

    return run


def shown(path: Path) -> str:
    """``path`` as the message shows it: relative to the repository when inside it."""
    path = Path(path).absolute()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _read_text(path: Path, remedy: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BookError(f"{shown(path)} is missing. {remedy}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise BookError(f"{shown(path)} cannot be read as UTF-8 text ({err}). {remedy}") from None


# --- notebooks ----------------------------------------------------------------------------

def notebook_remedy(path: Path) -> str:
    """How to get a good copy of the generated notebook at ``path``."""
    name = shown(path)
    parts = Path(path).absolute().relative_to(CHAPTERS).parts \
        if Path(path).absolute().is_relative_to(CHAPTERS) else ()
    if len(parts) == 1:
        return "Regenerate it with `python -m book merge`."
    if len(parts) == 2 and parts[0] in FRAMEWORKS:
        return (f"Restore the committed file (`git restore {name}`), or regenerate it with "
                f"`python -m book split` (delete a damaged file first), then `python -m book "
                f"execute {parts[0]}` for its outputs (a full run).")
    if len(parts) == 3 and parts[1] in FRAMEWORKS:
        return "Regenerate it with `python -m book.translation notebooks`."
    return f"Restore it (`git restore {name}`) or regenerate it."


def read_notebook(path: Path):
    """The notebook at ``path`` (an ``nbformat`` v4 node), or a :class:`BookError`."""
    import nbformat

    remedy = notebook_remedy(path)
    text = _read_text(path, remedy)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        cut = "; the file stops before the notebook ends (cut short?)" \
            if not text.rstrip().endswith("}") else ""
        raise BookError(f"{shown(path)}, line {err.lineno}, column {err.colno}: not valid "
                        f"JSON ({err.msg}){cut}. {remedy}") from None
    if not isinstance(data, dict) or data.get("nbformat") != 4 \
            or not isinstance(data.get("cells"), list):
        found = (f"a JSON {type(data).__name__}" if not isinstance(data, dict) else
                 f"nbformat {data.get('nbformat')!r}" if data.get("nbformat") != 4 else
                 "no list of cells")
        raise BookError(f"{shown(path)} is not a Jupyter notebook of format 4 (found {found})."
                        f" {remedy}")
    try:
        nbformat.validate(data)
    except nbformat.ValidationError as err:
        where = "/".join(str(part) for part in err.absolute_path) or "top level"
        raise BookError(f"{shown(path)} is not a valid notebook ({where}: {err.message}). "
                        f"{remedy}") from None
    except (AttributeError, KeyError, TypeError) as err:  # nbformat's own checks trip first
        raise BookError(f"{shown(path)} is not a valid notebook ({type(err).__name__}: "
                        f"{err}). {remedy}") from None
    return nbformat.v4.to_notebook_json(data)  # as nbformat.read: multi-line strings joined


# --- message catalogs ---------------------------------------------------------------------

# A line of a PO entry: keyword and string, or a string continuing the one above.
PO_LINE = re.compile(r'(?:(?P<keyword>msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+)?'
                     r'"(?P<string>(?:[^"\\]|\\.)*)"')


def catalog_remedy(path: Path, line: int) -> str:
    return (f"Fix the entry at line {line} of {shown(path)}, or delete that entry and run "
            "`python -m book.translation extract`, which brings it back untranslated.")


def _check_po_lines(path: Path, text: str) -> None:
    """Every line quoted as PO requires, and no message twice (babel checks neither)."""
    seen: dict[tuple[str, str], int] = {}  # (context, message) -> line of its entry
    context, msgid, keyword, entry = None, None, None, 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = PO_LINE.fullmatch(line)
        if match is None:
            raise BookError(f"{shown(path)}, line {number}: {line[:70]!r} is not a PO line: "
                            'expected `msgid "..."`, `msgstr "..."` or a continued string '
                            '`"..."` (a quote missing at one end, or a quote inside the text not '
                            f'written `\\"`?). {catalog_remedy(path, number)}')
        keyword = match["keyword"] or keyword
        if match["keyword"] == "msgctxt":
            context, entry = "", number
        elif match["keyword"] == "msgid":
            msgid, entry = "", entry if context is not None else number
        elif match["keyword"] and keyword.startswith("msgstr") and msgid is not None:
            key = (context or "", msgid)
            # msgid "" is the header (Sphinx's templates may repeat it): nothing to translate
            if key in seen and msgid:
                raise BookError(f"{shown(path)}, line {entry}: a second entry for the message "
                                f"of line {seen[key]}. {catalog_remedy(path, entry)}")
            seen[key], context, msgid = entry, None, None
        if keyword == "msgctxt":
            context += match["string"]
        elif keyword == "msgid":
            msgid += match["string"]


def read_catalog(path: Path):
    """The catalog at ``path`` (a babel ``Catalog``), or a :class:`BookError` for a malformed
    entry or a translation that lost some of its English's markup."""
    import io

    from babel.messages.pofile import PoFileError, read_po

    text = _read_text(path, "Restore it from git, or run `python -m book.translation extract`.")
    _check_po_lines(path, text)
    try:
        catalog = read_po(io.StringIO(text), abort_invalid=True)
    except PoFileError as err:  # its lineno counts from 0
        line = err.lineno + 1
        raise BookError(f"{shown(path)}, line {line}: {str(err).rsplit(' on ', 1)[0]}. "
                        f"{catalog_remedy(path, line)}") from None
    problems = [f"  line {m.lineno}: {what}" for m in catalog
                if isinstance(m.id, str) and m.id and m.string and not m.fuzzy
                for what in lost_in_translation(m.id, m.string)]
    if problems:
        raise BookError(f"{shown(path)}: {len(problems)} translation problem(s), where an entry "
                        "does not keep what must stay as in its English:\n" + "\n".join(problems)
                        + f"\nFix those entries of {shown(path)}: keep every role, link target, "
                        "inline math, code span, {placeholder} and number of the English.")
    return catalog


def check_catalogs(folder: Path) -> None:
    """Read every ``.po`` under ``folder``: the first bad one raises its :class:`BookError`."""
    for po in sorted(Path(folder).rglob("*.po")):
        read_catalog(po)


# What a translation keeps exactly as its English has it (roles first: their text is theirs).
ROLE = re.compile(r"\{[\w:-]+\}`[^`]*`")  # {cite:p}`ioffe2015batch`
KEPT = {"link target": re.compile(r"\]\([^)]*\)"), "inline math": re.compile(r"\$[^$]+\$"),
        "code span": re.compile(r"`[^`]+`")}
PLACEHOLDER = re.compile(r"(?<!\\text)\{\w*\}")  # str.format fields ({label}); not \text{...}
NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:e[-+]\d+)?")
# Thousands as Portuguese prose writes them, grouped by a (no-break) space: 60 000.
SPACED_THOUSANDS = re.compile(r"(?<![\d.,])(\d{1,3})(?:[ \u00a0\u202f]\d{3})+(?![\d.,]\d)")


def english_grouping(translation: str) -> str:
    """``translation`` with Portuguese thousands (60 000) written as in English (60,000)."""
    return SPACED_THOUSANDS.sub(lambda m: re.sub(r"[ \u00a0\u202f]", ",", m.group(0)),
                                translation)


def lost_in_translation(english: str, translation: str) -> list[str]:
    """What ``translation`` does not keep of ``english``: roles, link targets, inline math,
    code spans and placeholders differ, or a number of the English is missing."""

    def kept(text: str) -> Counter:
        found = Counter(("role", role) for role in ROLE.findall(text))
        rest = ROLE.sub(" ", text)
        for kind, pattern in KEPT.items():
            found.update((kind, token) for token in pattern.findall(rest))
        prose = KEPT["code span"].sub(" ", KEPT["inline math"].sub(" ", rest))
        found.update(("placeholder", field) for field in PLACEHOLDER.findall(prose))
        return found

    ours, theirs = kept(english), kept(translation)
    problems = [f"{kind} {token!r} missing" for kind, token in sorted(ours - theirs)]
    problems += [f"{kind} {token!r} not in the English" for kind, token in sorted(theirs - ours)]
    lost = (Counter(NUMBER.findall(english))
            - Counter(NUMBER.findall(english_grouping(translation))))
    problems += [f"number {number} missing" for number in sorted(lost)]
    return problems
