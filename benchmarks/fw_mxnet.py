"""MXNet (Gluon) adapter: the same small functions as ``fw_torch`` and ``fw_tensorflow``.

MXNet queues operations on an asynchronous engine and returns at once, so every timed
loop ends with ``mx.nd.waitall()`` inside the timing. Everything runs imperatively
(NDArray, Gluon blocks not hybridized), as in the chapter: the scratch BatchNorm is a
plain Block, and the chapter's LeNetBN uses a plain Sequential too. This backend's
single mode is called ``eager`` in the results, to line up with the others.
"""

from __future__ import annotations

import os
import time

import numpy as np

# isort: off
from d2l_bn import mxnet as d2l  # first: it makes MXNet 1.9.1 importable on numpy 1.26
import mxnet as mx
from mxnet import autograd, gluon
# isort: on

from .timing import per_call

NAME = "mxnet"
LAYOUT = "NCHW"
MODES = ("eager",)

RAW_LOOP = ("numpy permutation per epoch; mx.nd.array(np.take(X, idx, axis=0)) and the same for y; "
            "autograd.record(): SoftmaxCrossEntropyLoss(model(X), y); loss.backward(); "
            "gluon.Trainer.step(batch_size); no host read per step (the engine runs "
            "asynchronously), mx.nd.waitall() once after the last step")
RAW_SYNCED = "the raw loop plus loss.mean().asscalar() after every step (waits for the step)"
STEP = ("fixed pre-converted batch; autograd.record(): SoftmaxCrossEntropyLoss; "
        "loss.backward(); gluon.Trainer.step(batch_size); imperative (not hybridized); "
        "mx.nd.waitall() at the end of each sample")
LAYER = ("autograd.record(): y = layer(x); y.backward(upstream) with a fixed random "
         "upstream gradient (gradients of x, gamma, beta); imperative; "
         "mx.nd.waitall() at the end of each sample")


def versions() -> dict:
    features = mx.runtime.Features()
    return {"mxnet": mx.__version__, "mkldnn": features.is_enabled("MKLDNN")}


def threads() -> dict:
    return {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "unset (all cores)"),
            "MXNET_CPU_WORKER_NTHREADS": os.environ.get("MXNET_CPU_WORKER_NTHREADS",
                                                        "unset (1)")}


def _build(model, X_np: np.ndarray):
    d2l.init_cnn(model)
    model(mx.nd.array(X_np[:2]))  # completes deferred shapes, prediction mode
    mx.nd.waitall()
    return model


def raw_epoch_side(chapter, data, lr: float, sync_every_step: bool):
    """One epoch of a minimal hand-written loop over ``data``'s numpy arrays."""
    X_all, y_all, bs = data.train_X, data.train_y, data.batch_size
    model = _build(chapter.LeNetBN(lr=lr), X_all)
    trainer = gluon.Trainer(model.collect_params(), "sgd", {"learning_rate": lr})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()

    def epoch() -> float:
        start = time.perf_counter()
        order = np.random.permutation(len(y_all))
        for i in range(0, len(y_all), bs):
            idx = order[i:i + bs]
            X = mx.nd.array(np.take(X_all, idx, axis=0))
            y = mx.nd.array(np.take(y_all, idx, axis=0))
            with autograd.record():
                loss = loss_fn(model(X), y)
            loss.backward()
            trainer.step(len(idx))
            if sync_every_step:
                loss.mean().asscalar()
        mx.nd.waitall()
        return time.perf_counter() - start

    return epoch


def lenet_step_sides(chapter, X_np, y_np, lr: float, mode: str, steps: int) -> dict:
    """One SGD step on a fixed batch: LeNetBNScratch vs LeNetBN (seconds per step)."""
    X, y = mx.nd.array(X_np), mx.nd.array(y_np)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    sides = {}
    for name, cls in (("scratch", chapter.LeNetBNScratch), ("builtin", chapter.LeNetBN)):
        model = _build(cls(lr=lr), X_np)
        trainer = gluon.Trainer(model.collect_params(), "sgd", {"learning_rate": lr})

        def step(model=model, trainer=trainer):
            with autograd.record():
                loss = loss_fn(model(X), y)
            loss.backward()
            trainer.step(X.shape[0])

        sides[name] = per_call(step, steps, sync=_sync)
    return sides


def bn_layer_sides(chapter, shape: tuple[int, ...], mode: str, calls: int) -> dict:
    """Forward+backward of the chapter's BatchNorm vs gluon.nn.BatchNorm."""
    rng = np.random.default_rng(0)
    x = mx.nd.array(rng.standard_normal(shape, dtype=np.float32))
    x.attach_grad()
    upstream = mx.nd.array(rng.standard_normal(shape, dtype=np.float32))
    channels = shape[1]
    layers = {"scratch": chapter.BatchNorm(channels, num_dims=len(shape)),
              "builtin": gluon.nn.BatchNorm(momentum=0.9, epsilon=1e-5,
                                            in_channels=channels)}
    sides = {}
    for name, layer in layers.items():
        layer.initialize()

        def call(layer=layer):
            with autograd.record():
                y = layer(x)
            y.backward(upstream)

        sides[name] = per_call(call, calls, sync=_sync)
    return sides


def broadcast_sides(shape: tuple[int, ...], mode: str, calls: int) -> dict:
    """x - m forward and backward (gradients for x and m), m of x's shape vs (1, C, 1, 1)."""
    rng = np.random.default_rng(0)
    x = mx.nd.array(rng.standard_normal(shape, dtype=np.float32))
    x.attach_grad()
    upstream = mx.nd.array(rng.standard_normal(shape, dtype=np.float32))
    sides = {}
    for name, m_shape in (("same_shape", shape), ("broadcast", (1, shape[1], 1, 1))):
        m = mx.nd.array(rng.standard_normal(m_shape, dtype=np.float32))
        m.attach_grad()

        def call(m=m):
            with autograd.record():
                y = x - m
            y.backward(upstream)

        sides[name] = per_call(call, calls, sync=_sync)
    return sides


def matmul_side(n: int):
    """float32 n x n matrix product with mx.nd.dot (seconds per product)."""
    rng = np.random.default_rng(0)
    a = mx.nd.array(rng.standard_normal((n, n), dtype=np.float32))
    b = mx.nd.array(rng.standard_normal((n, n), dtype=np.float32))
    return per_call(lambda: mx.nd.dot(a, b), 1, sync=_sync)


def _sync(_result) -> None:
    mx.nd.waitall()
