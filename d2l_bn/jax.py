"""JAX backend (Flax NNX): ``from d2l_bn import jax as d2l``.

Models are Flax NNX modules (``flax.nnx``), Flax's recommended API since 0.11: layers
are Python objects holding their parameters (``nnx.Param``) and running statistics
(``nnx.BatchStat``), so a model reads like the PyTorch and Keras ones, while the
training step is still a pure function under ``jax.jit``:

* ``nnx.split`` turns the model into a static *graph definition* and its *state*: the
  parameters and the rest (BN's running statistics), pytrees of arrays. The jitted step
  takes them and the optimizer's (optax) state, merges them into a model inside the
  trace, computes the gradients, applies SGD and returns the new arrays. The model
  object is brought up to date (``nnx.update``) at the end of every epoch and whenever
  ``fit`` stops, so between epochs the model you hold is the trained one. Compiled steps
  are shared by models of the same structure (``_Steps``).
* The mode is explicit: the step calls ``model.train()`` (BN normalizes with the batch's
  statistics and updates its running averages), evaluation calls ``model.eval()``
  (running averages, no update). Both are static attributes, part of the traced
  function, not a global switch.
* Randomness comes from explicit PRNG keys. Every function that draws weights takes a
  ``key`` (or Flax's ``rngs``); when none is given it takes the next key of a stream that
  ``set_seed(seed)`` starts (``next_key``, ``rngs``), so that, as in the other backends,
  ``set_seed(s)`` followed by the same calls gives the same weights.

Images are NHWC ``jax.Array``s (channels last, like Keras); labels are int32 (JAX's
default integer width; labels 0-9 fit).
"""

from __future__ import annotations

import random

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from .board import ProgressBoard
from .data import DatasetError, FashionMNISTBase
from .loop import FitResult, TrainerBase
from .plots import plot_distributions, plot_histories, plot_sweep, show
from .settings import smoke_mode

__all__ = ["Classifier", "DatasetError", "FashionMNIST", "FitResult", "ProgressBoard",
           "Trainer", "init_cnn", "next_key", "plot_distributions", "plot_histories",
           "plot_sweep", "rngs", "set_seed", "show", "smoke_mode", "try_gpu"]

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


def rngs() -> nnx.Rngs:
    """Flax's ``nnx.Rngs`` for building one model, from ``next_key()``."""
    return nnx.Rngs(next_key())


def try_gpu(i: int = 0) -> jax.Device:
    """GPU ``i`` if it exists, else the CPU."""
    try:
        gpus = jax.devices("gpu")
    except RuntimeError:  # no GPU backend installed
        gpus = []
    return gpus[i] if len(gpus) > i else jax.devices("cpu")[0]


class FashionMNIST(FashionMNISTBase):
    """Fashion-MNIST minibatches as JAX arrays: images (N, H, W, 1), labels int32."""

    channels_last = True

    def to_tensor(self, array: np.ndarray) -> jax.Array:
        if array.dtype == np.int64:  # JAX computes in 32 bits unless told otherwise
            array = array.astype(np.int32)
        return jax.device_put(array, try_gpu())


def init_cnn(model: nnx.Module, key: jax.Array | None = None) -> None:
    """Xavier-uniform kernels and zero biases for every convolution and dense layer.

    ``key`` defaults to ``next_key()``. Flax creates weights when a layer is built, so
    this works on any model at any time (it overwrites the weights).
    """
    key = next_key() if key is None else key
    xavier = jax.nn.initializers.xavier_uniform()
    layers = [m for _, m in nnx.iter_graph(model) if isinstance(m, (nnx.Conv, nnx.Linear))]
    for layer, k in zip(layers, jax.random.split(key, max(len(layers), 1))):
        layer.kernel[...] = xavier(k, layer.kernel.shape, layer.kernel.dtype)
        if layer.bias is not None:
            layer.bias[...] = jnp.zeros_like(layer.bias[...])


class Classifier(nnx.Module):
    """Base for classification models: subclasses set ``self.net`` (or override __call__)."""

    def __init__(self, lr: float = 0.1):
        self.lr = lr

    def __call__(self, X: jax.Array) -> jax.Array:
        return self.net(X)

    def cross_entropy(self, y_hat: jax.Array, y: jax.Array) -> jax.Array:
        """The loss: mean softmax cross-entropy of logits ``y_hat`` against labels ``y``."""
        return optax.softmax_cross_entropy_with_integer_labels(y_hat, y).mean()

    def accuracy(self, y_hat: jax.Array, y: jax.Array) -> jax.Array:
        """Fraction of rows whose largest logit is the true label."""
        return (y_hat.argmax(axis=1) == y).astype(jnp.float32).mean()

    def training_step(self, X: jax.Array, y: jax.Array):
        """(loss, accuracy) on a batch; the caller has put the model in training mode
        (``model.train()``). A pure computation: differentiate it with ``nnx.grad``."""
        y_hat = self(X)
        return self.cross_entropy(y_hat, y), self.accuracy(y_hat, y)

    def validation_step(self, X: jax.Array, y: jax.Array):
        """(loss, accuracy) on a batch; the caller has put the model in prediction mode
        (``model.eval()``)."""
        return self.training_step(X, y)

    def configure_optimizers(self) -> optax.GradientTransformation:
        """Plain SGD (optax), applied by the trainer to the ``nnx.Param``s only: BN's
        running statistics (``nnx.BatchStat``) are not trained."""
        return optax.sgd(self.lr)


class _Steps:
    """The jitted training and evaluation steps of one model *structure*.

    JAX compiles a function once per distinct static input. A model's structure is its
    graph definition (``nnx.split``): layer types, shapes and static attributes such as
    ``lr``. Two models of the same structure (say, the same class) share the compiled
    steps, and the learning rate is an argument of the step rather than part of the
    structure, so a sweep over many runs and rates compiles once per model class instead
    of once per run; a new batch shape compiles once more. The steps are pure: they take
    and return the parameters, the other state (BN's running statistics) and the
    optimizer's state as arrays.
    """

    def __init__(self, graphdef):
        def sgd_step(params, rest, opt_state, sums, lr, X, y):
            model = nnx.merge(graphdef, params, rest)
            model.lr = lr  # a traced number: one compilation serves every learning rate
            model.train()  # batch statistics; BN updates its running averages
            (loss, acc), grads = nnx.value_and_grad(
                lambda m: m.training_step(X, y), has_aux=True)(model)
            tx = model.configure_optimizers()
            updates, opt_state = tx.update(grads, opt_state, params)
            _, _, rest = nnx.split(model, nnx.Param, ...)  # the updated statistics
            return (optax.apply_updates(params, updates), rest, opt_state,
                    sums + jnp.stack([loss, acc]) * y.shape[0])

        def eval_step(params, rest, X, y):
            model = nnx.merge(graphdef, params, rest)
            model.eval()  # running averages, no update
            return model.validation_step(X, y)

        self.sgd_step, self.eval_step = jax.jit(sgd_step), jax.jit(eval_step)


_STEPS: dict = {}  # graph definition -> _Steps


def _split(model: Classifier):
    """(steps for the model's structure, params, rest). The structure leaves out the
    learning rate (the steps take it as an argument) and the mode (the steps set it), so
    neither makes JAX compile again."""
    model.eval()
    lr, model.lr = model.lr, None
    try:
        graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    finally:
        model.lr = lr
    if graphdef not in _STEPS:
        _STEPS[graphdef] = _Steps(graphdef)
    # Committed to the device, like the steps' outputs: jax.jit compiles separately for
    # arrays placed by default and arrays placed explicitly.
    return _STEPS[graphdef], *_on_device((params, rest))


def _on_device(tree):
    return jax.device_put(tree, try_gpu())


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
        steps, params, rest = _split(model)
        self._steps, self._params, self._rest = steps, params, rest  # fit_epoch renews them
        self.opt_state = _on_device(model.configure_optimizers().init(params))
        self._lr = _on_device(jnp.float32(model.lr))
        self._sums = _on_device(jnp.zeros(2))  # summed loss, correct count
        # Compile the training step for every batch size an epoch has (a smaller last
        # batch is a new shape) outside the timed loop; the results are thrown away.
        sizes = {stop - start for start, stop in data._bounds(data.num_train, train=True)}
        for size in sorted(sizes):
            X, y = (data.to_tensor(a[:size]) for a in (data.train_X, data.train_y))
            jax.block_until_ready(
                steps.sgd_step(params, rest, self.opt_state, self._sums, self._lr, X, y))

    def fit_epoch(self, model, data, epoch: int):
        """One epoch on the split state; the model object gets the result at the end."""
        self._steps, self._params, self._rest = _split(model)
        try:
            return super().fit_epoch(model, data, epoch)
        finally:
            nnx.update(model, self._params, self._rest)

    def train_step(self, model, X, y):
        self._params, self._rest, self.opt_state, self._sums = self._steps.sgd_step(
            self._params, self._rest, self.opt_state, self._sums, self._lr, X, y)

    def pop_train_sums(self):
        loss_sum, correct = np.asarray(self._sums).tolist()
        self._sums = _on_device(jnp.zeros(2))
        return loss_sum, correct

    def evaluate(self, model, data) -> tuple[float, float]:
        """(mean loss, accuracy) over the evaluation split, in prediction mode, with the
        model's current state (also after you change its statistics by hand)."""
        self._steps, self._params, self._rest = _split(model)
        return super().evaluate(model, data)

    def eval_step(self, model, X, y):
        loss, acc = self._steps.eval_step(self._params, self._rest, X, y)
        return float(loss), float(acc) * int(y.shape[0])

    def set_prediction_mode(self, model):
        model.eval()

    def device_name(self) -> str:
        return str(self.device)
