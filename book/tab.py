"""Run the multi-framework source notebook (``chapters/*.md``) for one framework.

For maintainers only: learners open the per-framework notebooks, which have no tab
machinery. In the source notebook every framework-specific code cell starts with a cell
magic::

    %%tab pytorch
    import torch

After ``tab.select("pytorch")`` (or with ``D2L_BN_FRAMEWORK=pytorch`` in the environment
and ``tab.select()``), cells for the chosen framework run and the others are skipped
with a one-line note.
"""

from __future__ import annotations

import os

from d2l_bn import FRAMEWORKS

FRAMEWORK_ENV = "D2L_BN_FRAMEWORK"
DEFAULT = "pytorch"
_selected: str | None = None


def _check(framework: str) -> str:
    if framework not in FRAMEWORKS:
        raise ValueError(f"Unknown framework {framework!r}; choose one of {', '.join(FRAMEWORKS)}.")
    return framework


def selected(*frameworks: str) -> bool | str:
    """With arguments: is the chosen framework among them? Without: the chosen name."""
    current = _selected or _check(os.environ.get(FRAMEWORK_ENV, DEFAULT))
    if not frameworks:
        return current
    return current in {_check(f) for f in frameworks}


def run_in_shell(shell, cell: str) -> None:
    """Run ``cell`` in the notebook's namespace as if it were a cell of its own.

    IPython syntax (``%pip``, ``!ls``) is translated first, and the value of a last
    expression is displayed. Unlike ``shell.run_cell``, which reports an exception and
    returns, an exception propagates: the ``%%tab`` cell fails, so "Run All" stops there.
    """
    import ast

    tree = ast.parse(shell.transform_cell(cell), filename="<%%tab cell>")
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<%%tab cell>", "exec"), shell.user_ns)  # noqa: S102 (the user's cell)
    if last is not None:
        value = eval(compile(ast.Expression(last.value), "<%%tab cell>", "eval"),  # noqa: S307
                     shell.user_ns)
        shell.displayhook(value)


def _tab_magic(line: str, cell: str) -> None:
    wanted = line.split()
    if not wanted:
        raise ValueError("%%tab needs framework names, e.g. `%%tab pytorch`.")
    if selected(*wanted):
        from IPython import get_ipython

        run_in_shell(get_ipython(), cell)
    else:
        print(f"(skipped: a {'/'.join(wanted)} cell; this notebook runs {selected()})")


def select(framework: str | None = None) -> str:
    """Choose the framework (default: ``$D2L_BN_FRAMEWORK`` or pytorch) and enable ``%%tab``."""
    global _selected
    _selected = _check(framework or os.environ.get(FRAMEWORK_ENV, DEFAULT))
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.register_magic_function(_tab_magic, magic_kind="cell", magic_name="tab")
    others = ", ".join(f for f in FRAMEWORKS if f != _selected)
    print(f"Running the {_selected} cells; cells for {others} are skipped.")
    return _selected

