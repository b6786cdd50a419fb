"""TensorFlow / Keras 3 adapter: the same small functions as ``fw_torch`` and ``fw_mxnet``.

Images are NHWC here. Two modes: ``eager`` runs Python op by op; ``tf.function`` traces
the step once into a graph (the trace happens in the warm-up, outside the timing).
TensorFlow executes eagerly-called ops and tf.function calls synchronously on the CPU,
so reading one value at the end is enough synchronization.
"""

from __future__ import annotations

import os
import time

import numpy as np

# isort: off
from d2l_bn import tensorflow as d2l  # first: it imports TensorFlow with its logging quiet
import keras
import tensorflow as tf
# isort: on

from .timing import per_call

NAME = "tensorflow"
LAYOUT = "NHWC"
MODES = ("eager", "tf.function")

RAW_LOOP = ("numpy permutation per epoch; tf.convert_to_tensor(np.take(X, idx, axis=0)) and the same for y; one "
            "@tf.function step (GradientTape, model(X, training=True), mean sparse softmax "
            "cross-entropy, keras SGD apply_gradients) traced once in the warm-up; "
            "float(loss) once after the last step")
RAW_SYNCED = "the raw loop plus float(loss) after every step"
STEP = ("fixed pre-converted batch; GradientTape, model(X, training=True), mean sparse "
        "softmax cross-entropy, keras SGD apply_gradients; eager, or the same function "
        "under @tf.function (traced in the warm-up)")
LAYER = ("GradientTape: layer(x, training=True), tape.gradient(y, [x, gamma, beta], "
         "output_gradients=upstream) with a fixed random upstream gradient; eager, or the "
         "same function under @tf.function (traced in the warm-up); input NHWC")


def versions() -> dict:
    return {"tensorflow": tf.__version__, "keras": keras.__version__,
            "backend": keras.backend.backend()}


def threads() -> dict:
    return {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
            "note": "0 = TensorFlow's default (all cores)",
            "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset")}


def _build(model, X_np: np.ndarray):
    model(tf.convert_to_tensor(X_np[:2]), training=False)  # creates the weights only
    d2l.init_cnn(model)
    return model


def _loss(logits, y):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                        logits=logits))


def _sgd_step(model, lr: float):
    optimizer = keras.optimizers.SGD(learning_rate=lr)
    variables = model.trainable_variables
    optimizer.build(variables)

    def step(X, y):
        with tf.GradientTape() as tape:
            loss = _loss(model(X, training=True), y)
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return loss

    return step


def raw_epoch_side(chapter, data, lr: float, sync_every_step: bool):
    """One epoch of a minimal hand-written loop (tf.function step) over numpy arrays."""
    X_all, y_all, bs = data.train_X, data.train_y, data.batch_size
    model = _build(chapter.LeNetBN(lr=lr), X_all)
    step = tf.function(_sgd_step(model, lr))

    def epoch() -> float:
        start = time.perf_counter()
        order = np.random.permutation(len(y_all))
        for i in range(0, len(y_all), bs):
            idx = order[i:i + bs]
            loss = step(tf.convert_to_tensor(np.take(X_all, idx, axis=0)),
                        tf.convert_to_tensor(np.take(y_all, idx, axis=0)))
            if sync_every_step:
                float(loss)
        float(loss)
        return time.perf_counter() - start

    return epoch


def lenet_step_sides(chapter, X_np, y_np, lr: float, mode: str, steps: int) -> dict:
    """One SGD step on a fixed batch: LeNetBNScratch vs LeNetBN (seconds per step)."""
    X, y = tf.convert_to_tensor(X_np), tf.convert_to_tensor(y_np)
    sides = {}
    for name, cls in (("scratch", chapter.LeNetBNScratch), ("builtin", chapter.LeNetBN)):
        step = _sgd_step(_build(cls(lr=lr), X_np), lr)
        if mode == "tf.function":
            step = tf.function(step)
        sides[name] = per_call(lambda step=step: step(X, y), steps, sync=_sync)
    return sides


def bn_layer_sides(chapter, shape: tuple[int, ...], mode: str, calls: int) -> dict:
    """Forward+backward of the chapter's BatchNorm vs keras BatchNormalization."""
    nhwc = shape if len(shape) == 2 else (shape[0], shape[2], shape[3], shape[1])
    rng = np.random.default_rng(0)
    x = tf.convert_to_tensor(rng.standard_normal(nhwc, dtype=np.float32))
    upstream = tf.convert_to_tensor(rng.standard_normal(nhwc, dtype=np.float32))
    channels = nhwc[-1]
    layers = {"scratch": chapter.BatchNorm(channels, num_dims=len(nhwc)),
              "builtin": keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)}
    sides = {}
    for name, layer in layers.items():
        layer(x, training=False)  # builds the weights eagerly, updates nothing
        call = _forward_backward(layer)
        if mode == "tf.function":
            call = tf.function(call)
        sides[name] = per_call(lambda call=call: call(x, upstream), calls, sync=_sync)
    return sides


def _forward_backward(layer):
    def call(x, upstream):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
        return tape.gradient(y, [x, *layer.trainable_variables], output_gradients=upstream)

    return call


def broadcast_sides(shape: tuple[int, ...], mode: str, calls: int) -> dict:
    """x - m forward and backward (gradients for x and m), m of x's shape vs (1, 1, 1, C).

    ``shape`` is given as (N, C, H, W); the tensors are NHWC.
    """
    nhwc = (shape[0], shape[2], shape[3], shape[1])
    rng = np.random.default_rng(0)
    x = tf.convert_to_tensor(rng.standard_normal(nhwc, dtype=np.float32))
    upstream = tf.convert_to_tensor(rng.standard_normal(nhwc, dtype=np.float32))

    def call(x, m):
        with tf.GradientTape() as tape:
            tape.watch([x, m])
            y = x - m
        return tape.gradient(y, [x, m], output_gradients=upstream)

    if mode == "tf.function":
        call = tf.function(call)
    sides = {}
    for name, m_shape in (("same_shape", nhwc), ("broadcast", (1, 1, 1, nhwc[-1]))):
        m = tf.convert_to_tensor(rng.standard_normal(m_shape, dtype=np.float32))
        sides[name] = per_call(lambda m=m: call(x, m), calls, sync=_sync)
    return sides


def matmul_side(n: int):
    """float32 n x n matrix product with tf.linalg.matmul (seconds per product)."""
    rng = np.random.default_rng(0)
    a = tf.convert_to_tensor(rng.standard_normal((n, n), dtype=np.float32))
    b = tf.convert_to_tensor(rng.standard_normal((n, n), dtype=np.float32))
    return per_call(lambda: tf.linalg.matmul(a, b), 1, sync=_sync)


def _sync(result) -> None:
    first = result[0] if isinstance(result, (tuple, list)) else result
    float(tf.reshape(first, [-1])[0])
