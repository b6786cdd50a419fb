"""TensorFlow / Keras 3 adapter (the names of ``benchmarks.worker``, and a ``Trainer``
warmed up). NHWC. ``eager`` runs op by op, ``tf.function`` a graph traced in the warm-up;
both are synchronous on the CPU, so ``sync`` reads one value."""

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
RAW_LOOP = ("np.take batches, tf.convert_to_tensor; one @tf.function step (GradientTape, "
            "cross-entropy, keras SGD) traced in the warm-up; float(loss) after the last step")

to_tensor = tf.convert_to_tensor


class Trainer(d2l.Trainer):
    """``d2l.Trainer`` that runs its compiled step once in ``prepare`` and undoes it, so the
    graph's optimization on its first call stays out of the timed steps."""

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

    return tf.function(step) if mode == "tf.function" else step


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

    call = tf.function(call) if mode == "tf.function" else call
    return lambda: call(x, upstream)
