"""One API in every framework: the same names, signatures and behaviour.

Where a framework forces a difference, the test states it (and CONTRIBUTING.md lists it):
``try_gpu`` returns the framework's own device object; ``init_cnn`` works before the
first forward pass in MXNet, whose Gluon defers weight creation, and in JAX, where Flax
creates the weights with the model, and raises a clear error elsewhere. JAX adds a few
names and one parameter for its explicit PRNG keys (``EXTRAS``: the only exceptions to
"the same names and signatures").

The frameworks live in two environments (``book.environments``), so the comparisons
across frameworks read each backend's public names, docstrings and signatures in its own
environment's Python (``describe`` runs ``tests/api_description.py``); the behaviour
tests run in-process, in each pass.
"""

from __future__ import annotations

import concurrent.futures
import functools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from api_description import SIGNATURES

from book import environments
from d2l_bn import BACKEND_MODULES, FRAMEWORK_INFO, FRAMEWORKS

REQUIRED = {"FashionMNIST", "Classifier", "Trainer", "ProgressBoard", "try_gpu",
            "init_cnn", "set_seed", "smoke_mode", "DatasetError", "FitResult"}
DESCRIBE = Path(__file__).with_name("api_description.py")
# The documented extras of a backend (CONTRIBUTING.md; d2l_bn/jax.py): JAX draws its random
# numbers from explicit PRNG keys, so it also exports the key stream that set_seed starts
# (next_key: build Flax models with nnx.Rngs(d2l.next_key())) and init_cnn takes an
# optional key.
# Extra parameters come last and have defaults, so a call that works elsewhere works here.
EXTRAS = {"jax": {"names": {"next_key"},
                  "parameters": {"init_cnn": [["key", "POSITIONAL_OR_KEYWORD", "None"]]}}}


@functools.cache
def describe(framework: str) -> dict:
    """A framework's backend described (``tests/api_description.py``) by its
    environment's Python."""
    done = subprocess.run([str(environments.python(framework)), str(DESCRIBE),
                           BACKEND_MODULES[framework]],
                          capture_output=True, text=True, cwd=environments.ROOT)
    assert done.returncode == 0, f"{framework}: {done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


# What a learner's notebook of one framework imports of d2l_bn, in lines (issue 28): the
# package is plumbing, so it stays small enough to read in one sitting.
LEARNER_LINES = 900


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_one_framework_imports_at_most_900_lines_of_the_package(framework):
    lines = describe(framework)["package_lines"]
    assert "d2l_bn.fetch" not in lines, "the download code loads only when a file is missing"
    assert "d2l_bn.data" in lines and f"d2l_bn.{BACKEND_MODULES[framework]}" in lines
    assert sum(lines.values()) <= LEARNER_LINES, lines


def extras(framework: str) -> dict:
    return EXTRAS.get(framework, {"names": set(), "parameters": {}})


def test_backends_export_the_same_public_names():
    # Each framework's description is a subprocess (mostly importing the framework): run
    # them side by side; describe() caches them for the other tests here.
    with concurrent.futures.ThreadPoolExecutor(len(FRAMEWORKS)) as pool:
        names = dict(zip(FRAMEWORKS, pool.map(lambda fw: set(describe(fw)["all"]), FRAMEWORKS)))
    reference = names["pytorch"]
    for fw, exported in names.items():
        assert exported == reference | extras(fw)["names"], (
            f"{fw} differs: {exported ^ (reference | extras(fw)['names'])}")
    assert REQUIRED <= reference
    assert not set().union(*(e["names"] for e in EXTRAS.values())) & reference  # extras only


def test_every_exported_name_exists_with_a_docstring():
    for fw in FRAMEWORKS:
        assert describe(fw)["undocumented"] == [], f"{fw}: names without a docstring"


@pytest.mark.parametrize("name, method", SIGNATURES)
def test_signatures_agree_across_frameworks(name, method):
    reference = describe("pytorch")["signatures"][f"{name}.{method}"]
    qualified = f"{name}.{method}" if method else name
    for fw in FRAMEWORKS:
        expected = reference + extras(fw)["parameters"].get(qualified, [])
        assert describe(fw)["signatures"][f"{name}.{method}"] == expected, (fw, name, method)


def test_extras_name_real_signatures():
    """Every allowed extra parameter belongs to a compared signature (no stale entry)."""
    compared = {f"{name}.{method}" if method else name for name, method in SIGNATURES}
    for extra in EXTRAS.values():
        assert set(extra["parameters"]) <= compared


def test_try_gpu_returns_the_framework_device_naming_the_cpu_here(d2l):
    assert "cpu" in str(d2l.try_gpu()).lower()  # no GPU on the test machine
    assert "cpu" in str(d2l.try_gpu(7)).lower()  # a GPU that does not exist: the CPU


def lenet_like(framework, d2l):
    """A small convolutional classifier with lazily sized layers where the framework has them."""
    if framework == "pytorch":
        from torch import nn
        net = nn.Sequential(nn.LazyConv2d(4, 5), nn.Flatten(), nn.LazyLinear(10))
    elif framework == "tensorflow":
        import keras
        net = keras.Sequential([keras.layers.Conv2D(4, 5), keras.layers.Flatten(),
                                keras.layers.Dense(10)])
    elif framework == "jax":  # Flax has no lazily sized layers: 28 x 28 inputs
        from flax import nnx
        rngs = nnx.Rngs(d2l.next_key())
        net = nnx.Sequential(nnx.Conv(1, 4, kernel_size=(5, 5), padding="VALID", rngs=rngs),
                             lambda X: X.reshape(X.shape[0], -1),
                             nnx.Linear(24 * 24 * 4, 10, rngs=rngs))
    else:
        from mxnet.gluon import nn
        net = nn.Sequential()
        net.add(nn.Conv2D(4, 5), nn.Flatten(), nn.Dense(10))

    class Small(d2l.Classifier):
        def __init__(self):
            super().__init__(lr=0.1)
            self.net = net

    return Small()


def test_init_cnn_before_the_first_batch(framework, d2l):
    model = lenet_like(framework, d2l)
    if framework == "mxnet":
        d2l.init_cnn(model)  # Gluon creates the weights later, with this initializer
    elif framework == "jax":
        kernel = model.net.layers[0].kernel
        before = np.array(kernel[...])
        d2l.init_cnn(model)  # Flax created the weights with the model: overwritten now
        assert not np.array_equal(before, np.asarray(kernel[...]))
        assert not np.asarray(model.net.layers[0].bias[...]).any()  # zero biases
    else:
        with pytest.raises(ValueError, match="run one batch through it first|call it on one"):
            d2l.init_cnn(model)


def first_weights(framework, d2l, seed):
    """The first convolution's initial weights after ``set_seed`` and a Trainer.prepare."""
    d2l.set_seed(seed)
    model = lenet_like(framework, d2l)
    d2l.Trainer(max_epochs=1).prepare(model, d2l.FashionMNIST(batch_size=16))
    if framework == "pytorch":
        return model.net[0].weight.detach().numpy().copy()
    if framework == "tensorflow":
        return model.net.layers[0].kernel.numpy().copy()
    if framework == "jax":
        return np.array(model.net.layers[0].kernel[...])
    return model.net[0].weight.data().asnumpy().copy()


def test_set_seed_makes_initialization_and_shuffling_repeatable(framework, d2l, smoke):
    np.testing.assert_array_equal(first_weights(framework, d2l, 3),
                                  first_weights(framework, d2l, 3))
    assert not np.array_equal(first_weights(framework, d2l, 3),
                              first_weights(framework, d2l, 4))
    data = d2l.FashionMNIST(batch_size=16)
    orders = []
    for _ in range(2):
        d2l.set_seed(5)
        _, y = next(data.train_dataloader())
        orders.append(np.asarray(y.asnumpy() if hasattr(y, "asnumpy") else y))
    np.testing.assert_array_equal(*orders)


def test_import_d2l_bn_loads_no_framework():
    code = ("import sys, d2l_bn, d2l_bn.data, d2l_bn.loop, d2l_bn.plots, d2l_bn.settings; "
            "print([m for m in ('torch', 'tensorflow', 'mxnet', 'keras', 'jax', 'flax', "
            "'optax', 'book', 'pooch') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


@pytest.mark.parametrize("info", FRAMEWORK_INFO, ids=lambda f: f.name)
def test_a_missing_framework_names_what_provides_it(info):
    """Fault injection: the framework's module blocked (as if not installed)."""
    code = (f"import sys; sys.modules[{info.module!r}] = None\n"
            f"from d2l_bn import {info.module}")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=environments.ROOT)
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"ModuleNotFoundError: d2l_bn.{info.module} needs {info.label}")
    assert f'pip install "d2l_bn[{info.module}]"' in last and info.environment in last
    assert ("numpy<2" in last) == (info.name == "mxnet")
