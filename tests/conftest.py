"""Shared pytest setup: make tests/ importable and offer per-framework fixtures."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

from d2l_bn import BACKEND_MODULES, FRAMEWORKS


@pytest.fixture(params=FRAMEWORKS)
def framework(request) -> str:
    return request.param


@pytest.fixture
def d2l(framework):
    """The d2l_bn backend module of the framework under test."""
    return importlib.import_module(f"d2l_bn.{BACKEND_MODULES[framework]}")


@pytest.fixture
def smoke(monkeypatch):
    """Run the test in smoke mode (tiny subsets, one epoch)."""
    monkeypatch.setenv("D2L_BN_SMOKE", "1")
