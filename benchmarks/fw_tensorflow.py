"""TensorFlow / Keras 3 adapter: the same small names as ``fw_torch`` and ``fw_mxnet``,
and ``Trainer``, d2l's with a warm-up that keeps graph optimization out of its timing.

Images are NHWC here. Two modes: ``eager`` runs Python op by op; ``tf.function`` traces
the call once into a graph (in the warm-up, outside the timing). TensorFlow runs eager
ops and tf.function calls synchronously on the CPU, so reading one value at the end is
enough synchronization.
"""

from __future__ import annotations

import numpy as np

# isort: off
from d2l_bn import tensorflow as d2l  # first: it imports TensorFlow with its logging quiet
import keras
import tensorflow as tf
# isort: on

LAYOUT = "NHWC"
MODES = ("eager", "tf.function")
LOOP_MODE = "tf.function"  # the mode of the raw training loop (and of d2l's Trainer)
RAW_LOOP = ("numpy permutation per epoch; tf.convert_to_tensor(np.take(X, idx, axis=0)) and "
            "the same for y; one @tf.function step (GradientTape, model(X, training=True), "
            "mean sparse softmax cross-entropy, keras SGD apply_gradients) traced once in "
            "the warm-up; float(loss) once after the last step")

to_tensor = tf.convert_to_tensor


class Trainer(d2l.Trainer):
    """``d2l.Trainer`` that also runs its compiled step once in ``prepare`` and undoes it:
    TensorFlow optimizes a graph on its first call, which would otherwise land in the
    first timed step of every measured ``fit``."""

    def prepare_steps(self, model: keras.Model, data) -> None:
        super().prepare_steps(model, data)
        X, y = next(data.val_dataloader())
        state = [*model.variables, *self.optimizer.variables, self._sums]
        saved = [v.numpy() for v in state]
        self.train_step(model, X, y)
        for variable, value in zip(state, saved, strict=True):
            variable.assign(value)


def sync(result) -> None:
    """Read one value of ``result`` (a tensor or a list of them)."""
    first = result[0] if isinstance(result, (tuple, list)) else result
    float(tf.reshape(first, [-1])[0])


def build(model: keras.Model, X: np.ndarray) -> keras.Model:
    model(tf.convert_to_tensor(X[:2]), training=False)  # creates the weights only
    d2l.init_cnn(model)
    return model


def _compiled(fn, mode: str):
    return tf.function(fn) if mode == "tf.function" else fn


def sgd_step(model: keras.Model, lr: float, mode: str):
    """A function (X, y) -> loss doing one plain SGD step, eager or under tf.function."""
    optimizer = keras.optimizers.SGD(learning_rate=lr)
    variables = model.trainable_variables
    optimizer.build(variables)

    def step(X, y):
        with tf.GradientTape() as tape:
            logits = model(X, training=True)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    return _compiled(step, mode)


def builtin_bn(channels: int, num_dims: int) -> keras.layers.Layer:
    return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)


def forward_backward(layer, x: np.ndarray, upstream: np.ndarray, mode: str):
    """A call: layer(x, training=True), then gradients of x, gamma and beta."""
    x, upstream = tf.convert_to_tensor(x), tf.convert_to_tensor(upstream)
    layer(x, training=False)  # builds the weights, updates nothing

    def call(x, upstream):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
        return tape.gradient(y, [x, *layer.trainable_variables], output_gradients=upstream)

    call = _compiled(call, mode)
    return lambda: call(x, upstream)
