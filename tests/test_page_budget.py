"""The chapter stays readable: a word budget for its prose, a width limit for its code.

Prose words are counted in the markdown of the source, ``chapters/<page>.md``, without
code cells, display math, labels, directives and link targets; an inline formula, a
citation or a cross-reference counts as one word. Code lines are limited so that a cell
needs no horizontal scrolling on a laptop (80 characters fit the page's code column).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROSE_BUDGET = {"batch_norm": 4500, "exercises": 4500}
CODE_WIDTH = 80
CODE_CELL = re.compile(r"^```\{code-cell\}.*?^```$", re.S | re.M)


def source(page: str) -> str:
    text = (ROOT / "chapters" / f"{page}.md").read_text()
    return text.split("---", 2)[2]  # without the jupytext front matter


def prose_words(text: str) -> int:
    """Words a reader reads in the markdown of ``text`` (see the module docstring)."""
    text = CODE_CELL.sub(" ", text)
    text = re.sub(r"```\{bibliography\}\s*```", " ", text)
    text = re.sub(r"\$\$.*?\$\$(\s*\(eq-[\w-]+\))?", " ", text, flags=re.S)
    text = re.sub(r"\$[^$]+\$", " X ", text)  # an inline formula: one word
    text = re.sub(r"\{(cite:[pt]|ref|eq)\}`[^`]*`", " X ", text)
    text = re.sub(r"^\(sec-[\w-]+\)=$|^\+\+\+.*$", " ", text, flags=re.M)
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
    return len(re.findall(r"[A-Za-z0-9][\w'’.,/-]*", text))


def code_lines(text: str) -> list[str]:
    return [line for cell in CODE_CELL.findall(text) for line in cell.splitlines()[1:-1]
            if not line.startswith(":")]  # cell options (":alt:") are not code


def test_prose_words_are_counted_as_a_reader_reads_them():
    sample = ("(sec-x)=\n## Two words\n\nThe scale $\\gamma$ is learned {cite:p}`A.2015`.\n"
              "$$\na + b\n$$ (eq-a)\n\n```{code-cell} ipython3\nx = 1\n```\n"
              "See [the page](https://example.org/a-b-c).\n")
    assert prose_words(sample) == 2 + 6 + 3


@pytest.mark.parametrize("page", sorted(PROSE_BUDGET))
def test_prose_within_budget(page):
    words = prose_words(source(page))
    assert words <= PROSE_BUDGET[page], (
        f"chapters/{page}.md has {words:,} words of prose, over its budget of "
        f"{PROSE_BUDGET[page]:,}: cut, or move material to the exercises.")


@pytest.mark.parametrize("page", sorted(PROSE_BUDGET))
def test_code_lines_fit_the_page(page):
    long = [line for line in code_lines(source(page)) if len(line) > CODE_WIDTH]
    assert not long, (f"{len(long)} code lines of chapters/{page}.md are longer than "
                      f"{CODE_WIDTH} characters, e.g.\n" + "\n".join(long[:5]))
