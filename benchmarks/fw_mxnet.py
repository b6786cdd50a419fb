"""MXNet (Gluon) adapter: the same small names as ``fw_torch`` and ``fw_tensorflow``.

MXNet queues operations on an asynchronous engine and returns at once, so ``sync``
waits for all of them (``mx.nd.waitall()``), inside the timing. Everything runs
imperatively (NDArray, Gluon blocks not hybridized), as in the chapter; this backend's
single mode is called ``eager`` in the results, to line up with the others.
"""

from __future__ import annotations

import numpy as np

# isort: off
from d2l_bn import mxnet as d2l  # first: it makes MXNet 1.9.1 importable on numpy 1.26
import mxnet as mx
from mxnet import autograd, gluon
# isort: on

LAYOUT = "NCHW"
MODES = ("eager",)
LOOP_MODE = "eager"  # the mode of the raw training loop (and of d2l's Trainer)
RAW_LOOP = ("numpy permutation per epoch; mx.nd.array(np.take(X, idx, axis=0)) and the same "
            "for y; autograd.record(): SoftmaxCrossEntropyLoss(model(X), y); "
            "loss.backward(); gluon.Trainer.step(batch_size); no host read per step (the "
            "engine runs asynchronously), mx.nd.waitall() once after the last step")

to_tensor = mx.nd.array


def sync(_result) -> None:
    """Wait until the engine has run everything queued."""
    mx.nd.waitall()


def build(model: gluon.Block, X: np.ndarray) -> gluon.Block:
    d2l.init_cnn(model)
    model(mx.nd.array(X[:2]))  # completes deferred shapes, prediction mode
    mx.nd.waitall()
    return model


def sgd_step(model: gluon.Block, lr: float, mode: str):
    """A function (X, y) -> loss doing one plain SGD step (training mode under record)."""
    trainer = gluon.Trainer(model.collect_params(), "sgd", {"learning_rate": lr})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()

    def step(X, y):
        with autograd.record():
            loss = loss_fn(model(X), y)
        loss.backward()
        trainer.step(X.shape[0])
        return loss

    return step


def builtin_bn(channels: int, num_dims: int) -> gluon.Block:
    return gluon.nn.BatchNorm(momentum=0.9, epsilon=1e-5, in_channels=channels)


def forward_backward(layer: gluon.Block, x: np.ndarray, upstream: np.ndarray, mode: str):
    """A call: layer(x) under autograd.record(), then y.backward(upstream)."""
    layer.initialize()
    x, upstream = mx.nd.array(x), mx.nd.array(upstream)
    x.attach_grad()

    def call():
        with autograd.record():
            y = layer(x)
        y.backward(upstream)

    return call
