"""A learner's installs, in clean environments: the d2l_bn wheel on numpy 2, per framework.

Each test takes one framework's stack from ``book.clean_envs`` (numpy 2, exact pins,
built once and cached), installs the package's wheel into a fresh overlay on it (not an
editable install, and with pip resolving the wheel's own dependencies, which must leave
the stack's pinned versions as they are), and runs that
framework's chapter notebook top to bottom in smoke mode in a kernel of that
environment, from a folder outside the repository. The installed versions and the
timings are printed (``[learner env]`` lines). The single-file edition, which needs no
d2l_bn at all, is tested in ``test_single_file.py``; the Colab cell in
``test_colab_setup.py``.
"""

from __future__ import annotations

import zipfile

import pytest

from book import clean_envs
from book.notebooks import sources, target
from d2l_bn import __version__

ROOT = clean_envs.ROOT
# What a learner would type. The tensorflow extra names `tensorflow` (545 MB; what Colab
# ships), which tensorflow-cpu does not satisfy, so that stack takes the wheel alone. The
# jax extra's ranges (pyproject.toml) must be met by the stack's pins: pip adds nothing.
EXTRAS = {"pytorch": "[torch]", "tensorflow": "", "jax": "[jax]"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    return clean_envs.build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.mark.slow
def test_wheel_holds_the_package_and_its_version(wheel):
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
@pytest.mark.timeout(3600)  # a fresh machine builds the stack first (minutes)
@pytest.mark.parametrize("framework", sorted(EXTRAS))
def test_chapter_runs_from_the_wheel_on_numpy_2(framework, wheel, tmp_path, capsys):
    stack, record = clean_envs.stack(framework)
    env = clean_envs.overlay(stack, tmp_path / "env")
    install_s = clean_envs.pip_install(env, f"d2l_bn{EXTRAS[framework]} @ {wheel.as_uri()}")
    installed = clean_envs.versions(env)
    notebook = target(next(s for s in sources() if s.stem == "batch_norm"), framework)
    probe = clean_envs.execute(env, notebook, tmp_path / "run", D2L_BN_SMOKE="1")
    with capsys.disabled():
        print(f"\n[learner env] {clean_envs.report(framework, record, installed)}\n"
              f"  wheel installed in {install_s:.1f} s; {notebook.relative_to(ROOT)} ran in "
              f"{probe['seconds']} s (smoke)")
    assert probe["executable"] == str(clean_envs.python_of(env))
    assert probe["d2l_bn_file"] == str(clean_envs.site_packages(env) / "d2l_bn" / "__init__.py")
    assert probe["d2l_bn_version"] == installed["d2l-bn"] == __version__
    assert probe["numpy"].startswith("2.") and installed["numpy"] == probe["numpy"]
    pinned = [pin.split("==")[0] for pin in clean_envs.STACKS[framework]]
    assert {p: installed[p] for p in pinned} == {p: record["versions"][p] for p in pinned}
    assert probe["importable"]["pooch"] and probe["importable"]["platformdirs"]
