"""The single-file edition: the package's own code, embedded, and nothing else needed.

The editions are committed (``python -m book.single_file``; the site's Colab links open
them): these tests check that every committed edition is what the generator makes now
from the committed notebook and ``d2l_bn/`` (so the embedded files are byte-for-byte
the package's files), that everything else is the notebook as committed, and (slow)
that each edition runs in smoke mode under a kernel named ``python3`` in an environment
with only its framework, numpy and matplotlib (by default the Portuguese chapter, within
CI's time budget; ``clean_envs.chosen``).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import clean_envs
import nbformat
import pytest
import tomllib

from book import single_file
from book.notebooks import sources
from d2l_bn import BACKEND_MODULES, FRAMEWORKS, __version__

ROOT = clean_envs.ROOT
# (source, framework, language) of every edition.
EDITIONS = [(s, fw, lang) for s in sources() for lang in single_file.LANGUAGES
            for fw in FRAMEWORKS]


def edition_id(edition) -> str:
    source, framework, language = edition
    return f"{language}/{framework}/{source.stem}"


def helpers(notebook) -> nbformat.NotebookNode:
    (cell,) = [c for c in notebook.cells if "single-file-helpers" in c.metadata.get("tags", [])
               and c.cell_type == "code"]
    return cell


@pytest.fixture(params=EDITIONS, ids=edition_id)
def editions(request):
    """(committed notebook, its committed single-file edition)."""
    source, framework, language = request.param
    committed = nbformat.read(single_file.notebook_path(source, framework, language), 4)
    return committed, nbformat.read(single_file.committed_path(source, framework, language), 4)


def test_committed_editions_are_in_sync_with_the_generator():
    assert single_file.out_of_sync() == [], "run `python -m book.single_file`"


def test_editions_have_file_names_of_their_own_per_language():
    names = [single_file.committed_path(*edition).name for edition in EDITIONS]
    assert len(set(names)) == len(names)
    assert all(name.endswith("-pt_BR.ipynb") == (lang == "pt_BR")
               for name, (_, _, lang) in zip(names, EDITIONS))


def test_embedded_code_is_the_package_code(editions):
    committed, edition = editions
    framework = committed.metadata["d2l_bn"]["framework"]
    files = single_file.embedded_files(helpers(edition).source)
    for name, text in files.items():
        assert text.encode() == (ROOT / name).read_bytes(), f"{name} differs from the package"
    backends = {f"d2l_bn/{m}.py" for m in BACKEND_MODULES.values()}
    assert backends & set(files) == {f"d2l_bn/{BACKEND_MODULES[framework]}.py"}
    assert "d2l_bn/__init__.py" in files
    assert edition.metadata["d2l_bn"]["edition"]["embedded"] == sorted(files)


def test_everything_else_is_the_committed_notebook(editions):
    committed, edition = editions
    kept = [c for c in committed.cells if "package-check" not in c.metadata.get("tags", [])]
    added = [c for c in edition.cells if "single-file-helpers" in c.metadata.get("tags", [])]
    assert [c for c in edition.cells if c not in added] == kept  # sources, ids, outputs
    assert [c.cell_type for c in added] == ["markdown", "code"]
    framework = committed.metadata["d2l_bn"]["framework"]
    assert single_file.PIP[framework] in added[0].source  # the note says what to install
    opening = {"en": "**Single-file edition.**", "pt_BR": "**Edição em arquivo único.**"}
    language = committed.metadata["d2l_bn"].get("language", "en")
    assert added[0].source.startswith(opening[language])  # in the notebook's language
    assert "hide-cell" in helpers(edition).metadata["tags"]  # collapsed on a site
    first_code = next(i for i, c in enumerate(edition.cells)
                      if c.cell_type == "code" and c not in added)
    assert edition.cells.index(added[0]) < first_code  # near the top, before any code
    assert edition.metadata["kernelspec"] == committed.metadata["kernelspec"] == {
        "name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.validate(edition)


def test_install_lines_name_each_framework_and_the_jax_extra():
    """One pip line per framework (with pooch, which downloads the data); JAX's asks for
    the ranges of the package's jax extra."""
    assert set(single_file.PIP) == set(FRAMEWORKS)
    for framework, line in single_file.PIP.items():
        assert line.startswith("pip install ") and "matplotlib" in line.split(), framework
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["jax"]
    assert shlex.split(single_file.PIP["jax"]) == ["pip", "install", *extra, "matplotlib",
                                                   "pooch"]


def test_command_writes_every_edition(tmp_path):
    done = subprocess.run([sys.executable, "-m", "book.single_file", "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.ipynb"))
    assert written == sorted(single_file.committed_path(*e).relative_to(ROOT) for e in EDITIONS)
    assert done.stdout.count("wrote ") == len(written)


def test_helpers_cell_shadows_an_installed_d2l_bn():
    """Run here, where d2l_bn is installed, the cell's copy is what gets imported."""
    edition = nbformat.read(single_file.committed_path(*EDITIONS[0]), as_version=4)
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


@pytest.mark.parametrize(("source", "framework"), [(s, fw) for s in sources()
                                                   for fw in FRAMEWORKS],
                         ids=lambda x: getattr(x, "stem", x))
def test_both_languages_run_the_same_code(source, framework):
    """The Portuguese edition differs from the English one in its markdown only, so a run
    of either stands for both."""
    code = [[(c.id, c.source, c.outputs) for c in nbformat.read(
        single_file.committed_path(source, framework, lang), 4).cells if c.cell_type == "code"]
        for lang in single_file.LANGUAGES]
    assert code[0] == code[1]


# By default the Portuguese chapter (test_learner_paths.py runs the English notebooks);
# see clean_envs.chosen.
RUN = clean_envs.chosen(EDITIONS, lambda e: e[0].stem == "batch_norm" and e[2] == "pt_BR")


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a fresh machine builds the stack first (minutes)
@pytest.mark.parametrize("edition", RUN, ids=edition_id)
def test_single_file_edition_runs_with_only_its_framework(edition, tmp_path, capsys):
    source, framework, language = edition
    env, record = clean_envs.stack(framework)
    assert not {"d2l-bn", "pooch"} & set(record["versions"])
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-hide-optional.py").write_text(HIDE_OPTIONAL)
    path = single_file.committed_path(source, framework, language)
    probe = clean_envs.execute(env, path, tmp_path / "run", D2L_BN_SMOKE="1",
                               IPYTHONDIR=str(tmp_path / "ipython"))
    with capsys.disabled():
        print(f"\n[single-file] {path.relative_to(ROOT)}: {probe['seconds']} s (smoke), "
              f"kernel python3 of {clean_envs.report(framework, record)}")
    assert probe["executable"] == str(clean_envs.python_of(env))
    assert probe["d2l_bn_file"] == "(embedded in this notebook)/d2l_bn/__init__.py"
    assert probe["importable"] == {"pooch": False, "platformdirs": False,
                                   **{m: m == BACKEND_MODULES[framework]
                                      for m in ("torch", "tensorflow", "mxnet", "jax")}}
