"""A learner's installs, in clean environments: the d2l_bn wheel with its framework's extra.

Each test takes one framework's wheel environment from ``clean_envs`` (an empty venv in
which pip installed the package's wheel with the framework's extra, resolving what the
wheel declares; built once per package version and cached) and runs one of that
framework's notebooks top to bottom in smoke mode, under the kernel every notebook
names, ``python3`` (the environment's own), from a folder outside the repository. The
English and the Portuguese notebooks are run alike (by default the English chapter,
within CI's time budget: ``clean_envs.chosen``). The installed versions and the
timings are printed (``[learner env]`` lines). The single-file editions, which need no
d2l_bn at all, are run in ``test_single_file.py``; the notebooks' package check in
``test_setup_cell.py``.
"""

from __future__ import annotations

import zipfile

import clean_envs
import pytest

from book import single_file
from book.notebooks import sources
from d2l_bn import BACKEND_MODULES, FRAMEWORKS, __version__

ROOT = clean_envs.ROOT
NOTEBOOKS = [(s, fw, lang) for s in sources() for lang in single_file.LANGUAGES
             for fw in FRAMEWORKS]
# By default the English chapter (test_single_file.py runs the Portuguese editions; the
# two languages' code cells are the same, test_translation.py); see clean_envs.chosen.
RUN = clean_envs.chosen(NOTEBOOKS, lambda n: n[0].stem == "batch_norm" and n[2] == "en")


@pytest.mark.slow
def test_wheel_holds_the_package_and_its_version(tmp_path):
    wheel = clean_envs.build_wheel(tmp_path)
    assert wheel.name == f"d2l_bn-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(f"d2l_bn-{__version__}.dist-info/METADATA").decode()
        packaged = {n: archive.read(n) for n in names if n.startswith("d2l_bn/")}
    assert f"\nVersion: {__version__}\n" in metadata
    assert {n.split("/")[0] for n in names} == {"d2l_bn", f"d2l_bn-{__version__}.dist-info"}
    assert packaged == {f"d2l_bn/{p.name}": p.read_bytes()
                        for p in sorted((ROOT / "d2l_bn").glob("*.py"))}


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a fresh machine builds the environment first (minutes)
@pytest.mark.parametrize("notebook", RUN,
                         ids=lambda n: f"{n[2]}/{n[1]}/{n[0].stem}")
def test_notebook_runs_from_the_wheel(notebook, tmp_path, capsys):
    source, framework, language = notebook
    env, record = clean_envs.wheel_env(framework)
    path = single_file.notebook_path(source, framework, language)
    probe = clean_envs.execute(env, path, tmp_path / "run", D2L_BN_SMOKE="1")
    with capsys.disabled():
        print(f"\n[learner env] {path.relative_to(ROOT)}: {probe['seconds']} s (smoke), "
              f"kernel python3 of {clean_envs.report(f'wheel-{framework}', record)}")
    installed = record["versions"]
    assert probe["executable"] == str(clean_envs.python_of(env))
    assert probe["d2l_bn_file"] == str(clean_envs.site_packages(env) / "d2l_bn" / "__init__.py")
    assert probe["d2l_bn_version"] == installed["d2l-bn"] == __version__
    assert installed["numpy"] == probe["numpy"]
    assert probe["numpy"].startswith("1.26." if framework == "mxnet" else "2.")
    assert installed.get("torch", "2.13.0+cpu") == "2.13.0+cpu"  # the constraint held
    assert probe["importable"]["pooch"] and probe["importable"]["platformdirs"]
    assert probe["importable"][BACKEND_MODULES[framework]]
