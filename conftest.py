"""Settings for every pytest session of the repository, whatever paths it collects.

pytest loads this file (at the root, next to pyproject.toml) before collecting anything,
for ``pytest``, ``pytest tests/...`` and ``pytest chapters/<framework>`` alike; the test
machinery proper is in ``tests/conftest.py``. Both settings go into the environment,
before any test or notebook kernel starts, so that the kernels nbval starts inherit them.
An explicit value in the environment wins.

* Smoke mode (``D2L_BN_SMOKE=1``): every notebook (through nbval) and every training test
  runs tiny subsets for one epoch, which is what the suite is sized for; set
  ``D2L_BN_SMOKE=0`` for full runs.
* JAX's persistent compilation cache, in ``test-output/jax-cache`` (for test sessions
  only: the book's own runs do not set it). JAX compiles every jitted function, and every
  operation it runs eagerly, once per process; the cache keeps the compiled code on disk
  for the next process (notebook kernels, later sessions). All of it, not only what took
  JAX more than a second to compile (its default), since most of JAX's start-up time in
  the tests goes to many small compilations. The cache is keyed by the JAX version and
  the device, so stale entries are never used (``make clean`` removes test-output/).

It also chooses the kernel nbval runs each notebook in (its framework's; see
``pytest_collection_modifyitems`` below).
"""

from __future__ import annotations

import os
from pathlib import Path

from d2l_bn.settings import SMOKE_ENV

ROOT = Path(__file__).resolve().parent
JAX_CACHE = ROOT / "test-output" / "jax-cache"

os.environ.setdefault(SMOKE_ENV, "1")
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(JAX_CACHE))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")


def pytest_collection_modifyitems(config, items):
    """nbval starts the kernel a notebook names, the standard ``python3`` that every
    learner has; the suite runs each notebook in its framework's kernel instead
    (``d2l-bn-<framework>``: that framework's environment, ``book.environments``), by the
    notebook's ``metadata.d2l_bn.framework``. ``--nbval-kernel-name`` still overrides."""
    try:
        from nbval.plugin import IPyNbFile
    except ImportError:  # MXNet's environment runs no notebooks (and has no nbval)
        return
    from book.environments import kernel_name

    notebooks = {id(item.parent): item.parent for item in items
                 if isinstance(item.parent, IPyNbFile)}
    for notebook in notebooks.values():
        framework = notebook.nb.metadata.get("d2l_bn", {}).get("framework")
        if framework:
            notebook.nb.metadata["kernelspec"]["name"] = kernel_name(framework)
