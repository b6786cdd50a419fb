"""The package check, the first code cell of every per-framework notebook.

It installs nothing (an install from a release that does not exist is how the Colab
cell it replaced failed): where d2l_bn and the framework import, it is silent; where
one is missing, it stops "Run all" with what to install and where the single-file
edition is, an edition that is committed in the repository.
"""

from __future__ import annotations

import subprocess

import clean_envs
import nbformat
import pytest

from book import ROOT, environments, single_file
from book.notebooks import package_check, repository, sources, target
from book.setup_cell import TAG
from d2l_bn import FRAMEWORKS

NOTEBOOKS = [(s, fw) for s in sources() for fw in FRAMEWORKS]


def run(python, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=clean_envs.cache_root(),
                          env=clean_envs.clean_environ())


@pytest.mark.parametrize(("source", "framework"), NOTEBOOKS,
                         ids=lambda x: getattr(x, "stem", x))
def test_each_notebook_starts_with_its_package_check(source, framework):
    notebook = nbformat.read(target(source, framework), as_version=4)
    (cell,) = [c for c in notebook.cells if TAG in c.metadata.get("tags", [])]
    assert cell.source == package_check(framework, source)
    assert cell is next(c for c in notebook.cells if c.cell_type == "code")
    assert "%pip" not in cell.source and "!pip" not in cell.source  # installs nothing
    assert max(len(line) for line in cell.source.splitlines()) <= 80


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_check_is_silent_where_the_package_and_framework_import(framework):
    python = environments.python(framework)
    if not python.exists():
        pytest.skip(f"{environments.environment(framework).folder} is not set up")
    done = run(python, package_check(framework, sources()[0]))
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a fresh machine builds the stack first (minutes)
def test_check_stops_with_what_to_install_where_d2l_bn_is_missing():
    """In the PyTorch stack (no d2l_bn), the cell says what to install and where the
    single-file edition is; that edition is committed at the path it names."""
    env, _ = clean_envs.stack("pytorch")
    source = sources()[0]
    done = run(clean_envs.python_of(env), package_check("pytorch", source))
    assert done.returncode == 1
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("ModuleNotFoundError: This notebook needs d2l_bn. ")
    assert f'In a checkout of {repository()[0]}, run `pip install ".[torch]" jupyter`' in message
    url, branch = repository()
    edition = single_file.committed_path(source, "pytorch")
    assert message.endswith(f"{url}/blob/{branch}/{edition.relative_to(ROOT).as_posix()}")
    assert edition.is_file()
