"""JAX (Flax NNX) adapter (the names of ``benchmarks.worker``). NHWC; one mode, ``jit``
(compiled in the warm-up); dispatch is asynchronous, so ``sync`` blocks on the result."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from d2l_bn import jax as d2l

LAYOUT = "NHWC"
MODES = ("jit",)
LOOP_MODE = "jit"  # the mode of the raw training loop (and of d2l's Trainer)
RAW_LOOP = ("np.take batches, jnp.asarray; one jitted pure step on the nnx.split state "
            "(nnx.value_and_grad, params - lr * grads); block_until_ready after the last step")


def to_tensor(array: np.ndarray) -> jax.Array:
    return jnp.asarray(array.astype(np.int32) if array.dtype == np.int64 else array)


def sync(result) -> None:
    """Wait until ``result`` (an array or a pytree of them) is computed."""
    jax.block_until_ready(result)


def build(model: nnx.Module, X: np.ndarray) -> nnx.Module:
    """Initialized weights (Flax builds them with the model), training mode."""
    d2l.init_cnn(model)
    model.train()
    return model


def sgd_step(model: nnx.Module, lr: float, mode: str):
    """(X, y) -> loss: one plain SGD step, jitted; the state lives in the closure, as a
    raw loop would keep it (``model`` itself is not updated)."""
    graphdef, state = nnx.split(model)

    @jax.jit
    def step(state, X, y):
        net = nnx.merge(graphdef, state)
        net.train()

        def loss_fn(net):
            logits = net(X)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        loss, grads = nnx.value_and_grad(loss_fn)(net)  # gradients of the nnx.Params
        params = nnx.state(net, nnx.Param)
        nnx.update(net, jax.tree.map(lambda p, g: p - lr * g, params, grads))
        return nnx.state(net), loss

    box = {"state": state}

    def call(X, y):
        box["state"], loss = step(box["state"], X, y)
        return loss

    return call


def builtin_bn(channels: int, num_dims: int) -> nnx.Module:
    return nnx.BatchNorm(channels, momentum=0.9, epsilon=1e-5, rngs=nnx.Rngs(0))


def forward_backward(layer: nnx.Module, x: np.ndarray, upstream: np.ndarray, mode: str):
    """A call: layer(x) in training mode, then gradients of x and the parameters."""
    layer.train()
    graphdef, state = nnx.split(layer)
    x, upstream = jnp.asarray(x), jnp.asarray(upstream)

    @jax.jit
    def call(x, state, upstream):
        net = nnx.merge(graphdef, state)

        def weighted(x, net):  # its gradient is the vector-Jacobian product with upstream
            return jnp.sum(net(x) * upstream)

        return nnx.grad(weighted, argnums=(0, 1))(x, net)  # of x, and of gamma and beta

    return lambda: call(x, state, upstream)
