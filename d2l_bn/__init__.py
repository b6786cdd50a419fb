"""Helpers for the batch-normalization course: ``from d2l_bn import torch as d2l`` (or
tensorflow, mxnet, jax); every backend exports the same names. ``d2l_bn`` itself loads
no framework: ``data``, ``loop``, ``plots`` and ``settings`` are framework-free.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

# The release, in one place (pyproject.toml and the single-file editions read it).
__version__ = "0.2.0"


@dataclass(frozen=True)
class Framework:
    """One framework of the course: how code, notebooks and readers name it."""

    name: str  # cell tags, notebook folders, D2L_BN_FRAMEWORK, ?framework= on the site
    label: str  # what readers see (tab labels, tables)
    module: str  # the d2l_bn submodule, and the pip extra, that implement it
    environment: str = ".venv"  # its environment in the course's repository


FRAMEWORK_INFO = (
    Framework("mxnet", "MXNet", "mxnet", ".venv-mxnet"),
    Framework("pytorch", "PyTorch", "torch"),
    Framework("tensorflow", "TensorFlow", "tensorflow"),
    Framework("jax", "JAX", "jax"),
)
"""Every framework, in the order used everywhere (tabs, notebooks, tables)."""

FRAMEWORKS = tuple(f.name for f in FRAMEWORK_INFO)
BACKEND_MODULES = {f.name: f.module for f in FRAMEWORK_INFO}
LABELS = {f.name: f.label for f in FRAMEWORK_INFO}


@contextlib.contextmanager
def framework_imports(module: str):
    """Around a backend's framework imports: a missing framework is one clear error
    naming the pip extra (and the repository's environment) that provides it."""
    try:
        yield
    except ImportError as err:
        fw = next(f for f in FRAMEWORK_INFO if f.module == module)
        numpy = " (MXNet 1.9 needs numpy<2: give it an environment of its own)" \
            if fw.name == "mxnet" else ""
        raise ModuleNotFoundError(
            f"d2l_bn.{module} needs {fw.label}, which does not import here ({err}). Install "
            f"it with `pip install \"d2l_bn[{module}]\"`{numpy}; in the course's repository, "
            f"run this with {fw.environment}'s Python (`make setup` builds it).",
            name=err.name) from err
