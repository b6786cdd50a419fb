"""The two environments and the four kernels: what book/environments.py says is what exists."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from book import environments
from d2l_bn import FRAMEWORKS

ROOT = environments.ROOT


def pins(requirements: str) -> dict[str, str]:
    lines = (ROOT / requirements).read_text().splitlines()
    return {name.lower().replace("_", "-"): version for line in lines
            if (m := re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line.strip()))
            for name, version in [m.groups()]}


def test_every_framework_has_one_environment():
    environments.check()
    for fw in FRAMEWORKS:
        env = environments.environment(fw)
        assert environments.python(fw) == ROOT / env.folder / "bin" / "python"
        assert environments.kernel_name(fw) == f"d2l-bn-{fw}"
    assert [env for env in environments.ENVIRONMENTS if env.main] == [environments.MAIN]


def test_an_unknown_framework_is_a_clear_error():
    with pytest.raises(LookupError, match="No environment runs 'caffe'.*book/environments.py"):
        environments.environment("caffe")


def test_the_makefile_builds_every_environment_from_its_requirements():
    makefile = (ROOT / "Makefile").read_text()
    for env in environments.ENVIRONMENTS:
        assert f"python3 -m venv {env.folder}\n" in makefile, env.folder
        assert re.search(rf"^{re.escape(env.folder)}/\.installed: {re.escape(env.requirements)} ",
                         makefile, re.MULTILINE), env
        assert (ROOT / env.requirements).exists()
    assert "-m book.environments kernels" in makefile
    ci = (ROOT / ".ci" / "run").read_text()
    assert all(f" {env.folder} " in ci for env in environments.ENVIRONMENTS)  # rm -rf


def test_requirements_pin_numpy_per_environment():
    main, mxnet = pins(environments.MAIN.requirements), pins(environments.MXNET.requirements)
    assert main["numpy"].startswith("2.") and "mxnet" not in main
    assert mxnet["numpy"].startswith("1.26.") and mxnet["mxnet"] == "1.9.1"
    assert {"torch", "tensorflow-cpu", "jax", "jaxlib", "flax", "optax"} <= set(main)
    assert not {"torch", "tensorflow-cpu", "jax", "jupyter-book"} & set(mxnet)  # small
    for name in set(main) & set(mxnet) - {"numpy"}:  # shared tools: the same versions
        assert main[name] == mxnet[name], name


@pytest.mark.skipif(environments.current() is not environments.MAIN,
                    reason="the kernels are registered into .venv")
def test_kernels_run_their_environments_python():
    from jupyter_client.kernelspec import KernelSpecManager

    manager = KernelSpecManager()
    for fw in FRAMEWORKS:
        spec = manager.get_kernel_spec(environments.kernel_name(fw))
        assert Path(spec.argv[0]) == environments.python(fw), fw
        assert spec.language == "python"
        assert Path(spec.resource_dir).is_relative_to(Path(sys.prefix)), spec.resource_dir


def test_this_session_tests_the_frameworks_of_its_environment():
    from conftest import TESTED

    here = environments.frameworks_here()
    assert TESTED and set(TESTED) <= set(here)
