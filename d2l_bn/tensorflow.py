"""TensorFlow / Keras 3 backend: ``from d2l_bn import tensorflow as d2l``.

Keras's ``BatchNormalization`` uses batch statistics only when called with
``training=True``: the trainer passes it for every SGD step and ``training=False`` for
evaluation (an earlier edition of the book left it out, so BN never left inference mode).
"""

from __future__ import annotations

import contextlib
import os
import sys

import numpy as np

from . import framework_imports
from .data import DatasetError, FashionMNISTBase
from .loop import FitResult, TrainerBase
from .plots import ProgressBoard, show
from .settings import smoke_mode


@contextlib.contextmanager
def _native_stderr_silenced():
    """Discard what C++ writes to file descriptor 2 meanwhile: TensorFlow's start-up
    notices (absl, oneDNN), which ignore ``TF_CPP_MIN_LOG_LEVEL`` and would show in the
    importing cell's output. Python exceptions still propagate."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no INFO/WARNING lines from C++ later on
with _native_stderr_silenced(), framework_imports("tensorflow"):
    import keras
    import tensorflow as tf

__all__ = ["Classifier", "DatasetError", "FashionMNIST", "FitResult", "ProgressBoard",
           "Trainer", "init_cnn", "set_seed", "show", "smoke_mode", "try_gpu"]


def set_seed(seed: int) -> None:
    """Seed Python, numpy (which shuffles the data), TensorFlow and Keras."""
    keras.utils.set_random_seed(seed)


def try_gpu(i: int = 0) -> str:
    """Device string of GPU ``i`` if it exists, else the CPU."""
    return f"/GPU:{i}" if len(tf.config.list_physical_devices("GPU")) > i else "/CPU:0"


class FashionMNIST(FashionMNISTBase):
    """Fashion-MNIST minibatches as TensorFlow tensors: images (N, H, W, 1), labels int64."""

    channels_last = True

    def to_tensor(self, array: np.ndarray) -> tf.Tensor:
        return tf.convert_to_tensor(array)


def _sublayers(layer: keras.layers.Layer):
    """Every layer nested in ``layer`` (through the public ``layers`` lists)."""
    for sub in getattr(layer, "layers", []):
        yield sub
        yield from _sublayers(sub)


def init_cnn(model: keras.Model) -> None:
    """Xavier-uniform kernels and zero biases for every convolution and dense layer (the
    weights exist after the model's first call, which ``Trainer.fit`` makes)."""
    xavier = keras.initializers.GlorotUniform()
    layers = [layer for layer in _sublayers(model)
              if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))]
    if not model.built or not all(layer.built for layer in layers):
        raise ValueError("init_cnn: the model's weights do not exist yet; call it on one "
                         "batch first (Trainer.fit does this).")
    for layer in layers:
        layer.kernel.assign(xavier(layer.kernel.shape))
        if layer.bias is not None:
            layer.bias.assign(tf.zeros_like(layer.bias))


class Classifier(keras.Model):
    """Base for classification models: subclasses set ``self.net`` (or override call)."""

    def __init__(self, lr: float = 0.1):
        super().__init__()
        self.lr = lr

    def call(self, X: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        return self.net(X, training=training)

    def cross_entropy(self, y_hat: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        """The loss: mean softmax cross-entropy of logits ``y_hat`` against labels ``y``."""
        return tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=y_hat))

    def accuracy(self, y_hat: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        """Fraction of rows whose largest logit is the true label."""
        return tf.reduce_mean(tf.cast(tf.argmax(y_hat, axis=1) == y, tf.float32))

    def training_step(self, X: tf.Tensor, y: tf.Tensor):
        """(loss, accuracy) on a batch, with the model called with ``training=True``."""
        y_hat = self(X, training=True)
        return self.cross_entropy(y_hat, y), self.accuracy(y_hat, y)

    def validation_step(self, X: tf.Tensor, y: tf.Tensor):
        """(loss, accuracy) on a batch, with the model called with ``training=False``."""
        y_hat = self(X, training=False)
        return self.cross_entropy(y_hat, y), self.accuracy(y_hat, y)

    def configure_optimizers(self) -> keras.optimizers.Optimizer:
        return keras.optimizers.SGD(learning_rate=self.lr)


class Trainer(TrainerBase):
    """Plain minibatch SGD with compiled (``tf.function``) training and validation steps."""

    def build(self, model: Classifier, data: FashionMNIST) -> int:
        self.device = try_gpu()
        X, _ = next(data.val_dataloader())
        outputs = model(X[:2], training=False).shape[-1]  # creates the weights if needed
        if not getattr(model, "_d2l_initialized", False):
            init_cnn(model)
            model._d2l_initialized = True
        return int(outputs)

    def prepare_steps(self, model: Classifier, data: FashionMNIST) -> None:
        X, y = next(data.val_dataloader())  # an example batch: shapes and dtypes
        self.optimizer = model.configure_optimizers()
        self.optimizer.build(model.trainable_variables)
        self._sums = tf.Variable(tf.zeros(2), trainable=False)  # summed loss, correct count

        def sgd_step(X, y):
            with tf.GradientTape() as tape:
                loss, acc = model.training_step(X, y)
            grads = tape.gradient(loss, model.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, model.trainable_variables))
            self._sums.assign_add(tf.stack([loss, acc]) * tf.cast(tf.shape(y)[0], tf.float32))

        # One signature with an unknown batch size: the last, smaller batch of an epoch
        # reuses the same graph. Tracing here keeps tracing out of the timed steps.
        spec = (tf.TensorSpec([None, *X.shape[1:]], X.dtype), tf.TensorSpec([None], y.dtype))
        self._sgd_step = tf.function(sgd_step, input_signature=spec)
        self._eval_step = tf.function(model.validation_step, input_signature=spec)
        self._sgd_step.get_concrete_function()
        self._eval_step.get_concrete_function()

    def train_step(self, model, X, y):
        with tf.device(self.device):
            self._sgd_step(X, y)

    def pop_train_sums(self):
        loss_sum, correct = (float(v) for v in self._sums.numpy())
        self._sums.assign(tf.zeros(2))
        return loss_sum, correct

    def eval_step(self, model, X, y):
        with tf.device(self.device):
            loss, acc = self._eval_step(X, y)
        return float(loss), float(acc) * int(y.shape[0])

    def set_prediction_mode(self, model):
        pass  # Keras keeps no mode on the model: every call passes ``training``

    def device_name(self) -> str:
        return self.device
