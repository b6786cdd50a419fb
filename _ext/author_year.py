"""An author-year bibliography for sphinxcontrib-bibtex (a local Sphinx extension).

The chapter cites author-year (``bibtex_reference_style: author_year``: "Ioffe and
Szegedy, 2015"), but sphinxcontrib-bibtex's default bibliography style, ``alpha``,
labels the entries [IS15] and sorts them by that label, so a reader cannot find a cited
work by its author and year. This extension registers a pybtex formatting style,
``author_year``, chosen with ``bibtex_default_style`` in ``_config.yml`` (or per
bibliography with ``:style: author_year``): pybtex's ``unsrt`` entry format, entries
sorted by author, year and title (pybtex's ``author_year_title``), each labelled the way
the text cites it: "Novikoff, 1962", "Ioffe and Szegedy, 2015", "Ba et al., 2016"
(with a, b, ... after the year when two entries would share a label).

The citations in the text use ``author_year_translated`` (``bibtex_reference_style``):
sphinxcontrib-bibtex's ``author_year`` with "and" taken from the site's catalog, so the
Portuguese pages read "Ioffe e Szegedy, 2015" in the text and in the bibliography. The
entries' own words ("and" between names, "In", "editors", "volume ... of", "pages") come
from the same catalog; the cited titles, names and venues stay as published.

See "Custom Formatting, Sorting, and Labelling" in the sphinxcontrib-bibtex docs:
styles are pybtex plugins, registered with ``pybtex.plugin.register_plugin``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pybtex.plugin import register_plugin
from pybtex.style import FormattedEntry
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.template import Node, names, sentence
from sphinx.application import Sphinx
from sphinx.locale import get_translation
from sphinxcontrib.bibtex.plugin import register_plugin as register_bibtex_plugin
from sphinxcontrib.bibtex.style.referencing import PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

__version__ = "0.1.0"
_ = get_translation("site")  # "and" in the Portuguese site's labels (_ext/translation.py)


def N_(message: str) -> str:
    """Mark ``message`` for the site catalog; it is translated where it is used."""
    return message


# The words of pybtex's unsrt templates that the course's entries use. A template's
# literal text is a ``str`` child of a node; fields are nodes, so titles and names never
# match.
TEMPLATE_WORDS = (N_("In"), N_("editor"), N_("editors"), N_("volume"), N_("Volume"),
                  N_("of"), N_("pages"))

STYLE = "author_year"
REFERENCE_STYLE = "author_year_translated"


def surname(person) -> str:
    """'van der Maaten' of 'Laurens van der Maaten' (von part and last names)."""
    return " ".join(person.prelast_names + person.last_names)


def cited_names(entry) -> str:
    """The names as the text cites them: A; A and B; A et al. (authors, else editors)."""
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [surname(person) for person in persons]
    if not names:
        return entry.fields.get("key", entry.key)
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} {_('and')} {names[1]}"
    return f"{names[0]} et al."


class AuthorYearLabels(BaseLabelStyle):
    """Labels "Names, Year", made unique with a, b, ... in the order entries are sorted."""

    def format_labels(self, sorted_entries):
        labels = [f"{cited_names(e)}, {e.fields['year']}" if "year" in e.fields
                  else cited_names(e) for e in sorted_entries]
        total, seen = Counter(labels), Counter()
        for label in labels:
            if total[label] == 1:
                yield label
            else:
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label]]
                seen[label] += 1


class AuthorYearStyle(UnsrtStyle):
    default_label_style = AuthorYearLabels
    default_sorting_style = "author_year_title"

    def format_names(self, role, as_sentence=True):
        """Names joined by "and" in the site's language: "A, B, and C" in English, without
        the serial comma in Portuguese ("A, B e C")."""
        word = str(_("and"))
        last = ", and " if word == "and" else f" {word} "
        formatted = names(role, sep=", ", sep2=f" {word} ", last_sep=last)
        return sentence[formatted] if as_sentence else formatted

    def format_entry(self, label, entry, bib_data=None):
        template = translated(getattr(self, f"get_{entry.type}_template")(entry))
        text = template.format_data({"entry": entry, "style": self, "bib_data": bib_data})
        return FormattedEntry(entry.key, text, label)


def translated(node):
    """A copy of the template ``node`` with its ``TEMPLATE_WORDS`` in the site's language."""
    if isinstance(node, str):
        return str(_(node)) if node in TEMPLATE_WORDS else node
    if not isinstance(node, Node):
        return node
    copy = node._clone()
    copy.children = [translated(child) for child in node.children]
    return copy


def _persons() -> PersonStyle:
    """Names in the text's citations, joined by "and" in the site's language."""
    word = str(_("and"))
    return PersonStyle(sep2=f" {word} ", last_sep=f", {word} ")


@dataclass
class TranslatedAuthorYearReferences(AuthorYearReferenceStyle):
    """sphinxcontrib-bibtex's author-year citations, with "and" translated (created when
    the build starts, after the site's catalog is loaded)."""

    person: PersonStyle = field(default_factory=_persons)


def setup(app: Sphinx) -> dict:
    register_plugin("pybtex.style.formatting", STYLE, AuthorYearStyle, force=True)
    register_bibtex_plugin("sphinxcontrib.bibtex.style.referencing", REFERENCE_STYLE,
                           TranslatedAuthorYearReferences, force=True)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
