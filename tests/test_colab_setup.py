"""The Colab setup cell: pinned to the package's release, and run as Colab would run it.

Outside Colab the cell does nothing, so the slow tests here run it with a stand-in for
Colab (a ``google.colab`` module in ``sys.modules``) in a clean environment (the PyTorch
stack of ``book.clean_envs``, on numpy 2; the JAX stack for the JAX cell), against a
local git repository that holds
the package with the release tag ``v<version>`` in place of the course's GitHub
repository: the cell's own pip command, git URL and tag, only the host changed.
"""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat
import pytest
import tomllib

import d2l_bn
from book import clean_envs
from book.notebooks import colab_setup, repository, sources, target
from d2l_bn import BACKEND_MODULES, FRAMEWORKS

ROOT = clean_envs.ROOT
PIN = re.compile(r'"d2l_bn\[(\w+)\] @ git\+(\S+)@v([^"\s]+)"')
FAKE_COLAB = 'import sys, types\nsys.modules["google.colab"] = types.ModuleType("google.colab")\n'
NOTEBOOKS = [target(s, fw) for s in sources() for fw in FRAMEWORKS]


def setup_cell(notebook) -> str:
    (cell,) = [c for c in notebook.cells if "colab-setup" in c.metadata.get("tags", [])]
    return cell.source


def test_version_is_single_sourced():
    """pyproject.toml takes the version from d2l_bn.__version__ (no second copy)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "d2l_bn.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", d2l_bn.__version__)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_notebook_pins_the_package_version(path):
    """Every committed per-framework notebook installs exactly this release in Colab."""
    code = setup_cell(nbformat.read(path, as_version=4))
    pins = PIN.findall(code)
    assert pins == [(BACKEND_MODULES[path.parent.name], repository()[0], d2l_bn.__version__)], (
        f"{path.relative_to(ROOT)} pins {pins}, the package is {d2l_bn.__version__}: "
        "run `python -m book split`")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_cell_is_plain_python_and_idle_outside_colab(framework):
    code = colab_setup(framework)
    assert "%pip" not in code and "!pip" not in code  # a failed %pip would not stop Run all
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


# --- in a clean environment, with a stand-in for Colab -------------------------------------


@pytest.fixture(scope="module")
def tagged_repo(tmp_path_factory):
    """A git repository of the package, tagged v<version> as a release is."""
    repo = clean_envs.package_snapshot(tmp_path_factory.mktemp("colab") / "repo")
    git = ["git", "-C", str(repo), "-c", "user.name=test", "-c", "user.email=test@invalid",
           "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"]
    for args in (["init", "--quiet"], ["add", "."], ["commit", "--quiet", "-m", "release"],
                 ["tag", f"v{d2l_bn.__version__}"]):
        subprocess.run(git + args, check=True, capture_output=True)
    return repo


@pytest.fixture(scope="module")
def torch_stack():
    return clean_envs.stack("pytorch")[0]


def run_in_colab(python, code: str, before: str = "") -> subprocess.CompletedProcess:
    """Run ``code`` as a Colab cell would run (``before``: what the runtime did earlier)."""
    return subprocess.run([str(python), "-c", before + FAKE_COLAB + code],
                          capture_output=True, text=True, timeout=1800,
                          cwd=clean_envs.cache_root(), env=clean_envs.clean_environ())


def local_cell(framework: str, repo) -> str:
    """The framework's Colab cell, installing from ``repo`` instead of GitHub."""
    code = colab_setup(framework)
    assert repository()[0] in code
    # A direct reference's URL needs a host (pip rejects git+file:///path); git accepts this.
    return code.replace(repository()[0], f"file://localhost{repo}")


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a fresh machine builds the stack first (minutes)
def test_failed_install_stops_with_what_to_do(torch_stack, tmp_path):
    python = clean_envs.python_of(clean_envs.overlay(torch_stack, tmp_path / "env"))
    done = run_in_colab(python, local_cell("pytorch", tmp_path / "no-such-repository"))
    assert done.returncode == 1
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("RuntimeError: Could not install d2l_bn[torch] @ git+file://")
    assert f"@v{d2l_bn.__version__}" in message and "run this cell again" in message
    pip_messages = done.stdout.split("\n", 1)[1]  # shown above it, after "Installing ..."
    assert "no-such-repository" in pip_messages and "error" in pip_messages.lower()


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a fresh machine builds the stack first (minutes)
def test_install_pins_the_release(torch_stack, tagged_repo, tmp_path):
    env = clean_envs.overlay(torch_stack, tmp_path / "env")
    python = clean_envs.python_of(env)
    first = run_in_colab(python, local_cell("pytorch", tagged_repo))
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stdout.startswith("Installing d2l_bn[torch] @ git+file://localhost/")
    again = run_in_colab(python, local_cell("pytorch", tagged_repo))  # e.g. after a restart
    assert (again.returncode, again.stdout) == (0, "")  # nothing left to do
    probe = clean_envs.run(python, "-c", "import d2l_bn; print(d2l_bn.__version__, "
                                         "d2l_bn.__file__)").stdout.split()
    assert probe[0] == d2l_bn.__version__
    assert probe[1].startswith(str(clean_envs.site_packages(env)))


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a fresh machine builds the stack first (minutes)
def test_mxnet_cell_restarts_the_runtime_after_numpy_changes(torch_stack, tagged_repo, tmp_path):
    """Colab runs numpy 2; MXNet needs numpy < 2: install, restart, then run all again."""
    python = clean_envs.python_of(clean_envs.overlay(torch_stack, tmp_path / "env"))
    cell = local_cell("mxnet", tagged_repo)
    first = run_in_colab(python, cell, before="import numpy\n")  # Colab has numpy loaded
    assert first.returncode == -9, first.stderr[-3000:]  # SIGKILL: Colab restarts the kernel
    assert "restarting the runtime now" in first.stdout
    assert "Runtime > Run all" in first.stdout
    again = run_in_colab(python, cell + "\nfrom d2l_bn import mxnet as d2l\n"
                                        "print(numpy.__version__, d2l.try_gpu())",
                         before="import numpy\n")
    assert again.returncode == 0, again.stderr[-3000:]
    version, device = again.stdout.split()
    assert version.startswith("1.") and device == "cpu(0)"


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a fresh machine builds the stack first (minutes)
def test_jax_cell_installs_the_extra_without_a_restart(tagged_repo, tmp_path):
    """JAX needs numpy 2, which Colab runs: the cell installs d2l_bn[jax] (the stack's
    versions satisfy the extra, pip changes none) and the same kernel goes on."""
    stack, record = clean_envs.stack("jax")
    env = clean_envs.overlay(stack, tmp_path / "env")
    python = clean_envs.python_of(env)
    # JAX, seeing google.colab, imports google.colab.output (for its debugger): stand in.
    probe = ('\nsys.modules["google.colab"].output = types.ModuleType("google.colab.output")'
             "\nfrom d2l_bn import jax as d2l\nprint(d2l.try_gpu())")
    done = run_in_colab(python, local_cell("jax", tagged_repo) + probe,
                        before="import numpy\n")  # Colab has numpy loaded
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Installing d2l_bn[jax] @ git+file://localhost/")
    assert "restarting" not in done.stdout and "cpu" in lines[-1].lower()
    installed = clean_envs.versions(env)
    for name in ("jax", "jaxlib", "flax", "optax", "numpy"):
        assert installed[name] == record["versions"][name], name
