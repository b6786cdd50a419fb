"""Shared pytest setup: the repository importable, framework fixtures, two passes.

Smoke mode by default and JAX's compilation cache are set for every session, also one
that collects only notebooks, by the root ``conftest.py`` (loaded before this file).

The frameworks run in two environments (``book.environments``: ``.venv`` with numpy 2 for
PyTorch, TensorFlow and JAX; ``.venv-mxnet`` with numpy 1.26 for MXNet), so the suite
runs in two passes (``make test``):

1. ``.venv/bin/python -m pytest``: everything; the in-process framework tests for the
   frameworks of ``.venv``; nbval runs every notebook, MXNet's too, in the kernel its
   metadata names (``d2l-bn-mxnet`` runs ``.venv-mxnet``'s Python).
2. ``.venv-mxnet/bin/python -m pytest -o addopts= tests``: only the in-process framework
   tests (``FRAMEWORK_MODULES``), for MXNet.

A pass tests the frameworks of ``$D2L_BN_TEST_FRAMEWORKS`` (comma- or space-separated;
default: those of the environment the interpreter belongs to). A framework test of
another framework is deselected (pytest counts it; the other pass runs it), never
skipped; a framework of the pass that does not import is an error.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
from pathlib import Path

import pytest

from d2l_bn import BACKEND_MODULES, FRAMEWORKS
from d2l_bn.settings import SMOKE_ENV

ROOT = Path(__file__).resolve().parents[1]
# book/ and benchmarks/ run from the repository, uninstalled; _ext/ holds the site's
# Sphinx extensions, importable by name as Jupyter Book's local_extensions makes them.
for folder in (ROOT, ROOT / "_ext"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from book import environments  # noqa: E402 (needs the repository on sys.path)

TEST_FRAMEWORKS_ENV = "D2L_BN_TEST_FRAMEWORKS"
# The modules of in-process framework tests (the `framework` fixture, or a `framework`
# parameter): the only ones collected outside the main environment, where only their
# tests of that environment's frameworks run.
FRAMEWORK_MODULES = ("test_api.py", "test_scratch_bn.py", "test_trainer.py",
                     "test_end_to_end.py")


def test_frameworks() -> list[str]:
    """The frameworks this session tests in-process, in d2l_bn.FRAMEWORKS order."""
    here = environments.frameworks_here()
    asked = os.environ.get(TEST_FRAMEWORKS_ENV, "").replace(",", " ").split()
    if not asked:
        return here
    unknown = sorted(set(asked) - set(FRAMEWORKS))
    elsewhere = sorted(set(asked) - set(here) - set(unknown))
    if unknown or elsewhere:
        raise pytest.UsageError(
            f"{TEST_FRAMEWORKS_ENV}={os.environ[TEST_FRAMEWORKS_ENV]!r}: "
            + (f"unknown {unknown} (d2l_bn has {list(FRAMEWORKS)}); " if unknown else "")
            + "".join(f"{fw} runs in {environments.environment(fw).folder}, not in "
                      f"{sys.prefix}; " for fw in elsewhere)
            + "run each framework's tests with its environment's Python (`make test`).")
    return [fw for fw in FRAMEWORKS if fw in asked]


TESTED: list[str] = []  # set by pytest_configure
MAIN = environments.current() in (None, environments.MAIN)


def pytest_configure(config):
    TESTED[:] = test_frameworks()


def pytest_ignore_collect(collection_path, config):
    """Outside the main environment, only the in-process framework test modules."""
    if not MAIN and collection_path.is_file() and collection_path.name not in FRAMEWORK_MODULES:
        return True
    return None


def _framework_of(item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("framework") if callspec else None


def pytest_collection_modifyitems(config, items):
    """Deselect the framework tests of other frameworks (and, outside the main
    environment, every test that is not a framework test: pass 1 runs those)."""
    keep, other = [], []
    for item in items:
        module = item.path.name
        framework = _framework_of(item)
        in_process = module in FRAMEWORK_MODULES
        if (not in_process and "framework" in getattr(item, "fixturenames", ())
                and not any("framework" in str(m.args[0]) for m in
                            item.iter_markers("parametrize"))):
            raise pytest.UsageError(f"{item.nodeid} uses the framework fixture: add "
                                    f"{module} to FRAMEWORK_MODULES in tests/conftest.py")
        if in_process and (framework not in TESTED if framework else not MAIN):
            other.append(item)
        else:
            keep.append(item)
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = keep


# Test modules that use the learner environments of tests/clean_envs.py.
STACK_MODULES = {"test_learner_paths.py", "test_setup_cell.py"}


def pytest_collection_finish(session):
    """Start building the learner environments (pip installs, mostly waiting on the disk
    and the network) in the background while the first tests run; a test that needs one
    still being built waits for it (clean_envs locks each one), and one whose build
    failed builds it again and reports the error."""
    if not any(item.path.name in STACK_MODULES for item in session.items):
        return
    import clean_envs

    def build_all():
        for name in clean_envs.STACKS:
            for build in (clean_envs.stack, clean_envs.wheel_env):
                with contextlib.suppress(Exception):  # the test that needs it reports it
                    build(name)

    threading.Thread(target=build_all, name="learner-stacks", daemon=True).start()


def pytest_report_header(config):
    env = environments.current()
    return [f"d2l_bn frameworks tested in-process: {', '.join(TESTED) or 'none'} "
            f"(environment {env.folder if env else sys.prefix}; {TEST_FRAMEWORKS_ENV} "
            f"overrides)",
            f"{SMOKE_ENV}={os.environ.get(SMOKE_ENV)!r}, JAX_COMPILATION_CACHE_DIR="
            f"{os.environ.get('JAX_COMPILATION_CACHE_DIR')!r} (conftest.py)"]


@pytest.fixture(params=FRAMEWORKS)
def framework(request) -> str:
    """Every framework of d2l_bn; a session keeps those of its environment (see above)."""
    return request.param


@pytest.fixture
def d2l(framework):
    """The d2l_bn backend module of the framework under test."""
    return importlib.import_module(f"d2l_bn.{BACKEND_MODULES[framework]}")


@pytest.fixture
def smoke(monkeypatch):
    """Run the test in smoke mode (tiny subsets, one epoch), whatever the session uses."""
    monkeypatch.setenv(SMOKE_ENV, "1")
