"""MXNet (Gluon) backend: ``from d2l_bn import mxnet as d2l``.

MXNet 1.9.1, the last release, still refers to ``numpy.bool``. That alias was deprecated
in numpy 1.20 and removed in 1.24 (numpy 2 brought it back as ``numpy.bool_``), and
MXNet 1.9.1 requires numpy < 2. On numpy 1.24-1.26 parts of MXNet therefore fail with
``AttributeError: module 'numpy' has no attribute 'bool'``. The shim below restores the
alias (to the builtin ``bool``, which is what it always meant) before MXNet is imported.

In MXNet the mode is global: inside ``autograd.record()`` layers run in training mode
(``autograd.is_training()`` is True), outside it in prediction mode. The trainer records
every SGD step and validates outside ``record()``.
"""

from __future__ import annotations

import random
import warnings

import numpy as np

if "bool" not in vars(np):  # compatibility shim (see the module docstring); no FutureWarning
    np.bool = bool

from . import framework_imports
from .data import DatasetError, FashionMNISTBase
from .loop import FitResult, TrainerBase
from .plots import ProgressBoard, show
from .settings import smoke_mode

# MXNet 1.9.1 imports modules deprecated in Python 3.11
with warnings.catch_warnings(), framework_imports("mxnet"):
    warnings.simplefilter("ignore", DeprecationWarning)
    import mxnet as mx
    from mxnet import autograd, gluon

__all__ = ["Classifier", "DatasetError", "FashionMNIST", "FitResult", "ProgressBoard",
           "Trainer", "init_cnn", "set_seed", "show", "smoke_mode", "try_gpu"]


def set_seed(seed: int) -> None:
    """Seed Python, numpy (which shuffles the data) and MXNet."""
    random.seed(seed)
    np.random.seed(seed)
    mx.random.seed(seed)


def try_gpu(i: int = 0) -> mx.Context:
    """GPU ``i`` if it exists, else the CPU."""
    return mx.gpu(i) if mx.context.num_gpus() > i else mx.cpu()


class FashionMNIST(FashionMNISTBase):
    """Fashion-MNIST minibatches as MXNet NDArrays: images (N, 1, H, W), labels int64."""

    channels_last = False

    def to_tensor(self, array: np.ndarray) -> mx.nd.NDArray:
        return mx.nd.array(array, dtype=array.dtype)  # images float32, labels int64


def init_cnn(model: gluon.Block) -> None:
    """Xavier-uniform weights and zero biases for every convolution and dense layer.

    Parameters created with an explicit initializer (BN's gamma, beta and running
    statistics) keep it. Works before the first forward pass (deferred shapes).
    """
    model.initialize(mx.init.Xavier(), ctx=try_gpu(), force_reinit=True)


class Classifier(gluon.nn.Block):
    """Base for classification models: subclasses set ``self.net`` (or override forward)."""

    def __init__(self, lr: float = 0.1):
        super().__init__()
        self.lr = lr
        self._loss = gluon.loss.SoftmaxCrossEntropyLoss()

    def forward(self, X: mx.nd.NDArray) -> mx.nd.NDArray:
        return self.net(X)

    def cross_entropy(self, y_hat: mx.nd.NDArray, y: mx.nd.NDArray) -> mx.nd.NDArray:
        """The loss: mean softmax cross-entropy of logits ``y_hat`` against labels ``y``."""
        return self._loss(y_hat, y).mean()

    def accuracy(self, y_hat: mx.nd.NDArray, y: mx.nd.NDArray) -> mx.nd.NDArray:
        """Fraction of rows whose largest logit is the true label."""
        return (y_hat.argmax(axis=1) == y.astype(y_hat.dtype)).mean()

    def training_step(self, X: mx.nd.NDArray, y: mx.nd.NDArray):
        """(loss, accuracy) on a batch; the caller records it (training mode)."""
        y_hat = self(X)
        return self.cross_entropy(y_hat, y), self.accuracy(y_hat, y)

    def validation_step(self, X: mx.nd.NDArray, y: mx.nd.NDArray):
        """(loss, accuracy) on a batch; the caller runs it in prediction mode (outside
        ``autograd.record()``, or inside ``autograd.predict_mode()``)."""
        return self.training_step(X, y)

    def configure_optimizers(self) -> gluon.Trainer:
        return gluon.Trainer(self.collect_params(), "sgd", {"learning_rate": self.lr})


class Trainer(TrainerBase):
    """Plain minibatch SGD; steps inside ``autograd.record()``, validation outside it."""

    def build(self, model: Classifier, data: FashionMNIST) -> int:
        self.device = try_gpu()
        if not getattr(model, "_d2l_initialized", False):
            init_cnn(model)
            model._d2l_initialized = True
        X, _ = next(data.val_dataloader())
        with autograd.predict_mode():  # completes deferred shapes, changes nothing else
            outputs = model(X[:2].as_in_context(self.device)).shape[-1]
        return int(outputs)

    def prepare_steps(self, model: Classifier, data: FashionMNIST) -> None:
        self.optimizer = model.configure_optimizers()
        self._sums = mx.nd.zeros(2, ctx=self.device)  # summed loss, correct count

    def train_step(self, model, X, y):
        X, y = X.as_in_context(self.device), y.as_in_context(self.device)
        with autograd.record():  # training mode: autograd.is_training() is True
            loss, acc = model.training_step(X, y)
        loss.backward()
        self.optimizer.step(1)  # the loss is already a batch mean
        # Queued on MXNet's engine like the step itself: nothing here waits for it.
        self._sums += mx.nd.concat(loss.reshape(1), acc.reshape(1), dim=0) * y.shape[0]

    def pop_train_sums(self):
        loss_sum, correct = (float(v) for v in self._sums.asnumpy())
        self._sums[:] = 0
        return loss_sum, correct

    def eval_step(self, model, X, y):
        X, y = X.as_in_context(self.device), y.as_in_context(self.device)
        with autograd.predict_mode():
            loss, acc = model.validation_step(X, y)
        return loss.asscalar().item(), acc.asscalar().item() * y.shape[0]

    def set_prediction_mode(self, model):
        pass  # MXNet's mode is global: prediction everywhere outside autograd.record()

    def device_name(self) -> str:
        return str(self.device)
