"""The book tooling meets a damaged notebook or catalog with one clear error, not a traceback.

Fault injection, always on copies: a generated notebook cut short, mangled or invalid, and
a message catalog with a malformed entry or a translation that lost its English's markup.
Each must stop the tooling with a ``BookError`` naming the file (and line), what was wrong
and what to do, and the command lines must print it and exit with status 1.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from book import CHAPTERS, ROOT, files
from book import translation as tr
from book.files import BookError, check_catalogs, read_catalog, read_notebook
from d2l_bn import FRAMEWORKS

# --- notebooks ----------------------------------------------------------------------------

NOTEBOOK = CHAPTERS / "pytorch" / "batch_norm.ipynb"
HEADER = '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, '


def cut_short(text: str) -> str:
    return text[: len(text) // 2]


# fault -> (damaged text from the committed text, words the error must have)
NOTEBOOK_FAULTS = {
    "cut short": (cut_short, ["not valid JSON", "cut short", "line "]),
    "merge conflict": (lambda text: "<<<<<<< HEAD\n" + text, ["line 1, column 1"]),
    "a JSON list": (lambda text: "[]", ["not a Jupyter notebook of format 4", "JSON list"]),
    "format 3": (lambda text: '{"nbformat": 3}', ["found nbformat 3"]),
    "no cells": (lambda text: HEADER[:-2] + "}", ["found no list of cells"]),
    "a cell without metadata": (
        lambda text: HEADER + '"cells": [{"cell_type": "markdown", "id": "a", "source": ""}]}',
        ["not a valid notebook", "cells/0", "'metadata' is a required property"]),
}


@pytest.fixture
def chapters(tmp_path, monkeypatch):
    """A chapters folder of our own, where the remedy is the one for the real folder."""
    folder = tmp_path / "chapters"
    (folder / "pytorch").mkdir(parents=True)
    monkeypatch.setattr(files, "CHAPTERS", folder)
    return folder


@pytest.mark.parametrize("path", [NOTEBOOK, CHAPTERS / "batch_norm.ipynb",
                                  CHAPTERS / "pt_BR" / "pytorch" / "batch_norm.ipynb"],
                         ids=["per-framework", "page", "Portuguese"])
def test_a_good_notebook_reads_as_nbformat_reads_it(path):
    assert read_notebook(path) == nbformat.read(path, as_version=4)


@pytest.mark.parametrize("fault", NOTEBOOK_FAULTS)
def test_a_damaged_notebook_is_one_error_naming_file_and_remedy(fault, chapters):
    damage, words = NOTEBOOK_FAULTS[fault]
    path = chapters / "pytorch" / "batch_norm.ipynb"
    path.write_text(damage(NOTEBOOK.read_text()))
    with pytest.raises(BookError) as err:
        read_notebook(path)
    message = str(err.value)
    assert message.startswith(str(path)), message
    for word in [*words, "git restore", "python -m book split", "python -m book execute pytorch"]:
        assert word in message, f"{word!r} not in {message!r}"


def test_a_missing_or_unreadable_notebook_is_one_error(chapters):
    path = chapters / "pytorch" / "batch_norm.ipynb"
    with pytest.raises(BookError, match="batch_norm.ipynb is missing. Restore"):
        read_notebook(path)
    path.write_bytes(b"\xff\xfe not text")
    with pytest.raises(BookError, match="cannot be read as UTF-8 text"):
        read_notebook(path)


@pytest.mark.parametrize(("where", "remedy"), [
    ("batch_norm.ipynb", "`python -m book merge`"),
    ("pt_BR/jax/batch_norm.ipynb", "`python -m book.translation notebooks`"),
    ("mxnet/exercises.ipynb", "`python -m book execute mxnet`"),
])
def test_the_remedy_fits_the_kind_of_notebook(where, remedy):
    assert remedy in files.notebook_remedy(CHAPTERS / where)


@pytest.fixture
def tree(tmp_path):
    """A copy of what ``python -m book`` reads (the tooling, the config, the chapters)."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "book", copy / "book",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "_config.yml", copy)
    for path in [*(p for p in CHAPTERS.iterdir() if p.is_file()),
                 *(p for fw in FRAMEWORKS for p in (CHAPTERS / fw).glob("*.ipynb"))]:
        target = copy / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return copy


@pytest.mark.parametrize("command", ["merge", "check", "split"])
def test_book_commands_stop_on_a_cut_short_notebook_with_status_1(command, tree):
    damaged = Path("chapters") / FRAMEWORKS[0] / "batch_norm.ipynb"  # the first one read
    (tree / damaged).write_text(cut_short((tree / damaged).read_text()))
    run = subprocess.run([sys.executable, "-m", "book", command, "--source", "batch_norm"],
                         cwd=tree, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    assert run.stderr.startswith(f"error: {damaged}, line "), run.stderr
    assert "python -m book split" in run.stderr and run.stderr.count("\n") == 1


# --- message catalogs ---------------------------------------------------------------------

# A small catalog in the shape of ours (line numbers matter below).
CATALOG = r'''msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\n"

msgid "About this course"
msgstr "Sobre este curso"

#, python-brace-format
msgid ""
"{doc}`batch_norm`: the chapter, with $\\gamma$, `code` "
"and [a link](https://d2l.ai/), in 2 lines."
msgstr ""
"{doc}`batch_norm`: o capítulo, com $\\gamma$, `code` "
"e [um link](https://d2l.ai/), em 2 linhas."

#, python-brace-format
msgid "Download the {label} notebook"
msgstr "Baixar o notebook {label}"
'''

# fault -> (text replaced, replacement, line of the error, words the error must have)
MALFORMED = {
    "closing quote missing": ('msgstr "Sobre este curso"', 'msgstr "Sobre este curso',
                              6, "is not a PO line"),
    "continued line unquoted": ('"e [um link]', "e [um link]", 14, "is not a PO line"),
    "keyword misspelled": ('msgstr "Sobre', 'msgtsr "Sobre', 6, "is not a PO line"),
    "quote not escaped": ('"Sobre este curso"', '"Sobre "este" curso"', 6, "is not a PO line"),
    "msgstr missing": ('msgstr "Sobre este curso"\n', "", 5, "missing msgstr"),
    "entry twice": ('"Baixar o notebook {label}"\n',
                    '"Baixar o notebook {label}"\n\nmsgid "About this course"\nmsgstr "Outro"\n',
                    20, "a second entry for the message of line 5"),
}
# fault -> (text replaced, replacement, line of the entry, what the error says is lost)
UNFAITHFUL = {
    "role dropped": ('"{doc}`batch_norm`: o', '"batch_norm: o', 9, "role '{doc}`batch_norm`'"),
    "number dropped": ("em 2 linhas", "em duas linhas", 9, "number 2 missing"),
    "placeholder renamed": ("notebook {label}", "notebook {rotulo}", 17, "placeholder '{label}'"),
    "link changed": ("(https://d2l.ai/), em", "(https://d2l.ai/pt/), em", 9, "link target"),
    "math changed": (r"com $\\gamma$", r"com $\\beta$", 9, r"inline math '$\\gamma$'"),
    "code translated": ("`code` \"\n\"e", "`código` \"\n\"e", 9, "code span '`code`'"),
}


def write_catalog(folder: Path, old: str = "", new: str = "") -> Path:
    assert old in CATALOG
    path = folder / "index.po"
    path.write_text(CATALOG.replace(old, new, 1))
    return path


def test_the_committed_catalogs_read_strictly_as_babel_reads_them():
    check_catalogs(tr.MESSAGES)
    from babel.messages.pofile import read_po

    for po in sorted(tr.MESSAGES.rglob("*.po")):
        with open(po, "rb") as f:
            lenient = {m.id: m.string for m in read_po(f)}
        assert {m.id: m.string for m in read_catalog(po)} == lenient, po


def test_the_sample_catalog_is_well_formed(tmp_path):
    catalog = read_catalog(write_catalog(tmp_path))
    assert catalog.get("About this course").string == "Sobre este curso"


def catalog_error(faults: dict, fault: str, folder: Path) -> tuple[Path, int, str, str]:
    """(catalog, expected line, expected words, error) for the sample with ``fault`` done."""
    old, new, line, words = faults[fault]
    path = write_catalog(folder, old, new)
    with pytest.raises(BookError) as err:
        read_catalog(path)
    return path, line, words, str(err.value)


@pytest.mark.parametrize("fault", MALFORMED)
def test_a_malformed_entry_is_one_error_naming_line_and_remedy(fault, tmp_path):
    path, line, words, message = catalog_error(MALFORMED, fault, tmp_path)
    assert message.startswith(f"{path}, line {line}: "), message
    assert words in message
    assert f"Fix the entry at line {line} of {path}" in message
    assert "`python -m book.translation extract`" in message


@pytest.mark.parametrize("fault", UNFAITHFUL)
def test_a_translation_that_loses_markup_is_one_error_naming_the_entry(fault, tmp_path):
    path, line, words, message = catalog_error(UNFAITHFUL, fault, tmp_path)
    assert f"\n  line {line}: {words}" in message, message
    assert message.startswith(f"{path}: ") and "translation problem(s)" in message
    assert "keep every role, link target, inline math" in message


def test_a_fuzzy_entry_may_differ_until_it_is_translated_again(tmp_path):
    old, new, _, _ = UNFAITHFUL["placeholder renamed"]
    text = CATALOG.replace(old, new).replace(
        '#, python-brace-format\nmsgid "Download', '#, fuzzy, python-brace-format\nmsgid "Download')
    (tmp_path / "index.po").write_text(text)
    assert read_catalog(tmp_path / "index.po").get("Download the {label} notebook").fuzzy


BROKEN_ENTRY = '\nmsgid "A broken entry"\nmsgstr "Uma entrada quebrada\n'
LOSSY_ENTRY = '\nmsgid "Batch size 256"\nmsgstr "Tamanho do lote"\n'


@pytest.mark.parametrize(("command", "entry", "words"), [
    ("check", BROKEN_ENTRY, "is not a PO line"),
    ("check", LOSSY_ENTRY, "number 256 missing"),
    ("status", BROKEN_ENTRY, "is not a PO line"),
    ("extract", BROKEN_ENTRY, "is not a PO line"),
])
def test_translation_commands_stop_on_a_broken_catalog_with_status_1(
        command, entry, words, tmp_path, monkeypatch, capsys):
    messages = tmp_path / "messages"
    shutil.copytree(tr.MESSAGES, messages, ignore=shutil.ignore_patterns("*.mo"))
    site = messages / f"{tr.SITE_CATALOG}.po"
    site.write_text(site.read_text() + entry)
    before = site.read_text()
    monkeypatch.setattr(tr, "MESSAGES", messages)

    def no_build(*args, **kwargs):
        raise AssertionError("a broken catalog must stop the command before the gettext build")

    monkeypatch.setattr(tr, "templates", no_build)
    assert tr.main([command]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {site}"), err
    assert words in err and "Traceback" not in err
    assert site.read_text() == before, "the broken catalog was rewritten"


def test_words_inside_text_of_math_are_translated_not_placeholders():
    from book.files import lost_in_translation

    english = "\n\\quad \\text{where} \\quad x \\quad \\text{and} \\quad y\n"
    assert lost_in_translation(english, english.replace("where", "onde")
                               .replace("and", "e")) == []
    assert lost_in_translation("notebook {label}", "notebook {rotulo}")


def test_portuguese_thousands_keep_the_english_number():
    from book.files import lost_in_translation

    english = "the 60,000 training images, 1,804,800 examples, 0.738 accuracy"
    assert lost_in_translation(english, "as 60\u00a0000 imagens, 1\u00a0804\u00a0800 "
                                        "exemplos, acurácia 0.738") == []
    assert lost_in_translation(english, "as 60000 imagens, 1\u00a0804\u00a0800 exemplos, "
                                        "acurácia 0.738") == ["number 60,000 missing"]
    assert lost_in_translation("a batch of 32 and 256", "um lote de 32 e 256") == []
