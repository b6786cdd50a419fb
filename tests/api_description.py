"""What the API tests compare across frameworks, read in a backend's own environment.

The frameworks live in two environments (``book.environments``), so ``tests/test_api.py``
runs this file as a script with each environment's Python::

    .venv-mxnet/bin/python tests/api_description.py mxnet

and reads the JSON it prints: the backend's public names, those without a docstring,
the parameters of every signature in ``SIGNATURES``, and the lines of each ``d2l_bn``
module that importing the backend loads. It imports only ``d2l_bn``.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from pathlib import Path

# (object, method) pairs whose parameters must agree across frameworks
SIGNATURES = [("FashionMNIST", "__init__"), ("Trainer", "__init__"), ("Trainer", "fit"),
              ("Trainer", "fit_epoch"), ("Trainer", "evaluate"), ("Trainer", "prepare"),
              ("Classifier", "__init__"), ("Classifier", "cross_entropy"),
              ("Classifier", "accuracy"), ("Classifier", "training_step"),
              ("Classifier", "validation_step"), ("Classifier", "configure_optimizers"),
              ("init_cnn", None), ("set_seed", None), ("try_gpu", None)]


def parameters(module, name: str, method: str | None) -> list[list[str]]:
    """Parameter names, kinds and defaults (annotations name framework types; ignored)."""
    obj = getattr(module, name)
    func = getattr(obj, method) if method else obj
    return [[p.name, p.kind.name, repr(p.default)]
            for p in inspect.signature(func).parameters.values()]


def describe_backend(module_name: str) -> dict:
    """What the comparisons need from ``d2l_bn.<module_name>``, as JSON-ready data."""
    module = importlib.import_module(f"d2l_bn.{module_name}")
    return {"all": sorted(module.__all__),
            "undocumented": [n for n in module.__all__ if not getattr(module, n).__doc__],
            "signatures": {f"{name}.{method}": parameters(module, name, method)
                           for name, method in SIGNATURES},
            "package_lines": {name: len(Path(loaded.__file__).read_text().splitlines())
                              for name, loaded in sys.modules.items()
                              if name.split(".")[0] == "d2l_bn"}}


if __name__ == "__main__":
    print(json.dumps(describe_backend(sys.argv[1])))
