"""MXNet (Gluon) adapter (the names of ``benchmarks.worker``). The engine is asynchronous:
``sync`` waits for everything queued (``mx.nd.waitall()``). Imperative, not hybridized,
as in the chapter: its one mode is called ``eager``."""

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
RAW_LOOP = ("np.take batches, mx.nd.array; autograd.record(), SoftmaxCrossEntropyLoss, "
            "backward, gluon.Trainer.step; mx.nd.waitall() after the last step")

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
