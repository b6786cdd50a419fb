"""The chapter's from-scratch batch normalization, checked against each framework's own layer.

Every check is written once and runs for MXNet, PyTorch, TensorFlow and JAX through a thin
adapter per framework. An adapter builds the chapter's ``BatchNorm`` and the built-in layer
with the chapter's conventions (momentum 0.1 weighting the *new* batch statistic, eps 1e-5:
Gluon's, Keras's and Flax NNX's ``momentum=0.9, epsilon=1e-5``, PyTorch's
``momentum=0.1, eps=1e-5``), runs training and prediction steps, and hands numpy arrays
back to the checks, in the framework's own layout (NCHW; NHWC in TensorFlow and JAX). The
last checks concern one framework each (TensorFlow's compiled step, PyTorch's dtypes, JAX's
jitted step, mode and dtypes) and say so in their names.

Tolerance policy, one for the whole module: our layer and the built-in one compute the
same formulas in float32 in a different order, so they may differ by rounding only. Every
comparison is ``|ours - theirs| <= ATOL[quantity] + RTOL * |theirs|`` (numpy's
``assert_allclose``), with the tolerances below. The data: per-channel means around 0
(standard deviation 2, drifting by 0.5 per step) and scales between 0.5 and 3, so values
of size up to ~15; gamma around 1 and beta around 0 (standard deviation 0.5). Next to each
tolerance is the worst |ours - theirs| measured over 200 seeds, for every framework, 2-D
and 4-D shapes, 5 training steps and a prediction step each.

One exception, for a different formula rather than a different order: Flax's layer (JAX)
computes the batch variance as mean(x**2) - mean(x)**2 (``use_fast_variance=True``, its
default), where ours averages the squared deviations. In float32 that subtraction loses
precision when a channel's mean is large against its spread, as in these data, so in
training mode JAX's output and input and gamma gradients differ from Flax's 10 to 40 times more
than the other frameworks' from their layers: ``FLAX_ATOL`` replaces ``ATOL`` for those
three quantities when JAX's layer is compared with Flax's. (With ``use_fast_variance=False``
the differences are of the other frameworks' size; the chapter uses Flax's default.)
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from book.definitions import load_definitions

# Each framework is imported by its adapter, when a test first needs it: the frameworks
# live in two environments (MXNet with numpy 1.26, the others with numpy 2; see
# book.environments), and this module is collected in both.
mx = autograd = gluon = d2l_mxnet = None
torch = nn = d2l_torch = None
tf = keras = d2l_tensorflow = None
jax = jnp = nnx = optax = d2l_jax = None

EPS, MOMENTUM = 1e-5, 0.1  # the chapter's convention: momentum weights the new statistic
RTOL = 1e-5
ATOL = {  # worst measured |ours - built-in|: MXNet / PyTorch / TensorFlow / JAX
    "output": 2e-5,            # training 9.5e-6 / 2.9e-6 / 2.4e-6 / (FLAX_ATOL),
    #                            prediction 3.8e-6 at most / JAX 1.1e-5
    "input gradient": 2e-5,    # 5.6e-6 / 2.9e-6 / 8.3e-6 / (FLAX_ATOL)
    "gamma gradient": 3e-4,    # 1.0e-4 / 1.8e-5 / 1.2e-4 / (FLAX_ATOL): sums of N*H*W terms
    "beta gradient": 1e-4,     # 2.7e-5 / 7.6e-6 / 0 / 0
    "running mean": 1e-5,      # 8.3e-7 / 2.4e-7 / 0 / 0
    "running variance": 1e-5,  # 1.4e-6 / 7.2e-7 / 0 / 4.8e-6
    "logits": 1e-5,            # LeNetBNScratch vs LeNetBN (50 seeds): 3.7e-6 / 2.4e-6 /
    #                            2.2e-6 / 1.1e-5 (6.2e-6 beyond RTOL * |logit|)
}
# JAX against Flax's layer, whose variance formula differs (see above): worst measured
# |ours - Flax's| in training mode, where ATOL's would be too tight. (Raised for JAX only.)
FLAX_ATOL = {
    "output": 2e-4,            # 1.1e-4 (6.5e-5 beyond RTOL * |output|)
    "input gradient": 3e-4,    # 2.4e-4 (1.3e-4 beyond RTOL * |gradient|)
    "gamma gradient": 2e-3,    # 1.5e-3 (1.1e-3 beyond RTOL * |gradient|)
}
# Prediction-mode gradients, checked against their closed form (worst 3.1e-5, for gamma;
# JAX 3.1e-5 too) and against the built-in layer where it gets them right (worst 8.4e-5,
# TensorFlow's gamma; JAX 6.1e-5).
FLOAT16_TOL = {"atol": 2e-3, "rtol": 1e-3}  # PyTorch: one float16 rounding step (1.95e-3);
#                                             JAX (float16 averages in ours): 4.8e-4
FLOAT64_TOL = {"atol": 1e-12, "rtol": 1e-12}  # PyTorch, float64 in both layers: 5.3e-15

STEPS = 5
SHAPES = {"2d": (16, 7), "4d": (8, 3, 5, 5)}  # (N, C) and (N, C, H, W); NHWC in TF and JAX
ONE_VALUE = "more than one value per channel"  # from the batch-of-one error message
BUILTIN_CONVENTIONS = {  # chapter's table: default momentum and eps, momentum weighs the
    # new or the old value, stored running variance, running statistics updated in
    "mxnet": (0.9, 1e-5, "old", "biased", "backward"),
    "pytorch": (0.1, 1e-5, "new", "unbiased", "forward"),
    "tensorflow": (0.99, 1e-3, "old", "biased", "forward"),
    "jax": (0.99, 1e-5, "old", "biased", "forward"),
}


class Adapter:
    """What the checks need from one framework; arrays go in and come out as numpy.

    ``import_framework`` imports the framework (into this module's globals) before
    anything else: a framework of the session that does not import is an error.
    """

    name: str
    channels_last = False
    unbiased_running_var = False  # what the built-in layer (and so ours) averages in
    one_value_error: type[Exception] = ValueError  # batch-of-one error in training mode
    builtin_prediction_gradients = True  # does the built-in layer get them right?
    builtin_atol: dict[str, float] = {}  # tolerances replacing ATOL's against the built-in

    def __init__(self):
        self.import_framework()
        self.ch = load_definitions(self.name)

    def layout(self, shape):
        """An (N, C) or (N, C, H, W) shape in this framework's layout."""
        if self.channels_last and len(shape) == 4:
            return (shape[0], *shape[2:], shape[1])
        return tuple(shape)

    def channel_axis(self, ndim):
        return ndim - 1 if self.channels_last and ndim == 4 else 1

    def param_shape(self, channels, num_dims):
        shape = [1] * num_dims
        shape[self.channel_axis(num_dims)] = channels
        return tuple(shape)

    def batch(self, rng, shape, shift=0.0):
        """float32 data of the NCHW `shape`, in this layout; per-channel mean and scale."""
        shape = self.layout(shape)
        where = self.param_shape(shape[self.channel_axis(len(shape))], len(shape))
        loc = shift + rng.normal(0.0, 2.0, size=where)
        scale = rng.uniform(0.5, 3.0, size=where)
        return (loc + scale * rng.standard_normal(shape)).astype(np.float32)

    def pair(self, channels, num_dims, rng):
        """Our layer and the built-in one, with the same random gamma and beta."""
        ours, theirs = self.ours(channels, num_dims), self.builtin(channels, num_dims)
        gamma = rng.normal(1.0, 0.5, channels).astype(np.float32)
        beta = rng.normal(0.0, 0.5, channels).astype(np.float32)
        for layer in (ours, theirs):
            self.set_affine(layer, gamma, beta)
        return ours, theirs

    def lenets(self, x):
        """LeNetBNScratch and LeNetBN, initialized, with the same weights."""
        scratch, concise = self.lenet(self.ch.LeNetBNScratch, x), self.lenet(self.ch.LeNetBN, x)
        self.copy_weights(scratch, concise)
        return scratch, concise

    def is_bn(self, layer):
        return isinstance(layer, (self.ch.BatchNorm, *self.builtin_classes))

    def bn_layers(self, model):
        return [layer for layer in model.net if self.is_bn(layer)]


def results(Y, grad_x, grad_gamma, grad_beta):
    """A step's output and gradients (of sum(Y * W)) as numpy arrays, by quantity."""
    arrays = [np.asarray(a) for a in (Y, grad_x, grad_gamma, grad_beta)]
    return dict(zip(["output", "input gradient", "gamma gradient", "beta gradient"], arrays))


class MXNet(Adapter):
    name = "mxnet"
    # Gluon's BatchNorm (MXNet 1.9.1) normalizes with the running statistics in prediction
    # mode, but its backward pass differentiates as if it had used the batch statistics.
    builtin_prediction_gradients = False

    @staticmethod
    def import_framework():
        global mx, autograd, gluon, d2l_mxnet
        # isort: off
        from d2l_bn import mxnet as d2l_mxnet  # first: it makes MXNet 1.9.1 importable
        import mxnet as mx
        from mxnet import autograd, gluon
        # isort: on

    @property
    def builtin_classes(self):
        return (gluon.nn.BatchNorm,)

    def ours(self, channels, num_dims):
        layer = self.ch.BatchNorm(channels, num_dims)
        layer.initialize()
        return layer

    def builtin(self, channels, num_dims):
        layer = gluon.nn.BatchNorm(momentum=1 - MOMENTUM, epsilon=EPS, in_channels=channels)
        layer.initialize()
        return layer

    def builtin_defaults(self):
        """(fresh built-in layer with its defaults, default momentum, default eps)."""
        layer = gluon.nn.BatchNorm(in_channels=1)
        layer.initialize()
        return layer, layer._kwargs["momentum"], layer._kwargs["eps"]  # no public attribute

    def set_affine(self, layer, gamma, beta):
        layer.gamma.set_data(mx.nd.array(gamma.reshape(layer.gamma.shape)))
        layer.beta.set_data(mx.nd.array(beta.reshape(layer.beta.shape)))

    def affine(self, layer):
        return [p.data().asnumpy().ravel() for p in (layer.gamma, layer.beta)]

    def running(self, layer):
        pair = ((layer.moving_mean, layer.moving_var) if isinstance(layer, self.ch.BatchNorm)
                else (layer.running_mean, layer.running_var))
        return [p.data().asnumpy().ravel().copy() for p in pair]

    def state(self, layer):
        """{name: (value, trained by the optimizer?)} of every parameter of the layer."""
        return {name[len(layer.prefix):]: (p.data().asnumpy(), p.grad_req != "null")
                for name, p in layer.collect_params().items()}

    def step(self, layer, x, w, training):
        X = mx.nd.array(x)
        X.attach_grad()
        with autograd.record(train_mode=training):
            Y = layer(X)
            loss = (Y * mx.nd.array(w)).sum()
        loss.backward()
        return results(Y.asnumpy(), X.grad.asnumpy(), layer.gamma.grad().asnumpy(),
                       layer.beta.grad().asnumpy())

    def call(self, layer, x, training, record=None):
        """layer(x) in the given mode; record (default: as training) also runs backward."""
        record = training if record is None else record
        X = mx.nd.array(x)
        if not record:
            with autograd.train_mode() if training else autograd.predict_mode():
                return layer(X).asnumpy()
        with autograd.record(train_mode=training):
            Y = layer(X)
        Y.backward()  # Gluon's layer updates its running statistics here
        return Y.asnumpy()

    def forward_then_backward(self, layer, x):
        """Running statistics after a training-mode forward pass, and after backward."""
        with autograd.record():
            Y = layer(mx.nd.array(x))
        after_forward = self.running(layer)
        Y.backward()
        return after_forward, self.running(layer)

    def function(self, x, params, training):
        """The chapter's batch_norm on numpy x and (gamma, beta, moving mean, moving var)."""
        out = self.ch.batch_norm(mx.nd.array(x), *map(mx.nd.array, params), EPS, MOMENTUM,
                                 training)
        return [t.asnumpy() for t in out]

    def lenet(self, cls, x):
        model = cls()
        d2l_mxnet.init_cnn(model)
        model(mx.nd.array(x[:2]))  # prediction mode: completes the deferred shapes
        return model

    def copy_weights(self, source, target):
        pairs = zip(source.collect_params().values(), target.collect_params().values(),
                    strict=True)
        for a, b in pairs:
            b.set_data(a.data().reshape(b.shape))

    def training_step(self, model, x, y):
        """(loss, apply): forward and backward of d2l's training_step; apply() = SGD step."""
        optimizer = model.configure_optimizers()
        with autograd.record():
            loss, _ = model.training_step(mx.nd.array(x), mx.nd.array(y, dtype="float32"))
        loss.backward()
        return float(loss.asscalar()), lambda: optimizer.step(1)

    def validation_step(self, model, x, y):
        with autograd.predict_mode():
            loss, _ = model.validation_step(mx.nd.array(x), mx.nd.array(y, dtype="float32"))
        return float(loss.asscalar())


class PyTorch(Adapter):
    name = "pytorch"
    unbiased_running_var = True

    @staticmethod
    def import_framework():
        global torch, nn, d2l_torch
        import torch
        from torch import nn

        from d2l_bn import torch as d2l_torch

    @property
    def builtin_classes(self):
        return (nn.BatchNorm1d, nn.BatchNorm2d)

    def ours(self, channels, num_dims):
        return self.ch.BatchNorm(channels, num_dims)

    def builtin(self, channels, num_dims):
        cls = nn.BatchNorm1d if num_dims == 2 else nn.BatchNorm2d
        return cls(channels, eps=EPS, momentum=MOMENTUM)

    def builtin_defaults(self):
        layer = nn.BatchNorm1d(1)
        return layer, layer.momentum, layer.eps

    def affine_params(self, layer):
        if isinstance(layer, self.ch.BatchNorm):
            return layer.gamma, layer.beta
        return layer.weight, layer.bias

    def set_affine(self, layer, gamma, beta):
        with torch.no_grad():
            for param, value in zip(self.affine_params(layer), (gamma, beta)):
                param.copy_(torch.from_numpy(value).reshape(param.shape))

    def affine(self, layer):
        return [p.detach().numpy().ravel() for p in self.affine_params(layer)]

    def running(self, layer):
        pair = ((layer.moving_mean, layer.moving_var) if isinstance(layer, self.ch.BatchNorm)
                else (layer.running_mean, layer.running_var))
        return [t.numpy().ravel().copy() for t in pair]

    def state(self, layer):
        trained = {n: (p.detach().numpy(), True) for n, p in layer.named_parameters()}
        return trained | {n: (b.numpy(), False) for n, b in layer.named_buffers()}

    def step(self, layer, x, w, training):
        layer.train(training)
        X = torch.tensor(x, requires_grad=True)
        Y = layer(X)
        grads = torch.autograd.grad((Y * torch.from_numpy(w)).sum(),
                                    [X, *self.affine_params(layer)])
        return results(Y.detach(), *grads)

    def call(self, layer, x, training, record=None):
        layer.train(training)
        with torch.set_grad_enabled(training if record is None else record):
            return layer(torch.from_numpy(x)).detach().numpy()

    def forward_then_backward(self, layer, x):
        layer.train()
        Y = layer(torch.from_numpy(x))
        after_forward = self.running(layer)
        Y.sum().backward()
        return after_forward, self.running(layer)

    def function(self, x, params, training):
        out = self.ch.batch_norm(torch.from_numpy(x), *map(torch.from_numpy, params), EPS,
                                 MOMENTUM, training)
        return [t.numpy() for t in out]

    def lenet(self, cls, x):
        model = cls()
        d2l_torch.init_cnn(model)
        return model

    def copy_weights(self, source, target):
        for a, b in zip(source.net, target.net, strict=True):
            if self.is_bn(a):  # fresh in both: gamma 1, beta 0, running mean 0, var 1
                continue
            b.load_state_dict(a.state_dict())

    def training_step(self, model, x, y):
        optimizer = model.configure_optimizers()
        model.train()
        loss, _ = model.training_step(torch.from_numpy(x), torch.from_numpy(y))
        loss.backward()
        return loss.item(), optimizer.step

    def validation_step(self, model, x, y):
        model.eval()
        return model.validation_step(torch.from_numpy(x), torch.from_numpy(y))[0].item()


class TensorFlow(Adapter):
    name = "tensorflow"
    channels_last = True

    @staticmethod
    def import_framework():
        global tf, keras, d2l_tensorflow
        import keras
        import tensorflow as tf

        from d2l_bn import tensorflow as d2l_tensorflow

    @property
    def one_value_error(self):
        return tf.errors.InvalidArgumentError  # a graph assertion (see the chapter)

    @property
    def builtin_classes(self):
        return (keras.layers.BatchNormalization,)

    def ours(self, channels, num_dims):
        return self.ch.BatchNorm(channels, num_dims)

    def builtin(self, channels, num_dims):
        layer = keras.layers.BatchNormalization(momentum=1 - MOMENTUM, epsilon=EPS)
        layer.build((None, channels) if num_dims == 2 else (None, 1, 1, channels))
        return layer

    def builtin_defaults(self):
        layer = keras.layers.BatchNormalization()
        return layer, layer.momentum, layer.epsilon

    def set_affine(self, layer, gamma, beta):
        layer.gamma.assign(gamma.reshape(layer.gamma.shape))
        layer.beta.assign(beta.reshape(layer.beta.shape))

    def affine(self, layer):
        return [p.numpy().ravel() for p in (layer.gamma, layer.beta)]

    def running(self, layer):
        pair = ((layer.moving_mean, layer.moving_var) if isinstance(layer, self.ch.BatchNorm)
                else (layer.moving_mean, layer.moving_variance))
        return [v.numpy().ravel().copy() for v in pair]

    def state(self, layer):
        return {v.name: (v.numpy(), v.trainable) for v in layer.weights}

    def step(self, layer, x, w, training):
        X = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(X)
            Y = layer(X, training=training)
            loss = tf.reduce_sum(Y * w)
        return results(Y, *tape.gradient(loss, [X, layer.gamma, layer.beta]))

    def call(self, layer, x, training, record=None):
        X = tf.constant(x)
        if not (training if record is None else record):
            return layer(X, training=training).numpy()
        with tf.GradientTape() as tape:
            tape.watch(X)
            Y = layer(X, training=training)
        tape.gradient(Y, X)
        return Y.numpy()

    def forward_then_backward(self, layer, x):
        with tf.GradientTape() as tape:
            Y = layer(tf.constant(x), training=True)
        after_forward = self.running(layer)
        tape.gradient(Y, layer.trainable_weights)
        return after_forward, self.running(layer)

    def function(self, x, params, training):
        out = self.ch.batch_norm(tf.constant(x), *map(tf.constant, params), EPS, MOMENTUM,
                                 training)
        return [t.numpy() for t in out]

    def lenet(self, cls, x):
        model = cls()
        model(x[:2], training=False)  # creates the weights
        d2l_tensorflow.init_cnn(model)
        return model

    def copy_weights(self, source, target):
        for a, b in zip(source.net.weights, target.net.weights, strict=True):
            b.assign(tf.reshape(a, b.shape))

    def bn_layers(self, model):
        return [layer for layer in model.net.layers if self.is_bn(layer)]

    def training_step(self, model, x, y):
        optimizer = model.configure_optimizers()
        with tf.GradientTape() as tape:
            loss, _ = model.training_step(tf.constant(x), tf.constant(y, tf.int64))
        grads = tape.gradient(loss, model.trainable_variables)
        return float(loss), lambda: optimizer.apply_gradients(
            zip(grads, model.trainable_variables))

    def validation_step(self, model, x, y):
        return float(model.validation_step(tf.constant(x), tf.constant(y, tf.int64))[0])


class JAX(Adapter):
    name = "jax"
    channels_last = True
    builtin_atol = FLAX_ATOL  # Flax's variance formula differs (see the module docstring)
    # one_value_error stays ValueError: shapes are static in JAX, also while jax.jit
    # traces, so the chapter checks the batch in Python.

    @staticmethod
    def import_framework():
        global jax, jnp, nnx, optax, d2l_jax
        import jax
        import jax.numpy as jnp
        import optax
        from flax import nnx

        from d2l_bn import jax as d2l_jax

    @property
    def builtin_classes(self):
        return (nnx.BatchNorm,)

    def ours(self, channels, num_dims):
        return self.ch.BatchNorm(channels, num_dims)

    def builtin(self, channels, num_dims):
        # Flax's parameters and statistics are (C,) whatever the input's rank.
        return nnx.BatchNorm(channels, momentum=1 - MOMENTUM, epsilon=EPS, rngs=nnx.Rngs(0))

    def builtin_defaults(self):
        layer = nnx.BatchNorm(1, rngs=nnx.Rngs(0))
        return layer, layer.momentum, layer.epsilon

    def names(self, layer):
        """The attribute names of (gamma, beta, running mean, running variance)."""
        if isinstance(layer, self.ch.BatchNorm):
            return "gamma", "beta", "moving_mean", "moving_var"
        return "scale", "bias", "mean", "var"

    def set_affine(self, layer, gamma, beta):
        for name, value in zip(self.names(layer)[:2], (gamma, beta)):
            param = getattr(layer, name)
            param[...] = jnp.asarray(value.reshape(param.shape))

    def affine(self, layer):
        return [np.asarray(getattr(layer, n)[...]).ravel() for n in self.names(layer)[:2]]

    def running(self, layer):
        return [np.array(getattr(layer, n)[...]).ravel() for n in self.names(layer)[2:]]

    def state(self, layer):
        """Every nnx.Variable of the layer; the optimizer trains the nnx.Params only."""
        return {name: (np.asarray(v[...]), isinstance(v, nnx.Param))
                for name, v in vars(layer).items() if isinstance(v, nnx.Variable)}

    @staticmethod
    def set_mode(layer, training):
        if training:
            layer.train()  # use_running_average = False, on every layer that has it
        else:
            layer.eval()

    def step(self, layer, x, w, training):
        """As the chapter's agreement cell: nnx.grad over (layer, X); it writes the new
        running statistics back to the layer."""
        self.set_mode(layer, training)
        W = jnp.asarray(w)

        def loss(layer, X):
            Y = layer(X)
            return (Y * W).sum(), Y

        (layer_grads, X_grad), Y = nnx.grad(loss, argnums=(0, 1), has_aux=True)(
            layer, jnp.asarray(x))
        return results(Y, X_grad, *(layer_grads[n][...] for n in self.names(layer)[:2]))

    def call(self, layer, x, training, record=None):
        """layer(x) in the given mode; record (default: as training) differentiates it."""
        self.set_mode(layer, training)
        X = jnp.asarray(x)
        if not (training if record is None else record):
            return np.asarray(layer(X))

        def total(layer):
            Y = layer(X)
            return Y.sum(), Y

        _, Y = nnx.grad(total, has_aux=True)(layer)
        return np.asarray(Y)

    def forward_then_backward(self, layer, x):
        """JAX has no separate backward pass: the running statistics read inside the
        differentiated function (after the forward computation), then after nnx.grad."""
        self.set_mode(layer, True)
        names = self.names(layer)[2:]

        def loss(layer):
            Y = layer(jnp.asarray(x))
            return Y.sum(), [getattr(layer, n)[...] for n in names]

        _, after_forward = nnx.grad(loss, has_aux=True)(layer)
        return [np.asarray(a).ravel() for a in after_forward], self.running(layer)

    def function(self, x, params, training):
        out = self.ch.batch_norm(jnp.asarray(x), *map(jnp.asarray, params), EPS, MOMENTUM,
                                 training)
        return [np.asarray(t) for t in out]

    def lenet(self, cls, x):
        model = cls()  # Flax creates the weights when it builds the layers
        d2l_jax.init_cnn(model)
        return model

    def copy_weights(self, source, target):
        for a, b in zip(source.net.layers, target.net.layers, strict=True):
            if isinstance(a, (nnx.Conv, nnx.Linear)):  # the BN layers are fresh in both
                b.kernel[...], b.bias[...] = a.kernel[...], a.bias[...]

    def bn_layers(self, model):
        return [layer for layer in model.net.layers if self.is_bn(layer)]

    def training_step(self, model, x, y):
        """(loss, apply): loss and gradients of d2l's training_step (nnx.grad updates the
        running statistics); apply() = the optimizer's SGD step on the nnx.Params."""
        model.train()
        (loss, _), grads = nnx.value_and_grad(
            lambda m: m.training_step(jnp.asarray(x), jnp.asarray(y, jnp.int32)),
            has_aux=True)(model)
        tx = model.configure_optimizers()

        def apply():
            params = nnx.state(model, nnx.Param)
            updates, _ = tx.update(grads, tx.init(params), params)
            nnx.update(model, optax.apply_updates(params, updates))

        return float(loss), apply

    def validation_step(self, model, x, y):
        model.eval()
        return float(model.validation_step(jnp.asarray(x), jnp.asarray(y, jnp.int32))[0])


ADAPTERS = {"mxnet": MXNet, "pytorch": PyTorch, "tensorflow": TensorFlow, "jax": JAX}


@functools.cache
def adapter(framework: str) -> Adapter:
    if framework not in ADAPTERS:
        raise LookupError(f"tests/test_scratch_bn.py has no adapter for {framework!r}")
    return ADAPTERS[framework]()  # loads the chapter's definitions once per framework


@pytest.fixture
def bn(framework) -> Adapter:
    return adapter(framework)


def assert_close(ours, theirs, quantity, **tol):
    """Compare flattened (our (1, C) with a built-in (C,)) under the tolerance policy."""
    tol = {"rtol": RTOL, "atol": ATOL[quantity]} | tol
    np.testing.assert_allclose(np.ravel(ours), np.ravel(theirs), err_msg=quantity, **tol)


def assert_same_running(bn, ours, theirs):
    for quantity, a, b in zip(["running mean", "running variance"], bn.running(ours),
                              bn.running(theirs)):
        assert_close(a, b, quantity)


def assert_same_step(bn, got, want):
    """Our layer's step (``got``) against the built-in layer's (``want``)."""
    for quantity in got:
        assert_close(got[quantity], want[quantity], quantity,
                     atol=bn.builtin_atol.get(quantity, ATOL[quantity]))


def untouched(bn, layer):
    """True while the running statistics still hold their initial zeros and ones."""
    mean, var = bn.running(layer)
    return bool((mean == 0).all() and (var == 1).all())


# --- agreement with the built-in layer ---------------------------------------------------

@pytest.mark.parametrize("kind", SHAPES)
def test_agrees_with_builtin(bn, kind):
    """Training steps, then a prediction step: outputs, gradients with respect to the input,
    gamma and beta, and the running statistics (prediction must leave them alone)."""
    rng = np.random.default_rng(0)
    shape = SHAPES[kind]
    ours, theirs = bn.pair(shape[1], len(shape), rng)
    for step in range(STEPS):  # the batch mean drifts: the running statistics must follow
        x = bn.batch(rng, shape, shift=0.5 * step)
        w = rng.standard_normal(x.shape).astype(np.float32)  # loss sum(Y * w)
        assert_same_step(bn, bn.step(ours, x, w, training=True),
                         bn.step(theirs, x, w, training=True))
        assert_same_running(bn, ours, theirs)
    assert not untouched(bn, ours)
    before = bn.running(ours) + bn.running(theirs)
    x = bn.batch(rng, shape, shift=1.0)
    w = rng.standard_normal(x.shape).astype(np.float32)
    got, want = bn.step(ours, x, w, training=False), bn.step(theirs, x, w, training=False)
    assert_close(got["output"], want["output"], "output")
    # Prediction mode is a fixed affine map per channel: its gradients in closed form.
    pshape = bn.param_shape(shape[1], len(shape))
    axes = tuple(a for a in range(x.ndim) if a != bn.channel_axis(x.ndim))
    gamma = bn.affine(ours)[0].reshape(pshape)
    mean, var = (a.reshape(pshape) for a in bn.running(ours))
    assert_close(got["input gradient"], w * gamma / np.sqrt(var + EPS), "input gradient")
    assert_close(got["gamma gradient"], (w * (x - mean) / np.sqrt(var + EPS)).sum(axes),
                 "gamma gradient")
    assert_close(got["beta gradient"], w.sum(axes), "beta gradient")
    if bn.builtin_prediction_gradients:
        assert_same_step(bn, got, want)
    for a, b in zip(before, bn.running(ours) + bn.running(theirs), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", SHAPES)
def test_function_follows_the_formulas(bn, kind):
    """batch_norm against numpy in float64: biased variance for normalizing, the built-in
    layer's choice (biased or unbiased) for the running variance, momentum on the new value."""
    rng = np.random.default_rng(1)
    shape = bn.layout(SHAPES[kind])
    x = bn.batch(rng, SHAPES[kind])
    pshape = bn.param_shape(SHAPES[kind][1], len(shape))
    gamma, beta, mean0 = (rng.normal(m, 0.5, pshape).astype(np.float32) for m in (1, 0, 0))
    var0 = rng.uniform(0.5, 2.0, pshape).astype(np.float32)
    axes = tuple(a for a in range(len(shape)) if a != bn.channel_axis(len(shape)))
    n = x.size // x.shape[bn.channel_axis(len(shape))]
    x64 = x.astype(np.float64)
    mean, var = x64.mean(axis=axes, keepdims=True), x64.var(axis=axes, keepdims=True)

    Y, new_mean, new_var = bn.function(x, (gamma, beta, mean0, var0), training=True)
    assert_close(Y, gamma * (x64 - mean) / np.sqrt(var + EPS) + beta, "output")
    assert_close(new_mean, (1 - MOMENTUM) * mean0 + MOMENTUM * mean, "running mean")
    biased, unbiased = var, var * n / (n - 1)
    stored, other = (unbiased, biased) if bn.unbiased_running_var else (biased, unbiased)
    assert_close(new_var, (1 - MOMENTUM) * var0 + MOMENTUM * stored, "running variance")
    assert not np.allclose(new_var, (1 - MOMENTUM) * var0 + MOMENTUM * other, atol=1e-4)

    Y, new_mean, new_var = bn.function(x, (gamma, beta, mean0, var0), training=False)
    assert_close(Y, gamma * (x64 - mean0) / np.sqrt(var0 + EPS) + beta, "output")
    np.testing.assert_array_equal(new_mean, mean0)
    np.testing.assert_array_equal(new_var, var0)


def test_builtin_conventions(bn):
    """The chapter's table of conventions, measured: one training step from running mean 0
    and variance 1 on -1, 1, 1, 3 (mean 1; variance 2 biased, 8/3 unbiased)."""
    momentum, eps, weighs, stored, updated_in = BUILTIN_CONVENTIONS[bn.name]
    layer, default_momentum, default_eps = bn.builtin_defaults()
    assert (default_momentum, default_eps) == pytest.approx((momentum, eps))
    x = np.array([[-1.0], [1.0], [1.0], [3.0]], dtype=np.float32)
    after_forward, after_backward = bn.forward_then_backward(layer, x)
    assert (after_forward[0][0] != 0) == (updated_in == "forward")
    w = after_backward[0][0]  # (1 - w) * 0 + w * 1: the weight of the new batch mean
    assert w == pytest.approx(momentum if weighs == "new" else 1 - momentum)
    batch_var = (after_backward[1][0] - (1 - w)) / w
    assert batch_var == pytest.approx(2.0 if stored == "biased" else 8 / 3, rel=1e-3)
    assert bn.unbiased_running_var == (stored == "unbiased")


# --- mode, parameters and state ------------------------------------------------------------

@pytest.mark.parametrize("kind", SHAPES)
def test_mode_is_explicit_not_guessed_from_gradients(bn, kind):
    """Prediction while recording gradients uses (and keeps) the running statistics;
    training without recording uses the batch statistics and updates them."""
    rng = np.random.default_rng(2)
    shape = SHAPES[kind]
    layer = bn.ours(shape[1], len(shape))
    x = bn.batch(rng, shape)
    Y = bn.call(layer, x, training=False, record=True)
    assert_close(Y, x / np.sqrt(1 + EPS), "output")  # running mean 0, variance 1
    assert untouched(bn, layer)
    Y = bn.call(layer, x, training=True, record=False)
    axes = tuple(a for a in range(Y.ndim) if a != bn.channel_axis(Y.ndim))
    assert np.allclose(Y.mean(axis=axes), 0, atol=1e-5)
    assert not untouched(bn, layer)


@pytest.mark.parametrize("num_dims", [2, 4])
def test_parameters_and_initial_values(bn, num_dims):
    """gamma 1 and beta 0 (trained); running mean 0 and variance 1 (not trained); shaped
    to broadcast: (1, C), (1, C, 1, 1) or (1, 1, 1, C)."""
    state = bn.state(bn.ours(5, num_dims))
    expected = {"gamma": (1, True), "beta": (0, True), "moving_mean": (0, False),
                "moving_var": (1, False)}
    assert set(state) == set(expected)
    for name, (value, trained) in expected.items():
        array, is_trained = state[name]
        assert array.shape == bn.param_shape(5, num_dims), name
        assert (array == value).all() and is_trained == trained, name


@pytest.mark.parametrize("num_dims", [1, 3, 5])
def test_num_dims_must_be_2_or_4(bn, num_dims):
    with pytest.raises(ValueError, match=f"num_dims must be 2 .* or 4 .*got {num_dims}"):
        bn.ours(6, num_dims)


# --- inputs the layer refuses, and inputs that look odd but are fine ----------------------

@pytest.mark.parametrize("rank, num_dims", [(2, 4), (4, 2), (3, 2), (3, 4), (5, 4)])
@pytest.mark.parametrize("training", [True, False], ids=["train", "predict"])
def test_rank_mismatch_is_a_clear_error(bn, rank, num_dims, training):
    """Any rank but the layer's raises a ValueError naming both ranks and the fix."""
    layer = bn.ours(3, num_dims)
    x = np.ones((4, 3) + (2,) * (rank - 2), dtype=np.float32)
    message = (f"expects {num_dims}-D inputs, got a {rank}-D input of shape "
               rf"\({', '.join(map(str, x.shape))}\)\. Use num_dims=2 after a dense layer")
    with pytest.raises(ValueError, match=message):
        bn.call(layer, x, training)
    assert untouched(bn, layer)
    pshape = bn.param_shape(3, num_dims)
    params = [np.full(pshape, v, dtype=np.float32) for v in (1, 0, 0, 1)]
    with pytest.raises(ValueError, match=message):
        bn.function(x, params, training)


@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1, 1)], ids=["2d", "4d-1x1"])
def test_one_value_per_channel_is_a_clear_error_in_training(bn, shape):
    """Training mode refuses an input with one value per channel (it would output beta)
    and leaves the running statistics alone; prediction mode accepts it."""
    layer = bn.ours(3, len(shape))
    x = np.arange(3, dtype=np.float32).reshape(bn.layout(shape))
    message = f"{ONE_VALUE} .* output would be beta. Use a batch of two or more"
    with pytest.raises(bn.one_value_error, match=message):
        bn.call(layer, x, training=True)
    assert untouched(bn, layer)
    params = [np.full(bn.param_shape(3, len(shape)), v, np.float32) for v in (1, 0, 0, 1)]
    with pytest.raises(bn.one_value_error, match=message):
        bn.function(x, params, training=True)
    assert_close(bn.call(layer, x, training=False), x / np.sqrt(1 + EPS), "output")


def test_one_image_in_training_agrees(bn):
    """A 4-D batch of one image is fine: each channel has H * W values."""
    rng = np.random.default_rng(3)
    ours, theirs = bn.pair(3, 4, rng)
    x = bn.batch(rng, (1, 3, 4, 4))
    w = rng.standard_normal(x.shape).astype(np.float32)
    assert_same_step(bn, bn.step(ours, x, w, training=True), bn.step(theirs, x, w, training=True))
    assert_same_running(bn, ours, theirs)


# --- the two LeNets -------------------------------------------------------------------------

def test_lenets_agree_with_shared_weights(bn):
    """LeNetBNScratch and LeNetBN with the same weights: the same logits in training and in
    prediction mode, and the same running statistics in all four normalization layers."""
    rng = np.random.default_rng(4)
    x = rng.uniform(size=bn.layout((16, 1, 28, 28))).astype(np.float32)
    scratch, concise = bn.lenets(x)
    got, want = (bn.call(m, x, training=True) for m in (scratch, concise))
    assert got.shape == want.shape == (16, 10)
    assert_close(got, want, "logits")
    pairs = list(zip(bn.bn_layers(scratch), bn.bn_layers(concise), strict=True))
    assert len(pairs) == 4
    for ours, theirs in pairs:
        assert not untouched(bn, ours)
        assert_same_running(bn, ours, theirs)
    got, want = (bn.call(m, x, training=False) for m in (scratch, concise))
    assert got.shape == want.shape == (16, 10)
    assert_close(got, want, "logits")


@pytest.mark.parametrize("model", ["LeNetBNScratch", "LeNetBN"])
def test_lenet_steps_set_the_mode(bn, model):
    """init_cnn keeps the normalization layers' own initial values; validation_step leaves
    the running statistics alone, training_step updates them, the SGD update does not."""
    rng = np.random.default_rng(5)
    x = rng.uniform(size=bn.layout((8, 1, 28, 28))).astype(np.float32)
    y = rng.integers(0, 10, size=8)
    net = bn.lenet(getattr(bn.ch, model), x)
    layers = bn.bn_layers(net)
    assert len(layers) == 4
    for layer in layers:
        gamma, beta = bn.affine(layer)
        assert (gamma == 1).all() and (beta == 0).all() and untouched(bn, layer)
    assert np.isfinite(bn.validation_step(net, x, y))
    assert all(untouched(bn, layer) for layer in layers)
    loss, apply_update = bn.training_step(net, x, y)
    assert np.isfinite(loss)
    assert not any(untouched(bn, layer) for layer in layers)
    before = [bn.running(layer) for layer in layers]
    apply_update()
    for layer, (mean, var) in zip(layers, before, strict=True):
        np.testing.assert_array_equal(bn.running(layer)[0], mean)
        np.testing.assert_array_equal(bn.running(layer)[1], var)


# --- one framework each (parametrized with it: the pass of its environment runs them) --------

@pytest.mark.parametrize("example", [(3,), (3, 1, 1), (3, 4, 4)], ids=["2d", "4d-1x1", "4d-4x4"])
@pytest.mark.parametrize("framework", ["tensorflow"])
def test_tensorflow_compiled_step_checks_the_batch_at_run_time(framework, example):
    """Traced once for an unknown batch size, the layer agrees with Keras; a batch with one
    value per channel fails when the step runs, with our message, before the running
    statistics change (an image of 4 x 4 values per channel is fine)."""
    bn = adapter(framework)
    rng = np.random.default_rng(6)
    ours, theirs = bn.pair(3, 1 + len(example), rng)

    @tf.function(input_signature=[tf.TensorSpec(bn.layout((None, *example)), tf.float32)])
    def train_call(X):
        return ours(X, training=True)

    for n in (8, 2):
        x = bn.batch(rng, (n, *example))
        assert_close(train_call(x), theirs(x, training=True), "output")
        assert_same_running(bn, ours, theirs)
    x = bn.batch(rng, (1, *example))
    if example == (3, 4, 4):
        assert_close(train_call(x), theirs(x, training=True), "output")
        assert_same_running(bn, ours, theirs)
    else:
        before = bn.running(ours)
        with pytest.raises(tf.errors.InvalidArgumentError, match=ONE_VALUE):
            train_call(x)
        for a, b in zip(before, bn.running(ours), strict=True):
            np.testing.assert_array_equal(a, b)
    assert train_call.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("framework", ["tensorflow"])
def test_tensorflow_bare_call_predicts(framework):
    """training=None (a bare call, as Keras's own layers treat it) means prediction."""
    bn = adapter(framework)
    rng = np.random.default_rng(7)
    ours, theirs = bn.pair(3, 4, rng)
    x = bn.batch(rng, (8, 3, 4, 4))
    for layer in (ours, theirs):
        layer(x, training=True)
    before = bn.running(ours)
    x = bn.batch(rng, (8, 3, 4, 4))
    assert_close(ours(x), theirs(x), "output")
    for a, b in zip(before, bn.running(ours), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("framework", ["pytorch"])
def test_pytorch_float16_input_comes_back_float16(framework):
    """As nn.BatchNorm2d with float32 parameters: computed in float32, returned in float16;
    the buffers stay float32."""
    bn = adapter(framework)
    rng = np.random.default_rng(8)
    ours, theirs = bn.pair(3, 4, rng)
    X = torch.from_numpy(bn.batch(rng, (8, 3, 4, 4))).half()
    for training in (True, False):
        ours.train(training), theirs.train(training)
        got, want = ours(X), theirs(X)
        assert got.dtype == want.dtype == torch.float16
        assert_close(got.float().detach(), want.float().detach(), "output", **FLOAT16_TOL)
        assert_same_running(bn, ours, theirs)
    assert ours.moving_mean.dtype == ours.moving_var.dtype == torch.float32


@pytest.mark.parametrize("framework", ["pytorch"])
def test_pytorch_float64_input_comes_back_float64(framework):
    """nn.BatchNorm2d with float32 parameters refuses float64; ours computes in float64,
    stores the running statistics in the buffers' float32, and predicts afterwards."""
    bn = adapter(framework)
    rng = np.random.default_rng(9)
    ours, theirs = bn.pair(3, 4, rng)
    theirs.double()  # the reference: everything in float64
    for _ in range(3):
        X = torch.from_numpy(bn.batch(rng, (8, 3, 4, 4))).double()
        got = ours(X)
        assert got.dtype == torch.float64
        assert_close(got.detach(), theirs(X).detach(), "output", **FLOAT64_TOL)
    assert ours.moving_mean.dtype == ours.moving_var.dtype == torch.float32
    assert_same_running(bn, ours, theirs)
    ours.eval(), theirs.eval()
    X = torch.from_numpy(bn.batch(rng, (8, 3, 4, 4)))
    assert ours(X).dtype == torch.float32  # float32 still works after float64 batches
    assert_close(ours(X.double()).detach(), theirs(X.double()).detach(), "output")


@pytest.mark.parametrize("framework", ["pytorch"])
def test_pytorch_buffers_follow_the_module(framework):
    """.double() converts the buffers with the parameters; float64 stays float64."""
    layer = adapter(framework).ours(3, 4).double()
    assert {layer.gamma.dtype, layer.moving_mean.dtype, layer.moving_var.dtype} == {
        torch.float64}
    assert layer(torch.randn(4, 3, 2, 2, dtype=torch.float64)).dtype == torch.float64
    assert layer.moving_var.dtype == torch.float64


@pytest.mark.parametrize("example", [(3,), (3, 1, 1), (3, 4, 4)], ids=["2d", "4d-1x1", "4d-4x4"])
@pytest.mark.parametrize("framework", ["jax"])
def test_jax_jitted_step_checks_the_batch_when_it_traces(framework, example):
    """Under nnx.jit the layer computes what it computes eagerly and writes its running
    statistics back. Shapes are static in JAX: the step is traced once per batch shape,
    so a batch with one value per channel fails while tracing, with our ValueError, before
    the running statistics change (an image of 4 x 4 values per channel is fine). (The
    reference is our layer run eagerly, not Flax's: with two values per channel, Flax's
    variance formula loses too much precision for a useful tolerance.)"""
    bn = adapter(framework)
    rng = np.random.default_rng(6)
    jitted, eager = (bn.ours(3, 1 + len(example)) for _ in range(2))
    gamma = rng.normal(1.0, 0.5, 3).astype(np.float32)
    beta = rng.normal(0.0, 0.5, 3).astype(np.float32)
    for layer in (jitted, eager):
        bn.set_affine(layer, gamma, beta)
    traced = []

    @nnx.jit
    def train_call(layer, X):
        traced.append(X.shape[0])  # Python code runs only while JAX traces
        return layer(X)

    def agree(x):
        assert_close(train_call(jitted, x), eager(jnp.asarray(x)), "output")
        assert_same_running(bn, jitted, eager)

    for n in (8, 2, 8):  # the second batch of 8 reuses the first trace
        agree(bn.batch(rng, (n, *example)))
    x = bn.batch(rng, (1, *example))
    if example == (3, 4, 4):
        agree(x)
    else:
        before = bn.running(jitted)
        with pytest.raises(ValueError, match=ONE_VALUE):
            train_call(jitted, x)
        for a, b in zip(before, bn.running(jitted), strict=True):
            np.testing.assert_array_equal(a, b)
    assert not untouched(bn, jitted)
    assert traced == [8, 2, 1]


@pytest.mark.parametrize("framework", ["jax"])
def test_jax_mode_is_a_static_attribute_set_by_train_and_eval(framework):
    """A new layer is in training mode, like Flax's; model.eval() and model.train() switch
    ours and Flax's alike (use_running_average). The mode is part of the traced function:
    nnx.jit traces once per mode, and a jitted prediction leaves the statistics alone."""
    bn = adapter(framework)
    rng = np.random.default_rng(7)
    ours, theirs = bn.pair(3, 4, rng)
    assert ours.use_running_average is theirs.use_running_average is False
    both = nnx.List([ours, theirs])  # a module holding both: eval() reaches every layer
    traced = []

    @nnx.jit
    def call(layer, X):
        traced.append(layer.use_running_average)
        return layer(X)

    x = jnp.asarray(bn.batch(rng, (8, 3, 4, 4)))
    assert_close(call(ours, x), call(theirs, x), "output", atol=FLAX_ATOL["output"])
    assert not untouched(bn, ours) and not untouched(bn, theirs)
    both.eval()
    assert ours.use_running_average is theirs.use_running_average is True
    before = bn.running(ours) + bn.running(theirs)
    for _ in range(2):
        assert_close(call(ours, x), call(theirs, x), "output")
    for a, b in zip(before, bn.running(ours) + bn.running(theirs), strict=True):
        np.testing.assert_array_equal(a, b)
    both.train()
    assert ours.use_running_average is theirs.use_running_average is False
    assert traced == [False, False, True, True]  # per layer (ours, Flax's) and per mode


@pytest.mark.parametrize("framework", ["jax"])
def test_jax_float16_input_comes_back_float32(framework):
    """As flax.nnx.BatchNorm with float32 parameters (its default dtype promotion): the
    output of a float16 input is float32, and the statistics stay float32. (Ours averages
    in float16, Flax's in float32: they agree to float16 rounding.)"""
    bn = adapter(framework)
    rng = np.random.default_rng(8)
    ours, theirs = bn.pair(3, 4, rng)
    X = jnp.asarray(bn.batch(rng, (8, 3, 4, 4)), dtype=jnp.float16)
    for training in (True, False):
        bn.set_mode(ours, training), bn.set_mode(theirs, training)
        got, want = ours(X), theirs(X)
        assert got.dtype == want.dtype == jnp.float32
        assert_close(got, want, "output", **FLOAT16_TOL)
        for a, b in zip(bn.running(ours), bn.running(theirs), strict=True):
            np.testing.assert_allclose(a, b, **FLOAT16_TOL)
    assert ours.moving_mean.dtype == ours.moving_var.dtype == jnp.float32
