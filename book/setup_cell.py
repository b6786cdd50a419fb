"""The first code cell of every per-framework notebook: is the course package there?

``python -m book split`` writes this cell (tag ``package-check``) in place of the
source's ``tab-setup`` cell. It installs nothing: where ``d2l_bn`` and the framework
import, it does nothing; where either is missing (a fresh Colab runtime, a Jupyter
without the course's environment), it stops "Run all" with one error that says how to
get them: ``pip install ".[<extra>]"`` in a checkout of the repository, or the
single-file edition of the same notebook, which carries ``d2l_bn`` and needs only the
framework, numpy and matplotlib (and is what the site's Colab links open). The
single-file edition replaces this cell by its embedded package (``book.single_file``).

The cell is plain Python (no magics), so a test can run it in an environment without
the package.
"""

from __future__ import annotations

from d2l_bn import BACKEND_MODULES, LABELS

TAG = "package-check"

CELL = '''\
# This notebook imports d2l_bn, the course's helper package, and {label}. If
# either is missing, this cell stops and says what to install (it installs
# nothing itself).
import importlib.util

_missing = [m for m in ("d2l_bn", "{module}")
            if importlib.util.find_spec(m) is None]
if _missing:
    raise ModuleNotFoundError(
        f"This notebook needs {{' and '.join(_missing)}}. In a checkout of "
{repository}
        ', run `pip install ".[{extra}]" jupyter`, restart the kernel. Or '
        "open the single-file edition of this notebook, which carries d2l_bn "
        "and needs only {label}, numpy and matplotlib: "
{single_file})
del _missing'''
INDENT = " " * 8  # the message's string literals, inside raise ...(


def _literal_lines(url: str, width: int = 60) -> str:
    """``url`` as adjacent string literals of at most ``width`` characters, split after
    a "/", one a line: code cells stay within 80 characters."""
    parts, line = [], ""
    for piece in url.split("/"):
        piece = piece if not line and not parts else "/" + piece
        if line and len(line) + len(piece) > width:
            parts.append(line)
            line = piece
        else:
            line += piece
    parts.append(line)
    return "\n".join(f"{INDENT}{part!r}" for part in parts)


def setup_cell(framework: str, repository: str, single_file: str) -> str:
    """The cell for ``framework``; ``single_file``: the URL of its single-file edition.

    The framework's module (``torch``) is also the name of its pip extra (pyproject.toml).
    """
    module = BACKEND_MODULES[framework]
    return CELL.format(label=LABELS[framework], module=module, extra=module,
                       repository=_literal_lines(repository),
                       single_file=_literal_lines(single_file))
