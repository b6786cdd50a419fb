"""The %%tab magic of the source notebooks (book/tab.py): selection, skipping, the value
of a last expression, errors that propagate."""

from __future__ import annotations

import re

import pytest
from IPython import get_ipython
from IPython.testing.globalipapp import start_ipython

from book import tab


@pytest.fixture
def shell(monkeypatch):
    monkeypatch.setattr(tab, "_selected", None)
    ip = start_ipython() or get_ipython()  # the first call starts it, later ones return None
    tab.select("tensorflow")
    return ip


def run(shell, code: str):
    return shell.run_cell(code, store_history=False)


def test_selected_cells_run_and_others_are_skipped(shell, capsys):
    capsys.readouterr()  # select()'s own line
    assert run(shell, "%%tab tensorflow\nanswer = 6 * 7").success
    assert shell.user_ns["answer"] == 42
    assert run(shell, "%%tab mxnet pytorch\nanswer = 0").success
    assert shell.user_ns["answer"] == 42
    assert capsys.readouterr().out == (
        "(skipped: a mxnet/pytorch cell; this notebook runs tensorflow)\n")


def test_last_expression_is_displayed_once_as_its_value(shell, capsys):
    capsys.readouterr()
    result = run(shell, "%%tab tensorflow\nx = 40\nx + 2")
    # Through IPython's display hook, as a cell's value: the cell's result, `_`, and
    # one Out line (a print would set neither).
    assert result.success and result.result == 42 and shell.user_ns["_"] == 42
    assert re.fullmatch(r"Out\[\d+\]: 42\n", capsys.readouterr().out)
    assert run(shell, "%%tab tensorflow\ny = 1").success
    assert capsys.readouterr().out == ""  # no expression last: nothing shown


def test_an_error_in_a_tab_cell_fails_the_cell(shell):
    result = run(shell, "%%tab tensorflow\nx = 1\nraise KeyError('boom')")
    assert not result.success and isinstance(result.error_in_exec, KeyError)
    assert shell.user_ns["x"] == 1


def test_unknown_framework_is_refused(shell):
    result = run(shell, "%%tab caffe\nx = 1")
    assert not result.success and "Unknown framework 'caffe'" in str(result.error_in_exec)


def test_select_reads_the_environment_and_names_the_skipped(monkeypatch, capsys):
    monkeypatch.setattr(tab, "_selected", None)
    monkeypatch.setenv(tab.FRAMEWORK_ENV, "jax")
    assert tab.select() == "jax" and tab.selected() == "jax"
    assert tab.selected("jax", "mxnet") is True and tab.selected("pytorch") is False
    assert capsys.readouterr().out == (
        "Running the jax cells; cells for mxnet, pytorch, tensorflow are skipped.\n")
