"""The %%tab magic of the source notebooks: selection, skipping, errors that propagate."""

from __future__ import annotations

import pytest
from IPython import get_ipython
from IPython.testing.globalipapp import start_ipython

from d2l_bn import tab


@pytest.fixture
def shell(monkeypatch):
    monkeypatch.setattr(tab, "_selected", None)
    ip = start_ipython() or get_ipython()  # the first call starts it, later ones return None
    tab.select("tensorflow")
    return ip


def run(shell, code: str):
    return shell.run_cell(code, store_history=False)


def test_selected_cells_run_and_others_are_skipped(shell, capsys):
    assert run(shell, "%%tab tensorflow\nanswer = 6 * 7").success
    assert shell.user_ns["answer"] == 42
    assert run(shell, "%%tab mxnet pytorch\nanswer = 0").success
    assert shell.user_ns["answer"] == 42
    assert "skipped: a mxnet/pytorch cell; this notebook runs tensorflow" in \
        capsys.readouterr().out


def test_last_expression_is_displayed(shell, capsys):
    run(shell, "%%tab tensorflow\n1 + 1")
    assert "2" in capsys.readouterr().out


def test_an_error_in_a_tab_cell_fails_the_cell(shell):
    result = run(shell, "%%tab tensorflow\nx = 1\nraise KeyError('boom')")
    assert not result.success and isinstance(result.error_in_exec, KeyError)
    assert shell.user_ns["x"] == 1


def test_unknown_framework_is_refused(shell):
    result = run(shell, "%%tab caffe\nx = 1")
    assert not result.success and "Unknown framework 'caffe'" in str(result.error_in_exec)
