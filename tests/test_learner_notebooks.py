"""Every notebook a learner gets opens and renders anywhere: the standard ``python3``
kernel, and no MyST-only markup (``book.learner_markdown``), in both languages, regular
and single-file; the site page keeps its MyST markup.
"""

from __future__ import annotations

import nbformat
import pytest

from book import CHAPTERS, ROOT, single_file
from book.learner_markdown import Links, Work, collect, convert, english_links, myst_only
from book.notebooks import KERNELSPEC, merged_path, sources
from d2l_bn import FRAMEWORKS

LEARNER_NOTEBOOKS = [path for s in sources() for lang in single_file.LANGUAGES
                     for fw in FRAMEWORKS
                     for path in (single_file.notebook_path(s, fw, lang),
                                  single_file.committed_path(s, fw, lang))]


@pytest.mark.parametrize("path", LEARNER_NOTEBOOKS,
                         ids=lambda p: p.relative_to(CHAPTERS).as_posix())
def test_learner_notebook_names_the_standard_kernel_and_has_no_myst(path):
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata["kernelspec"] == KERNELSPEC
    assert notebook.metadata["d2l_bn"]["framework"] in FRAMEWORKS  # what the tooling runs
    left = {cell.id: found for cell in notebook.cells if cell.cell_type == "markdown"
            if (found := myst_only(cell.source))}
    assert left == {}, f"MyST-only markup in {path.relative_to(ROOT)}"


@pytest.mark.parametrize("source", sources(), ids=lambda s: s.stem)
def test_site_page_keeps_the_myst_markup(source):
    page = nbformat.read(merged_path(source), as_version=4)
    markdown = "\n".join(c.source for c in page.cells if c.cell_type == "markdown")
    assert myst_only(markdown), "the page lost its labels and roles"


# --- the conversion, on examples ---------------------------------------------------------

LINKS = Links(
    site="https://example.org/book/",
    sections={"sec-a": ("chapters/one", "Section A"), "sec-refs": ("chapters/one", "Refs")},
    equations={"eq-a": ("chapters/one", 1), "eq-b": ("chapters/two", 1)},
    works={"A.2015": Work("Ab and Cd", "2015", "A title", "A venue", "https://doi.org/x"),
           "B.1999": Work("Ef et al.", "1999", "B title", "", None)},
    cited=("A.2015", "B.1999"))


@pytest.mark.parametrize(("myst", "plain"), [
    ("(sec-a)=\n# Section A\n\nText.", "# Section A\n\nText."),
    ("Shown {cite:p}`A.2015`.", "Shown ([Ab and Cd, 2015](https://doi.org/x))."),
    ("{cite:p}`A.2015,B.1999`", "([Ab and Cd, 2015](https://doi.org/x); "
                                "[Ef et al., 1999](https://example.org/book/chapters/one.html"
                                "#sec-bn-references))"),
    ("{cite:t}`A.2015` showed", "[Ab and Cd (2015)](https://doi.org/x) showed"),
    ("See {ref}`sec-a`.", "See [Section A](https://example.org/book/chapters/one.html#sec-a)."),
    ("See {ref}`there <sec-a>`.", "See [there](https://example.org/book/chapters/one.html#sec-a)."),
    ("$$\nx = 1\n$$ (eq-a)\n\nBy {eq}`eq-a`.", "$$\nx = 1\n\\tag{1}\n$$\n\nBy (1)."),
    ("As {eq}`eq-b`.", "As [(1)](https://example.org/book/chapters/two.html#equation-eq-b)."),
    ("````{dropdown} Why\n:open:\nBecause.\n````", "<details open><summary>Why</summary>\n\n"
                                                 "Because.\n\n</details>"),
    ("```{bibliography}\n```", "- Ab and Cd, 2015. A title. *A venue*. <https://doi.org/x>\n"
                               "- Ef et al., 1999. B title."),
    ("See [Speed](two.md#sec-b) and [Two](two.md).",
     "See [Speed](https://example.org/book/chapters/two.html#sec-b) and "
     "[Two](https://example.org/book/chapters/two.html)."),
])
def test_conversion(myst, plain):
    links = Links(LINKS.site, {**LINKS.sections, "sec-bn-references": ("chapters/one", "R")},
                  LINKS.equations, LINKS.works, LINKS.cited)
    assert convert(myst, "chapters/one", links) == plain
    assert myst_only(plain) == []


@pytest.mark.parametrize("myst", ["{numref}`fig-x`", "```{note}\nA note.\n```",
                                  "{ref}`no-such-label`"])
def test_markup_without_a_plain_form_is_an_error_naming_it(myst):
    with pytest.raises((ValueError, KeyError), match=r"no-such-label|numref|note"):
        convert(myst, "chapters/one", LINKS)


def test_links_are_the_sites():
    """Titles, equation numbers in page order, and the works, read from the sources."""
    links = english_links()
    assert links.site.startswith("https://") and links.site.endswith("/")
    assert links.sections["sec-bn-method"] == ("chapters/batch_norm", "The Method")
    assert links.equations["eq-bn"] == ("chapters/batch_norm", 1)
    assert links.works["Ioffe.Szegedy.2015"].names == "Ioffe and Szegedy"
    assert links.works["Friedman.1987"].url.startswith("https://doi.org/")
    portuguese = collect({"chapters/x": ["(s)=\n## Título\n\n{cite:p}`Ioffe.Szegedy.2015`"]},
                         "https://x/pt/", "e")
    assert portuguese.sections == {"s": ("chapters/x", "Título")}
    assert portuguese.works["Ioffe.Szegedy.2015"].names == "Ioffe e Szegedy"
