"""Shared pytest setup: smoke mode by default, the repository importable, framework fixtures."""

from __future__ import annotations

import importlib
import os
import sys
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

# A plain `pytest` runs every notebook (through nbval) and every training test in smoke
# mode, which is what the suite is sized for; set D2L_BN_SMOKE=0 for full runs. Set here,
# before any test or notebook kernel starts, so the kernels inherit it.
os.environ.setdefault(SMOKE_ENV, "1")


@pytest.fixture(params=FRAMEWORKS)
def framework(request) -> str:
    return request.param


@pytest.fixture
def d2l(framework):
    """The d2l_bn backend module of the framework under test."""
    return importlib.import_module(f"d2l_bn.{BACKEND_MODULES[framework]}")


@pytest.fixture
def smoke(monkeypatch):
    """Run the test in smoke mode (tiny subsets, one epoch), whatever the session uses."""
    monkeypatch.setenv(SMOKE_ENV, "1")
