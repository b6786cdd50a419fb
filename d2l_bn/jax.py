"""JAX backend (Flax NNX): ``from d2l_bn import jax as d2l``.

Models are Flax NNX modules holding their parameters (``nnx.Param``) and running
statistics (``nnx.BatchStat``). The training step is pure under ``jax.jit``: it merges
the model's graph definition and arrays (``nnx.split``), trains in ``model.train()``
mode and returns the new arrays; the model is updated (``nnx.update``) after every
epoch. Weights are drawn from explicit keys, by default the stream ``set_seed`` starts
(``nnx.Rngs(next_key())``). Images are NHWC; labels int32.
"""

from __future__ import annotations

import functools
import random

import numpy as np

from . import framework_imports
from .data import DatasetError, FashionMNISTBase
from .loop import FitResult, TrainerBase
from .plots import ProgressBoard, show
from .settings import smoke_mode

with framework_imports("jax"):
    import jax
    import jax.numpy as jnp
    import optax
    from flax import nnx

__all__ = ["Classifier", "DatasetError", "FashionMNIST", "FitResult", "ProgressBoard", "Trainer",
           "init_cnn", "next_key", "set_seed", "show", "smoke_mode", "try_gpu"]

_stream = {"key": jax.random.key(0), "count": 0}  # the key stream set_seed starts


def set_seed(seed: int) -> None:
    """Seed Python, numpy (which shuffles the data) and the stream of ``next_key``."""
    random.seed(seed)
    np.random.seed(seed)
    _stream["key"], _stream["count"] = jax.random.key(seed), 0


def next_key() -> jax.Array:
    """The next PRNG key of the stream that ``set_seed`` started (never the same twice)."""
    _stream["count"] += 1
    return jax.random.fold_in(_stream["key"], _stream["count"])


def try_gpu(i: int = 0) -> jax.Device:
    """GPU ``i`` if it exists, else the CPU."""
    gpus = [device for device in jax.devices() if device.platform == "gpu"]
    return gpus[i] if len(gpus) > i else jax.devices("cpu")[0]


class FashionMNIST(FashionMNISTBase):
    """Fashion-MNIST minibatches as JAX arrays: images (N, H, W, 1), labels int32."""

    channels_last = True

    def to_tensor(self, array: np.ndarray) -> jax.Array:
        dtype = np.int32 if array.dtype == np.int64 else array.dtype  # JAX's 32-bit default
        return jax.device_put(array.astype(dtype, copy=False), try_gpu())


def init_cnn(model: nnx.Module, key: jax.Array | None = None) -> None:
    """Xavier-uniform kernels and zero biases for every convolution and dense layer
    (overwriting them); ``key`` defaults to ``next_key()``."""
    key, xavier = next_key() if key is None else key, jax.nn.initializers.xavier_uniform()
    layers = [m for _, m in nnx.iter_graph(model) if isinstance(m, (nnx.Conv, nnx.Linear))]
    for layer, k in zip(layers, jax.random.split(key, max(len(layers), 1))):
        layer.kernel[...] = xavier(k, layer.kernel.shape, layer.kernel.dtype)
        if layer.bias is not None:
            layer.bias[...] = jnp.zeros_like(layer.bias[...])


class Classifier(nnx.Module):
    """Base for classification models: subclasses set ``self.net`` (or override __call__)."""

    def __init__(self, lr: float = 0.1):
        self.lr = nnx.data(lr)  # data, not structure: models differing only in lr share steps

    def __call__(self, X: jax.Array) -> jax.Array:
        return self.net(X)

    def cross_entropy(self, y_hat: jax.Array, y: jax.Array) -> jax.Array:
        """The loss: mean softmax cross-entropy of logits ``y_hat`` against labels ``y``."""
        return optax.softmax_cross_entropy_with_integer_labels(y_hat, y).mean()

    def accuracy(self, y_hat: jax.Array, y: jax.Array) -> jax.Array:
        """Fraction of rows whose largest logit is the true label."""
        return (y_hat.argmax(axis=1) == y).astype(jnp.float32).mean()

    def training_step(self, X: jax.Array, y: jax.Array):
        """(loss, accuracy) on a batch, in the mode the caller set (``model.train()`` or
        ``model.eval()``); pure: differentiate it with ``nnx.grad``."""
        y_hat = self(X)
        return self.cross_entropy(y_hat, y), self.accuracy(y_hat, y)

    def validation_step(self, X: jax.Array, y: jax.Array):
        return self.training_step(X, y)  # the caller has set model.eval()

    def configure_optimizers(self) -> optax.GradientTransformation:
        """Plain SGD (optax) on the ``nnx.Param``s only (not BN's running statistics)."""
        return optax.sgd(self.lr)


def _split(model: Classifier):
    """(graph definition, params, other variables, data such as ``lr``) on the device."""
    model.eval()  # the mode is static: the same for every split (the steps set theirs)
    graphdef, *state = nnx.split(model, nnx.Param, nnx.Variable, ...)
    return graphdef, *jax.device_put(state, try_gpu())


@functools.lru_cache(maxsize=8)  # bounded: a long session builds many model classes
def _steps(graphdef):
    """The jitted (training step, evaluation step), shared by models of one structure."""

    def sgd_step(params, rest, data, opt_state, sums, X, y):
        model = nnx.merge(graphdef, params, rest, data)
        model.train()  # batch statistics; BN updates its running averages
        (loss, acc), grads = nnx.value_and_grad(
            lambda m: m.training_step(X, y), has_aux=True)(model)
        updates, opt_state = model.configure_optimizers().update(grads, opt_state, params)
        _, _, rest, _ = nnx.split(model, nnx.Param, nnx.Variable, ...)  # new statistics
        return (optax.apply_updates(params, updates), rest, opt_state,
                sums + jnp.stack([loss, acc]) * y.shape[0])

    def eval_step(params, rest, data, X, y):
        model = nnx.merge(graphdef, params, rest, data)
        model.eval()  # running averages, no update
        return model.validation_step(X, y)

    return jax.jit(sgd_step), jax.jit(eval_step)


class Trainer(TrainerBase):
    """Plain minibatch SGD with a jitted, pure training step (see the module docstring)."""

    def build(self, model: Classifier, data: FashionMNIST) -> int:
        self.device = try_gpu()
        X, _ = next(data.val_dataloader())
        model.eval()
        outputs = model(X[:2]).shape[-1]  # checks that the input fits the model
        if not getattr(model, "_d2l_initialized", False):
            init_cnn(model)
            model._d2l_initialized = True
        return int(outputs)

    def prepare_steps(self, model: Classifier, data: FashionMNIST) -> None:
        _, params, _, _ = _split(model)
        self.opt_state = jax.device_put(model.configure_optimizers().init(params), self.device)
        self._sums = jax.device_put(jnp.zeros(2), self.device)  # summed loss, correct count

    def fit_epoch(self, model, data, epoch: int):
        """One epoch on the split state; the model object gets the result at the end."""
        graphdef, self._params, self._rest, self._data = _split(model)
        self._sgd_step, _ = _steps(graphdef)
        try:
            return super().fit_epoch(model, data, epoch)
        finally:
            nnx.update(model, self._params, self._rest)

    def train_step(self, model, X, y):
        self._params, self._rest, self.opt_state, self._sums = self._sgd_step(
            self._params, self._rest, self._data, self.opt_state, self._sums, X, y)

    def pop_train_sums(self):
        loss_sum, correct = np.asarray(self._sums).tolist()
        self._sums = jax.device_put(jnp.zeros(2), self.device)
        return loss_sum, correct

    def evaluate(self, model, data) -> tuple[float, float]:  # from the model's current state
        graphdef, *self._state = _split(model)
        _, self._eval_step = _steps(graphdef)
        return super().evaluate(model, data)

    def eval_step(self, model, X, y):
        loss, acc = self._eval_step(*self._state, X, y)
        return float(loss), float(acc) * int(y.shape[0])

    def set_prediction_mode(self, model):
        model.eval()

    def device_name(self) -> str:
        return str(self.device)
