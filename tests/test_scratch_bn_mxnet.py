"""The MXNet chapter code: scratch BatchNorm against gluon.nn.BatchNorm, and bad inputs.

Gluon conventions these tests rely on (and check in ``test_gluon_conventions``):
``momentum`` is the weight of the *old* running value (so 0.9 = our 0.1), the stored
running variance is the *biased* batch variance, and the running statistics are updated
during the *backward* pass (a training-mode forward alone leaves them unchanged).
"""


import numpy as np
import pytest

from book.definitions import load_definitions as load

ch = load("mxnet")  # its imports cell loads d2l_bn.mxnet (numpy.bool shim) before MXNet
from mxnet import autograd, gluon, nd  # noqa: E402 (after the shim above)

# Tolerances on max |difference| in float32, with the data below (values of size ~1-10).
# Measured over 20 seeds and shapes (16, 7), (8, 3, 4, 4), (4, 5, 6, 6), 5 steps each:
TOL_OUTPUT = 1e-5      # training output <= 1.9e-6, prediction output <= 2.9e-6
TOL_STATS = 1e-5       # running mean <= 4.2e-7, running var (~3-9) <= 1.4e-6
TOL_GRAD_X = 1e-5      # input gradient <= 7.2e-7
TOL_GRAD_PARAM = 1e-4  # gamma/beta gradients <= 1.9e-5: sums of N*H*W terms, size ~10
STEPS = 5

SHAPES = [pytest.param((16, 7), id="2d"), pytest.param((8, 3, 4, 4), id="4d")]


def max_diff(a, b):
    return float(np.abs(a.asnumpy().ravel() - b.asnumpy().ravel()).max())


def as_nd(array):
    return nd.array(array, dtype="float32")


def make_pair(num_features, num_dims, rng):
    """Scratch and Gluon layers with the same random gamma and beta."""
    ours = ch.BatchNorm(num_features, num_dims)
    ours.initialize()
    ref = gluon.nn.BatchNorm(axis=1, momentum=0.9, epsilon=1e-5, in_channels=num_features)
    ref.initialize()
    gamma = rng.normal(1, 0.5, num_features).astype("float32")
    beta = rng.normal(0, 0.5, num_features).astype("float32")
    ours.gamma.set_data(as_nd(gamma.reshape(ours.gamma.shape)))
    ours.beta.set_data(as_nd(beta.reshape(ours.beta.shape)))
    ref.gamma.set_data(as_nd(gamma))
    ref.beta.set_data(as_nd(beta))
    return ours, ref


def stats(layer):
    """(running mean, running var) of either layer as flat numpy arrays."""
    if isinstance(layer, ch.BatchNorm):
        pair = layer.moving_mean, layer.moving_var
    else:
        pair = layer.running_mean, layer.running_var
    return tuple(p.data().asnumpy().ravel().copy() for p in pair)


def untouched(layer):
    """True while the running statistics still hold their initial zeros and ones."""
    mean, var = stats(layer)
    return bool((mean == 0).all() and (var == 1).all())


@pytest.mark.parametrize("shape", SHAPES)
def test_agrees_with_gluon(shape):
    rng = np.random.default_rng(0)
    ours, ref = make_pair(shape[1], len(shape), rng)
    weights = as_nd(rng.normal(size=shape))  # loss = sum(Y * weights): non-trivial grads
    for _ in range(STEPS):
        x = rng.normal(2, 3, size=shape).astype("float32")
        X_ours, X_ref = as_nd(x), as_nd(x)
        X_ours.attach_grad()
        X_ref.attach_grad()
        with autograd.record():  # training mode
            Y_ours, Y_ref = ours(X_ours), ref(X_ref)
            L_ours, L_ref = (Y_ours * weights).sum(), (Y_ref * weights).sum()
        # One backward call: the two graphs share `weights`, and MXNet frees a graph's
        # nodes after backward, so a second separate call would fail.
        autograd.backward([L_ours, L_ref])
        assert max_diff(Y_ours, Y_ref) <= TOL_OUTPUT
        assert max_diff(X_ours.grad, X_ref.grad) <= TOL_GRAD_X
        assert max_diff(ours.gamma.grad(), ref.gamma.grad()) <= TOL_GRAD_PARAM
        assert max_diff(ours.beta.grad(), ref.beta.grad()) <= TOL_GRAD_PARAM
        for a, b in zip(stats(ours), stats(ref)):
            assert np.abs(a - b).max() <= TOL_STATS
    X = as_nd(rng.normal(2, 3, size=shape))
    before = stats(ours)
    assert max_diff(ours(X), ref(X)) <= TOL_OUTPUT  # outside record(): prediction mode
    for a, b in zip(before, stats(ours)):
        assert np.array_equal(a, b)


def test_gluon_conventions():
    """What the scratch layer is matched to: measure Gluon's conventions directly."""
    layer = gluon.nn.BatchNorm(in_channels=1)
    layer.initialize()
    assert (layer._kwargs["momentum"], layer._kwargs["eps"]) == (0.9, 1e-5)
    X = as_nd([[0.0], [2.0]])  # mean 1; variance 1 biased, 2 unbiased
    with autograd.record():
        Y = layer(X)
    assert stats(layer)[0][0] == 0.0  # not updated by the forward pass ...
    Y.backward()
    mean, var = (s[0] for s in stats(layer))
    assert mean == pytest.approx(0.1)  # ... but by backward: 0.9 * 0 + 0.1 * 1
    assert var == pytest.approx(1.0)   # biased: 0.9 * 1 + 0.1 * 1 (unbiased would be 1.1)


@pytest.mark.parametrize("shape", SHAPES)
def test_function_normalizes_with_biased_variance(shape):
    rng = np.random.default_rng(1)
    x = rng.normal(2, 3, size=shape).astype("float32")
    C = shape[1]
    pshape = (1, C) if len(shape) == 2 else (1, C, 1, 1)
    axes = 0 if len(shape) == 2 else (0, 2, 3)
    ones, zeros = nd.ones(pshape), nd.zeros(pshape)
    with autograd.train_mode():
        Y, mean, var = ch.batch_norm(as_nd(x), ones, zeros, zeros, ones, eps=1e-5,
                                     momentum=0.1)
    expected = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(
        x.var(axis=axes, keepdims=True) + 1e-5)
    assert np.abs(Y.asnumpy() - expected).max() <= TOL_OUTPUT
    assert np.allclose(mean.asnumpy(), 0.1 * x.mean(axis=axes, keepdims=True), atol=1e-6)
    assert np.allclose(var.asnumpy(), 0.9 + 0.1 * x.var(axis=axes, keepdims=True),
                        atol=TOL_STATS)


@pytest.mark.parametrize("shape", SHAPES)
def test_mode_comes_from_is_training_not_recording(shape):
    rng = np.random.default_rng(2)
    layer = ch.BatchNorm(shape[1], len(shape))
    layer.initialize()
    X = as_nd(rng.normal(2, 3, size=shape))
    with autograd.record(train_mode=False):  # recording, but prediction mode
        Y = layer(X)
    # Prediction with fresh statistics (mean 0, var 1): Y = X / sqrt(1 + eps).
    assert max_diff(Y, X / np.sqrt(1 + 1e-5)) <= TOL_OUTPUT
    assert untouched(layer)
    with autograd.train_mode():  # training mode without recording
        Y = layer(X)
    axes = 0 if len(shape) == 2 else (0, 2, 3)
    assert np.allclose(Y.asnumpy().mean(axis=axes), 0, atol=1e-5)
    assert not untouched(layer)


@pytest.mark.parametrize("rank", [3, 5])
@pytest.mark.parametrize("training", [True, False], ids=["train", "pred"])
def test_other_ranks_raise(rank, training):
    layer = ch.BatchNorm(3, 2)
    layer.initialize()
    X = nd.ones((2, 3) + (4,) * (rank - 2))
    with autograd.train_mode() if training else autograd.predict_mode():
        with pytest.raises(ValueError, match=f"got a {rank}-D input"):
            layer(X)
        ones = nd.ones((1, 3))
        with pytest.raises(ValueError, match=f"got a {rank}-D input"):
            ch.batch_norm(X, ones, ones, ones, ones, eps=1e-5, momentum=0.1)


def test_2d_batch_of_one_raises_in_training():
    layer = ch.BatchNorm(7, 2)
    layer.initialize()
    with autograd.record(), pytest.raises(ValueError, match="more than one value per channel"):
        layer(nd.ones((1, 7)))
    assert untouched(layer)


def test_2d_batch_of_one_works_in_prediction():
    layer = ch.BatchNorm(7, 2)
    layer.initialize()
    X = as_nd(np.arange(7, dtype="float32").reshape(1, 7))
    Y = layer(X)  # outside record(): prediction mode
    assert Y.shape == (1, 7)
    assert max_diff(Y, X / np.sqrt(1 + 1e-5)) <= TOL_OUTPUT


def test_4d_batch_of_one_works_in_training():
    layer = ch.BatchNorm(3, 4)
    layer.initialize()
    X = as_nd(np.random.default_rng(3).normal(size=(1, 3, 4, 4)))
    with autograd.record():
        Y = layer(X)
    assert Y.shape == (1, 3, 4, 4)
    assert np.isfinite(Y.asnumpy()).all()
    assert np.allclose(Y.asnumpy().mean(axis=(0, 2, 3)), 0, atol=1e-5)


@pytest.mark.parametrize("num_dims", [1, 3, 5])
def test_layer_rejects_num_dims(num_dims):
    with pytest.raises(ValueError, match="num_dims"):
        ch.BatchNorm(4, num_dims=num_dims)


@pytest.mark.parametrize("shape", SHAPES)
def test_prediction_leaves_moving_stats_unchanged(shape):
    rng = np.random.default_rng(4)
    layer = ch.BatchNorm(shape[1], len(shape))
    layer.initialize()
    for _ in range(2):  # move the statistics away from their initial values first
        with autograd.record():
            layer(as_nd(rng.normal(2, 3, size=shape)))
    before = stats(layer)
    layer(as_nd(rng.normal(-5, 1, size=shape)))
    with autograd.predict_mode():
        layer(as_nd(rng.normal(-5, 1, size=shape)))
    for a, b in zip(before, stats(layer)):
        assert np.array_equal(a, b)


def test_parameter_shapes_and_initial_values():
    for num_dims, shape in [(2, (1, 5)), (4, (1, 5, 1, 1))]:
        layer = ch.BatchNorm(5, num_dims)
        layer.initialize()
        params = (layer.gamma, layer.beta, layer.moving_mean, layer.moving_var)
        for param, value in zip(params, (1, 0, 0, 1)):
            assert param.shape == shape
            assert np.array_equal(param.data().asnumpy(), np.full(shape, value))
        assert [p.grad_req for p in params] == ["write", "write", "null", "null"]


@pytest.mark.parametrize("model_class", ["LeNetBNScratch", "LeNetBN"])
def test_lenet_one_sgd_step(model_class):
    """Xavier init keeps BN's own initializers; the SGD step leaves the moving stats alone."""
    from d2l_bn import mxnet as d2l

    model = getattr(ch, model_class)(lr=0.1)
    d2l.init_cnn(model)
    rng = np.random.default_rng(5)
    X = as_nd(rng.uniform(size=(8, 1, 28, 28)))
    y = as_nd(rng.integers(0, 10, size=8))
    assert model(X).shape == (8, 10)  # prediction mode; completes deferred shapes
    bns = [layer for layer in model.net if "batchnorm" in type(layer).__name__.lower()]
    assert len(bns) == 4
    for bn in bns:
        assert (bn.gamma.data().asnumpy() == 1).all()
        assert (bn.beta.data().asnumpy() == 0).all()
        assert untouched(bn)
    optimizer = model.configure_optimizers()
    with autograd.record():
        loss, _ = model.training_step(X, y)
    loss.backward()  # by now both kinds of layer have updated their running statistics
    before = [stats(bn) for bn in bns]
    optimizer.step(1)
    assert np.isfinite(loss.asscalar())
    for bn, (mean, var) in zip(bns, before):
        assert not untouched(bn)
        assert np.array_equal(stats(bn)[0], mean) and np.array_equal(stats(bn)[1], var)
