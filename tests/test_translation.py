"""The Portuguese edition cannot silently go stale, and says what the English says.

The catalogs in ``locales/pt_BR/LC_MESSAGES`` must translate every message of the
current English text (a gettext extraction into a temporary folder, compared with the
committed catalogs): a new or changed English sentence, or a fuzzy entry, fails here.
The translations keep every number, role, link, code span and formula of their English;
the glossary's terms are used; and the Portuguese notebooks are the English ones with
only their markdown translated.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter

import nbformat
import pytest

from book import CHAPTERS, ROOT
from book import translation as tr
from book.files import NUMBER, ROLE, english_grouping
from book.markdown_blocks import blocks, replace_blocks
from d2l_bn import FRAMEWORKS

# --- the block splitter the notebooks are translated with --------------------------------

SAMPLE = """(sec-x)=
# A title

A paragraph that runs
over two lines, with $x$ and `code`.

- first item,
  continued
- second item

| head one | head two |
|---|---|
| cell | 0.5 |

$$
y = \\gamma x + \\beta
$$ (eq-y)

````{dropdown} Explanation
:open:
Inside the dropdown.
````

```python
print("code stays")
```
"""


def test_blocks_are_the_messages_sphinx_extracts():
    texts = [block.text for block in blocks(SAMPLE)]
    assert texts == ["A title", "A paragraph that runs over two lines, with $x$ and `code`.",
                     "first item, continued", "second item", "head one", "head two", "cell",
                     "0.5", "Explanation", "Inside the dropdown."]


def test_replacing_blocks_keeps_structure_code_and_math():
    out = replace_blocks(SAMPLE, lambda text: f"<{text}>")
    assert "(sec-x)=\n# <A title>\n" in out
    assert "- <first item, continued>\n- <second item>\n" in out
    assert "| <head one> | <head two> |\n|---|---|\n| <cell> | <0.5> |" in out
    assert "$$\ny = \\gamma x + \\beta\n$$ (eq-y)" in out
    assert "````{dropdown} <Explanation>\n:open:\n<Inside the dropdown.>\n````" in out
    assert '```python\nprint("code stays")\n```' in out


# --- every English message has a current translation -------------------------------------

@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """The English text's messages now, extracted as `extract` does (not written back)."""
    return tr.templates(tmp_path_factory.mktemp("gettext"))


def test_every_english_message_has_a_current_translation(templates):
    assert tr.stale(templates) == {}, "run `python -m book.translation extract` and " \
        "translate the new or changed messages (CONTRIBUTING.md: Translations)"
    report = tr.status()
    missing = {name: ids[:3] for name, (_, _, ids) in report.items() if ids}
    assert missing == {}, "untranslated or fuzzy entries in the catalogs"
    assert set(report) == {"chapters/batch_norm.po", "chapters/exercises.po",
                           "chapters/index.po", "chapters/performance.po", "notebooks.po",
                           "site.po", "sphinx.po"}


def test_a_changed_english_sentence_or_a_fuzzy_entry_is_caught(templates, tmp_path):
    pots, messages = tmp_path / "pot", tmp_path / "messages"
    shutil.copytree(templates, pots)
    shutil.copytree(tr.MESSAGES, messages)
    pot = pots / "chapters" / "index.pot"
    english = pot.read_text()
    assert 'msgid "About this course"' in english
    pot.write_text(english.replace('msgid "About this course"', 'msgid "About the course"'))
    assert tr.stale(pots, messages) == {"chapters/index": ["About the course"]}

    pot.write_text(english)
    po = messages / "chapters" / "index.po"
    po.write_text(po.read_text().replace('msgid "About this course"',
                                         '#, fuzzy\nmsgid "About this course"'))
    assert tr.stale(pots, messages) == {"chapters/index": ["About this course"]}


# --- what the translations keep ------------------------------------------------------------

MARKUP = {"link target": re.compile(r"\]\([^)]*\)"), "inline math": re.compile(r"\$[^$]+\$"),
          "code": re.compile(r"`[^`]+`")}


def translated_messages():
    for po in sorted(tr.MESSAGES.rglob("*.po")):
        for message in tr.load(po):
            if message.id and message.string:
                yield po.relative_to(tr.MESSAGES).as_posix(), message.id, message.string


def test_translations_keep_numbers_and_markup():
    problems = []
    for name, english, portuguese in translated_messages():
        lost = (Counter(NUMBER.findall(english))  # 60 000 counts as 60,000
                - Counter(NUMBER.findall(english_grouping(portuguese))))
        if lost:
            problems.append(f"{name}: numbers {sorted(lost)} lost in {portuguese[:60]!r}")
        if Counter(ROLE.findall(english)) != Counter(ROLE.findall(portuguese)):
            problems.append(f"{name}: roles differ in {portuguese[:60]!r}")
        for what, pattern in MARKUP.items():  # outside roles
            found = [Counter(pattern.findall(ROLE.sub(" ", text))) for text in (english, portuguese)]
            if found[0] != found[1]:
                problems.append(f"{name}: {what} differs in {portuguese[:60]!r}")
    assert problems == []


GLOSSARY_TERMS = ["normalização em lote", "minilote", "taxa de aprendizado", "média móvel",
                  "modo de treinamento", "modo de predição", "camada nativa", "do zero"]
# Variants the glossary rules out, so that one term is used throughout.
# ("modo de inferência" is fine where the English says Keras's "inference mode".)
NOT_USED = ["normalização de lote", "normalização por lote", "mini-lote", "taxa de aprendizagem",
            "modo de previsão", "modo de treino "]


def test_glossary_terms_are_used_consistently():
    glossary = (tr.LOCALES / tr.LANGUAGE / "GLOSSARY.md").read_text()
    text = " ".join(portuguese.lower() for _, _, portuguese in translated_messages())
    for term in GLOSSARY_TERMS:
        assert term in glossary, term
        assert term in text, f"glossary term {term!r} never used"
    assert [variant for variant in NOT_USED if variant in text] == []


# --- the Portuguese notebooks ---------------------------------------------------------------

@pytest.mark.parametrize("page", tr.PAGES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_portuguese_notebook_is_the_english_one_with_translated_markdown(page, framework):
    english = nbformat.read(CHAPTERS / framework / f"{page}.ipynb", as_version=4)
    path = tr.notebook_path(page, framework)
    portuguese = nbformat.read(path, as_version=4)
    assert nbformat.writes(portuguese) == nbformat.writes(tr.translate_notebook(page, framework)), \
        f"{path.relative_to(ROOT)} out of sync: python -m book.translation notebooks"
    assert [c.id for c in portuguese.cells] == [c.id for c in english.cells]
    assert portuguese.metadata.kernelspec == english.metadata.kernelspec
    assert portuguese.metadata.d2l_bn["language"] == tr.LANGUAGE
    for en, pt in zip(english.cells, portuguese.cells):
        assert en.cell_type == pt.cell_type
        if en.cell_type == "code":
            assert (pt.source, pt.outputs, pt.metadata) == (en.source, en.outputs, en.metadata)
        elif blocks(en.source):
            assert pt.source != en.source, f"cell {en.id} not translated"
    first = next(c.source for c in portuguese.cells if c.cell_type == "markdown")
    assert "Normalização em lote" in first
