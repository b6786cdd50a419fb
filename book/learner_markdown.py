"""Markdown for learner notebooks: MyST-only markup made plain Markdown and LaTeX.

The chapter sources use MyST markup that only the site renders; Jupyter and Colab would
show it raw. When the learner notebooks are generated, ``convert`` turns it into what
they render, as the site reads it:

* ``(label)=`` lines: removed (the heading stays);
* ``{cite:p}`Ioffe.Szegedy.2015``: "([Ioffe and Szegedy, 2015](<DOI or URL>))", and
  ``{cite:t}``: "[Ioffe and Szegedy (2015)](...)"; a work with no DOI or URL in
  ``chapters/references.bib`` links to the site's references section;
* ``{ref}`label``: a link to that section on the site, named by its title (``{ref}`text
  <label>``: by that text);
* ``$$ ... $$ (label)``: ``\\tag{n}`` inside the block, numbered per page in order as the
  site numbers labelled equations; ``{eq}`label``: "(n)" (a link when on another page);
* the ``{bibliography}`` block: a short list of every cited work;
* a ``{dropdown}`` block: an HTML ``<details>`` element, which Jupyter and Colab fold;
* a link to another page's source, ``[Performance](performance.md#anchor)``: a link to
  that page on the site.

Anything else MyST-only (another role or directive) is an error naming it, so that a new
construct gets a plain form here rather than reaching a learner raw. ``Links`` holds what
the conversion needs for one language: the site's URL in that language, the section
titles and equation numbers of every page, and the cited works.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from . import CHAPTERS, ROOT

BIBLIOGRAPHY = CHAPTERS / "references.bib"
REFERENCES_LABEL = "sec-bn-references"  # where a work without a URL of its own is listed
LABEL_LINE = re.compile(r"^\(([\w-]+)\)=[ \t]*\n", re.MULTILINE)
SECTION = re.compile(r"^\(([\w-]+)\)=[ \t]*\n#{1,6}[ \t]+(.+?)[ \t]*$", re.MULTILINE)
EQUATION_LABEL = re.compile(r"\$\$[ \t]*\(([\w-]+)\)[ \t]*$", re.MULTILINE)
ROLE = re.compile(r"\{([\w:-]+)\}`([^`]*)`")
PAGE_LINK = re.compile(r"\]\((?![a-z]+:)([\w./-]+)\.md(#[\w-]+)?\)")  # ](performance.md#x)
EXPLICIT_TITLE = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.DOTALL)
# A directive block: ```{name} argument / :option: value lines / body / the same fence.
DIRECTIVE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w-]+)\}[ \t]*(?P<arg>.*)\n"
                       r"(?P<options>(?::[\w-]+:.*\n)*)(?P<body>(?:.*\n)*?)(?P=fence)[ \t]*$",
                       re.MULTILINE)


@dataclass(frozen=True)
class Work:
    """A cited work: how the text names it, and where it can be read."""

    names: str  # "Ioffe and Szegedy" ("and" in the notebook's language)
    year: str
    title: str
    venue: str
    url: str | None  # DOI, URL or arXiv page, when references.bib has one


@dataclass(frozen=True)
class Links:
    """What a learner notebook's links point at, in one language."""

    site: str  # the site's URL in this language, ending in "/"
    sections: dict[str, tuple[str, str]]  # label -> (page, title); page: chapters/batch_norm
    equations: dict[str, tuple[str, int]]  # label -> (page, number on that page)
    works: dict[str, Work]  # BibTeX key -> work
    cited: tuple[str, ...]  # the keys cited anywhere in the book, in reference-list order

    def page_url(self, page: str, anchor: str) -> str:
        return f"{self.site}{page}.html#{anchor}"


def site_url() -> str:
    """The English site's URL (``html: baseurl:`` of _config.yml), ending in "/"."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return config["html"]["baseurl"].rstrip("/") + "/"


def _plain(text: str) -> str:
    """BibTeX field text without its case-protecting braces and with en dashes."""
    return re.sub(r"[{}]", "", text).replace("--", "–")


def cited_names(entry, word_and: str) -> str:
    """A; A and B; A et al. (authors, else editors), as the site's citations read."""
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [" ".join(p.prelast_names + p.last_names) for p in persons]
    if len(names) > 2:
        return f"{names[0]} et al."
    return f" {word_and} ".join(names)


def _url(fields) -> str | None:
    if "doi" in fields:
        return f"https://doi.org/{fields['doi']}"
    if "url" in fields:
        return fields["url"]
    if "eprint" in fields:
        return f"https://arxiv.org/abs/{fields['eprint']}"
    return None


def works(word_and: str, path: Path = BIBLIOGRAPHY) -> dict[str, Work]:
    """Every entry of the bibliography, keyed by its BibTeX key."""
    from pybtex.database import parse_file

    found = {}
    for key, entry in parse_file(str(path)).entries.items():
        fields = entry.fields
        venue = fields.get("booktitle") or fields.get("journal") or fields.get("publisher", "")
        found[key] = Work(cited_names(entry, word_and), fields.get("year", ""),
                          _plain(fields.get("title", "")), _plain(venue), _url(fields))
    return found


def collect(pages: dict[str, list[str]], site: str, word_and: str) -> Links:
    """The links of a book whose pages (page -> markdown cells, in order) are given."""
    sections, equations, cited = {}, {}, []
    for page, cells in pages.items():
        text = "\n".join(cells)
        for label, title in SECTION.findall(text):
            sections[label] = (page, title)
        for number, label in enumerate(EQUATION_LABEL.findall(text), start=1):
            equations[label] = (page, number)
        for role, target in ROLE.findall(text):
            if role.startswith("cite"):
                cited += [key.strip() for key in target.split(",") if key.strip() not in cited]
    known = works(word_and)
    unknown = sorted(set(cited) - set(known))
    if unknown:
        raise KeyError(f"cited but not in {BIBLIOGRAPHY.relative_to(ROOT)}: {unknown}")
    order = sorted(cited, key=lambda k: (known[k].names.lower(), known[k].year, known[k].title))
    return Links(site, sections, equations, known, tuple(order))


@functools.cache
def english_links() -> Links:
    """The English site's links, from the chapter sources."""
    import jupytext

    from .notebooks import sources

    pages = {f"chapters/{s.stem}": [c.source for c in jupytext.read(s).cells
                                    if c.cell_type == "markdown"] for s in sources()}
    return collect(pages, site_url(), "and")


# --- the conversion ----------------------------------------------------------------------

def _citation(keys: str, textual: bool, links: Links) -> str:
    parts = []
    for key in (k.strip() for k in keys.split(",")):
        work = links.works[key]
        url = work.url or _section_url(REFERENCES_LABEL, links)
        shown = f"{work.names} ({work.year})" if textual else f"{work.names}, {work.year}"
        parts.append(f"[{shown}]({url})")
    return ", ".join(parts) if textual else f"({'; '.join(parts)})"


def _section_url(label: str, links: Links) -> str:
    if label not in links.sections:
        raise KeyError(f"no section labelled {label!r} in the chapters")
    return links.page_url(links.sections[label][0], label)


def _section(target: str, links: Links) -> str:
    title, label = (m.group(1), m.group(2)) if (m := EXPLICIT_TITLE.match(target)) \
        else (None, target)
    return f"[{title or links.sections.get(label, ('', ''))[1]}]({_section_url(label, links)})"


def _equation(label: str, page: str, links: Links) -> str:
    if label not in links.equations:
        raise KeyError(f"{{eq}}`{label}`: no equation labelled {label!r} in the chapters")
    where, number = links.equations[label]
    if where == page:
        return f"({number})"
    return f"[({number})]({links.page_url(where, 'equation-' + label)})"


def _role(match: re.Match, page: str, links: Links) -> str:
    role, target = match.groups()
    if role in ("cite:p", "cite:t"):
        return _citation(target, role == "cite:t", links)
    if role == "ref":
        return _section(target, links)
    if role == "eq":
        return _equation(target, page, links)
    raise ValueError(f"{{{role}}}`{target}`: no plain-Markdown form for this MyST role; "
                     "add one in book/learner_markdown.py")


def reference_list(links: Links) -> str:
    """The bibliography as a Markdown list: every cited work, as the site sorts them."""
    lines = []
    for key in links.cited:
        work = links.works[key]
        venue = f" *{work.venue}*." if work.venue else ""
        link = f" <{work.url}>" if work.url else ""
        lines.append(f"- {work.names}, {work.year}. {work.title}.{venue}{link}")
    return "\n".join(lines)


def _directive(match: re.Match, links: Links) -> str:
    name, body = match["name"], match["body"].rstrip("\n")
    if name == "bibliography":
        return reference_list(links)
    if name == "dropdown":
        opened = " open" if ":open:" in match["options"] else ""
        return f"<details{opened}><summary>{match['arg'].strip()}</summary>\n\n{body}\n\n</details>"
    raise ValueError(f"```{{{name}}}: no plain-Markdown form for this MyST directive; "
                     "add one in book/learner_markdown.py")


def _tag_equations(text: str, page: str, links: Links) -> str:
    def tag(match: re.Match) -> str:
        _, number = links.equations[match.group(1)]
        return f"\\tag{{{number}}}\n$$"

    return EQUATION_LABEL.sub(tag, text)


def convert(markdown: str, page: str, links: Links) -> str:
    """``markdown`` (a cell of ``page``, e.g. chapters/batch_norm) without MyST-only markup."""
    text = DIRECTIVE.sub(lambda m: _directive(m, links), markdown)
    text = _tag_equations(LABEL_LINE.sub("", text), page, links)
    folder = page.rsplit("/", 1)[0]  # pages link to each other from chapters/
    text = PAGE_LINK.sub(lambda m: f"]({links.site}{folder}/{m[1]}.html{m[2] or ''})", text)
    return ROLE.sub(lambda m: _role(m, page, links), text)


# What the test of the learner notebooks looks for: anything MyST-only left.
MYST_ONLY = re.compile(r"\{[\w:-]+\}`|^\([\w-]+\)=[ \t]*$|\$\$[ \t]*\([\w-]+\)[ \t]*$|"
                       r"^(?:`{3,}|:{3,})\{[\w-]+\}|" + PAGE_LINK.pattern, re.MULTILINE)


def myst_only(markdown: str) -> list[str]:
    """The MyST-only constructs left in ``markdown`` (each with its line)."""
    return [markdown[markdown.rfind("\n", 0, m.start()) + 1:].split("\n", 1)[0]
            for m in MYST_ONLY.finditer(markdown)]
