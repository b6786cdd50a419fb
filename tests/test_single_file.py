"""The single-file edition: the package's own code, embedded, and nothing else needed.

The editions are generated (``python -m book.single_file``), never committed: these tests
generate them from the committed per-framework notebooks and check that the embedded
files are byte-for-byte the package's files, that everything else is the notebook as
committed, and (slow) that the PyTorch chapter runs in an environment without d2l_bn,
pooch or platformdirs.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import nbformat
import pytest
import tomllib

from book import clean_envs, single_file
from book.notebooks import sources, target
from d2l_bn import BACKEND_MODULES, FRAMEWORKS, __version__

ROOT = clean_envs.ROOT
NOTEBOOKS = [target(s, fw) for s in sources() for fw in FRAMEWORKS]


def helpers(notebook) -> nbformat.NotebookNode:
    (cell,) = [c for c in notebook.cells if "single-file-helpers" in c.metadata.get("tags", [])
               and c.cell_type == "code"]
    return cell


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def editions(request):
    """(committed notebook, its single-file edition)."""
    committed = nbformat.read(request.param, as_version=4)
    return committed, single_file.single_file(committed)


def test_embedded_code_is_the_package_code(editions):
    committed, edition = editions
    framework = committed.metadata["d2l_bn"]["framework"]
    files = single_file.embedded_files(helpers(edition).source)
    for name, text in files.items():
        assert text.encode() == (ROOT / name).read_bytes(), f"{name} differs from the package"
    backends = {f"d2l_bn/{m}.py" for m in BACKEND_MODULES.values()}
    assert backends & set(files) == {f"d2l_bn/{BACKEND_MODULES[framework]}.py"}
    assert {"d2l_bn/__init__.py", "d2l_bn/data.py", "d2l_bn/loop.py"} <= set(files)
    assert "d2l_bn/tab.py" not in files  # only what the notebook uses
    assert edition.metadata["d2l_bn"]["edition"]["embedded"] == sorted(files)


def test_everything_else_is_the_committed_notebook(editions):
    committed, edition = editions
    kept = [c for c in committed.cells if "colab-setup" not in c.metadata.get("tags", [])]
    added = [c for c in edition.cells if "single-file-helpers" in c.metadata.get("tags", [])]
    assert [c for c in edition.cells if c not in added] == kept  # sources, ids, outputs
    assert [c.cell_type for c in added] == ["markdown", "code"]
    framework = committed.metadata["d2l_bn"]["framework"]
    assert single_file.PIP[framework] in added[0].source  # the note says what to install
    assert "hide-cell" in helpers(edition).metadata["tags"]  # collapsed on a site
    first_code = next(i for i, c in enumerate(edition.cells)
                      if c.cell_type == "code" and c not in added)
    assert edition.cells.index(added[0]) < first_code  # near the top, before any code
    assert committed.metadata["kernelspec"]["name"] == f"d2l-bn-{framework}"  # the book's
    assert edition.metadata["kernelspec"] == {"name": "python3", "display_name": "Python 3",
                                              "language": "python"}  # any Jupyter's kernel
    nbformat.validate(edition)


def test_install_lines_name_each_framework_and_the_jax_extra():
    """One pip line per framework; JAX's asks for the ranges of the package's jax extra."""
    assert set(single_file.PIP) == set(FRAMEWORKS)
    for framework, line in single_file.PIP.items():
        assert line.startswith("pip install ") and "matplotlib" in line.split(), framework
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["jax"]
    assert shlex.split(single_file.PIP["jax"]) == ["pip", "install", *extra, "matplotlib"]


def test_command_writes_every_edition(tmp_path):
    done = subprocess.run([sys.executable, "-m", "book.single_file", "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.ipynb"))
    assert written == sorted(f"{fw}/{s.stem}-{fw}-single.ipynb"
                             for s in sources() for fw in FRAMEWORKS)
    assert done.stdout.count("wrote ") == len(written)


def test_helpers_cell_shadows_an_installed_d2l_bn():
    """Run here, where d2l_bn is installed, the cell's copy is what gets imported."""
    edition = single_file.single_file(nbformat.read(NOTEBOOKS[0], as_version=4))
    probe = helpers(edition).source + (
        "\nimport json, sys\nimport d2l_bn\n"
        "print(json.dumps({'file': d2l_bn.__file__, 'version': d2l_bn.__version__,"
        " 'frameworks_loaded': [m for m in ('torch', 'tensorflow', 'mxnet', 'jax', 'flax')"
        "                       if m in sys.modules],"
        " 'names': [n for n in globals() if n.startswith('_') and 'D2L' in n.upper()]}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, cwd=clean_envs.cache_root())
    result = json.loads(done.stdout)
    assert result["file"] == "(embedded in this notebook)/d2l_bn/__init__.py"
    assert result["version"] == __version__
    assert result["frameworks_loaded"] == []  # import d2l_bn loads no framework
    assert result["names"] == []  # the cell leaves no helper names in the notebook


# Every Jupyter installation brings platformdirs (jupyter_core requires it), so the kernel
# hides it, and pooch, from the notebook's code: importing either fails, as where they are
# not installed. (pooch is not installed in the stack at all.)
HIDE_OPTIONAL = ('import sys\nsys.modules["platformdirs"] = None\n'
                 'sys.modules["pooch"] = None\n')


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a fresh machine builds the stack first (minutes)
def test_single_file_pytorch_notebook_runs_without_d2l_bn(tmp_path, capsys):
    env, record = clean_envs.stack("pytorch")
    assert not {"d2l-bn", "pooch"} & set(record["versions"])
    source = next(s for s in sources() if s.stem == "batch_norm")
    path = single_file.output_path(source, "pytorch", tmp_path / "editions")
    path.parent.mkdir(parents=True)
    committed = nbformat.read(target(source, "pytorch"), as_version=4)
    nbformat.write(single_file.single_file(committed), path)
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-hide-optional.py").write_text(HIDE_OPTIONAL)
    probe = clean_envs.execute(env, path, tmp_path / "run", D2L_BN_SMOKE="1",
                               IPYTHONDIR=str(tmp_path / "ipython"))
    with capsys.disabled():
        print(f"\n[single-file] {path.name}: {probe['seconds']} s (smoke) in "
              f"{clean_envs.report('pytorch', record)}")
    assert probe["executable"] == str(clean_envs.python_of(env))
    assert probe["d2l_bn_file"] == "(embedded in this notebook)/d2l_bn/__init__.py"
    assert probe["numpy"].startswith("2.")
    assert probe["importable"] == {"pooch": False, "platformdirs": False, "torch": True,
                                   "tensorflow": False, "mxnet": False, "jax": False}
