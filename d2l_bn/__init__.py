"""Helpers for the multi-framework batch-normalization course.

Pick a framework with one import line; every backend exports the same names::

    from d2l_bn import torch as d2l        # or: tensorflow, mxnet

Importing ``d2l_bn`` itself loads no deep-learning framework: the framework-free
pieces (data files, plotting, the training-loop skeleton, smoke mode) live in
``d2l_bn.data``, ``d2l_bn.board`` and ``d2l_bn.loop``.
"""

__version__ = "0.1.0"

FRAMEWORKS = ("mxnet", "pytorch", "tensorflow")
"""Framework names as used in cell tags, notebook names and ``D2L_BN_FRAMEWORK``."""

BACKEND_MODULES = {"mxnet": "mxnet", "pytorch": "torch", "tensorflow": "tensorflow"}
"""Framework name -> the ``d2l_bn`` submodule that implements it."""
