"""The chapter's scratch BatchNorm (TensorFlow, Keras 3, NHWC) against Keras's own layer.

The reference layer is configured to the chapter's convention: Keras's ``momentum`` weights
the *old* running value, so our momentum 0.1 (weight of the new batch statistic) is Keras's
0.9; eps is 1e-5 in both. Keras stores the *biased* batch variance in its running average,
and so does the scratch layer. All computations are float32.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from book.definitions import load_definitions as load

# Tolerances (float32). Worst cases of max |ours - Keras| measured with the data below over
# 60 seeds (5 training steps, then one prediction step, for each shape in SHAPES):
# - outputs: 1.2e-6 training, 1.9e-6 prediction; gradients w.r.t. the input: 3.3e-6.
#   Keras computes x * r + (beta - mean * r) with r = gamma / sqrt(var + eps), we compute
#   gamma * (x - mean) / sqrt(var + eps): the same value, rounded differently.
OUT_RTOL, OUT_ATOL = 1e-5, 1e-5
# - gradients w.r.t. gamma: 8.4e-5. They are sums over every example and location
#   (8 * 5 * 5 = 200 terms for the 4-D case), and Keras's form above makes that sum a
#   difference of two large terms when |mean| >> std; against a float64 reference the
#   error is 4.4e-5 for ours and 6.7e-5 for Keras's. Gradients w.r.t. beta: exactly 0.
PARAM_GRAD_RTOL, PARAM_GRAD_ATOL = 1e-5, 2e-4
# - running mean and variance: exactly 0 (the same float32 operations in the same order:
#   mean of squared deviations, then 0.9 * old + 0.1 * new).
STATS_RTOL, STATS_ATOL = 1e-6, 1e-6

EPS, MOMENTUM = 1e-5, 0.1
SHAPES = {"2d": (16, 7), "4d-nhwc": (8, 5, 5, 3)}


@pytest.fixture(scope="module")
def ch():
    """The chapter's definitions cells, executed once."""
    return load("tensorflow")


def make_pair(ch, shape, rng):
    """Our layer and Keras's, built, with the same random (non-trivial) gamma and beta."""
    C = shape[-1]
    ours = ch.BatchNorm(C, num_dims=len(shape))
    theirs = keras.layers.BatchNormalization(momentum=1 - MOMENTUM, epsilon=EPS)
    ours.build(shape)
    theirs.build(shape)
    gamma = rng.normal(1.0, 0.5, size=C).astype(np.float32)
    beta = rng.normal(0.0, 0.5, size=C).astype(np.float32)
    ours.gamma.assign(gamma.reshape(ours.gamma.shape))
    ours.beta.assign(beta.reshape(ours.beta.shape))
    theirs.gamma.assign(gamma)
    theirs.beta.assign(beta)
    return ours, theirs


def batch(rng, shape, shift=0.0):
    """A float32 batch with a different mean and scale per channel."""
    C = shape[-1]
    loc = shift + rng.normal(0.0, 1.0, size=C)
    scale = rng.uniform(0.5, 2.0, size=C)
    return tf.constant(rng.normal(loc, scale, size=shape), tf.float32)


def forward_and_grads(layer, X, W, training):
    """Output and d(sum(Y * W))/d(X, gamma, beta); the weights W make the loss non-trivial."""
    with tf.GradientTape() as tape:
        tape.watch(X)
        Y = layer(X, training=training)
        loss = tf.reduce_sum(Y * W)
    grads = tape.gradient(loss, [X, layer.gamma, layer.beta])
    return [Y.numpy()] + [g.numpy() for g in grads]


def assert_close(ours, theirs, rtol, atol, what):
    """Compare after flattening: our (1, C) / (1, 1, 1, C) against Keras's (C,)."""
    np.testing.assert_allclose(np.reshape(np.asarray(ours), -1),
                               np.reshape(np.asarray(theirs), -1),
                               rtol=rtol, atol=atol, err_msg=what)


def assert_same_step(ours, theirs, X, rng, training):
    """Same output and gradients (input, gamma, beta) from both layers on batch X."""
    W = tf.constant(rng.normal(size=X.shape), tf.float32)
    got = forward_and_grads(ours, X, W, training)
    want = forward_and_grads(theirs, X, W, training)
    mode = "training" if training else "prediction"
    assert_close(got[0], want[0], OUT_RTOL, OUT_ATOL, f"{mode} output")
    assert_close(got[1], want[1], OUT_RTOL, OUT_ATOL, f"{mode} grad wrt input")
    assert_close(got[2], want[2], PARAM_GRAD_RTOL, PARAM_GRAD_ATOL, f"{mode} grad wrt gamma")
    assert_close(got[3], want[3], PARAM_GRAD_RTOL, PARAM_GRAD_ATOL, f"{mode} grad wrt beta")


def assert_same_stats(ours, theirs, what=""):
    assert_close(ours.moving_mean, theirs.moving_mean, STATS_RTOL, STATS_ATOL,
                 f"running mean {what}")
    assert_close(ours.moving_var, theirs.moving_variance, STATS_RTOL, STATS_ATOL,
                 f"running var {what}")


# --- agreement with keras.layers.BatchNormalization -----------------------------------

@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_training_and_prediction_agree_with_keras(ch, shape):
    rng = np.random.default_rng(0)
    ours, theirs = make_pair(ch, shape, rng)
    for step in range(5):  # different batches, drifting mean: the running stats move
        X = batch(rng, shape, shift=0.5 * step)
        assert_same_step(ours, theirs, X, rng, training=True)
        assert_same_stats(ours, theirs, f"after training step {step + 1}")
    assert not np.allclose(ours.moving_mean.numpy(), 0.0)  # they really moved
    assert not np.allclose(ours.moving_var.numpy(), 1.0)
    X = batch(rng, shape, shift=1.0)
    assert_same_step(ours, theirs, X, rng, training=False)
    assert_same_stats(ours, theirs, "after a prediction step")


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_running_stats_follow_the_formula(ch, shape):
    """One step from (0, 1): moving = 0.9 * old + 0.1 * batch statistic, variance biased."""
    rng = np.random.default_rng(1)
    ours, _ = make_pair(ch, shape, rng)
    X = batch(rng, shape)
    ours(X, training=True)
    axes = tuple(range(len(shape) - 1))
    x = X.numpy().astype(np.float64)
    assert_close(ours.moving_mean, MOMENTUM * x.mean(axis=axes), 0, 1e-6, "mean")
    biased = x.var(axis=axes)  # ddof=0: divide by the count
    assert_close(ours.moving_var, (1 - MOMENTUM) + MOMENTUM * biased, 0, 1e-6, "var")
    unbiased = x.var(axis=axes, ddof=1)
    assert not np.allclose(ours.moving_var.numpy().ravel(),
                           (1 - MOMENTUM) + MOMENTUM * unbiased, rtol=0, atol=1e-4)


@pytest.mark.parametrize("training", [False, None], ids=["False", "None"])
def test_prediction_mode_changes_nothing(ch, training):
    """training=False and a bare call (None) both use, and keep, the running statistics."""
    rng = np.random.default_rng(2)
    ours, theirs = make_pair(ch, SHAPES["4d-nhwc"], rng)
    X = batch(rng, SHAPES["4d-nhwc"], shift=3.0)
    ours(X, training=True)
    theirs(X, training=True)
    mean, var = ours.moving_mean.numpy(), ours.moving_var.numpy()
    Y = ours(batch(rng, SHAPES["4d-nhwc"]), training=training)
    np.testing.assert_array_equal(ours.moving_mean.numpy(), mean)
    np.testing.assert_array_equal(ours.moving_var.numpy(), var)
    X = batch(rng, SHAPES["4d-nhwc"])
    assert_close(ours(X, training=training), theirs(X, training=training),
                 OUT_RTOL, OUT_ATOL, "prediction output")
    assert Y.shape == X.shape


def test_batch_norm_function_prediction_leaves_stats_unchanged(ch):
    rng = np.random.default_rng(3)
    X = tf.constant(rng.normal(size=(4, 7)), tf.float32)
    gamma, beta = tf.ones((1, 7)), tf.zeros((1, 7))
    mean0 = rng.normal(size=(1, 7)).astype(np.float32)
    var0 = rng.uniform(0.5, 2.0, size=(1, 7)).astype(np.float32)
    moving_mean, moving_var = tf.Variable(mean0), tf.Variable(var0)
    Y, new_mean, new_var = ch.batch_norm(X, gamma, beta, moving_mean, moving_var,
                                         EPS, MOMENTUM, training=False)
    np.testing.assert_array_equal(np.asarray(new_mean), mean0)
    np.testing.assert_array_equal(np.asarray(new_var), var0)
    np.testing.assert_array_equal(moving_mean.numpy(), mean0)
    np.testing.assert_array_equal(moving_var.numpy(), var0)
    np.testing.assert_allclose(Y.numpy(), (X.numpy() - mean0) / np.sqrt(var0 + EPS),
                               rtol=1e-6, atol=1e-6)


# --- compiled (tf.function) use, as in the Trainer ------------------------------------

@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_inside_tf_function(ch, shape):
    """Traced once with an unknown batch size, the layer normalizes and updates its stats."""
    rng = np.random.default_rng(4)
    ours, theirs = make_pair(ch, shape, rng)

    @tf.function(input_signature=[tf.TensorSpec((None, *shape[1:]), tf.float32)])
    def train_call(X):
        return ours(X, training=True)

    for step in range(3):
        X = batch(rng, shape, shift=1.0 + step)
        assert_close(train_call(X), theirs(X, training=True), OUT_RTOL, OUT_ATOL,
                     "training output under tf.function")
        assert_same_stats(ours, theirs, f"under tf.function, step {step + 1}")
    assert train_call.experimental_get_tracing_count() == 1
    assert np.all(np.abs(ours.moving_mean.numpy()) > 0.05)


# --- bad inputs ---------------------------------------------------------------------------

@pytest.mark.parametrize("rank", [3, 5])
@pytest.mark.parametrize("training", [True, False])
def test_wrong_rank_is_a_clear_error(ch, rank, training):
    X = tf.ones((2,) * (rank - 1) + (3,))
    with pytest.raises(ValueError, match=f"got a {rank}-D input"):
        ch.BatchNorm(3, num_dims=4)(X, training=training)
    one, zero = tf.ones((1, 3)), tf.zeros((1, 3))
    with pytest.raises(ValueError, match=f"2-D input .* or a 4-D input .* got a {rank}-D"):
        ch.batch_norm(X, one, zero, zero, one, EPS, MOMENTUM, training=training)


def test_2d_batch_of_one_in_training_is_a_clear_error(ch):
    layer = ch.BatchNorm(7, num_dims=2)
    X = tf.ones((1, 7))
    with pytest.raises(ValueError, match="more than one value per feature"):
        layer(X, training=True)
    one, zero = tf.ones((1, 7)), tf.zeros((1, 7))
    with pytest.raises(ValueError, match="batch of one"):
        ch.batch_norm(X, one, zero, zero, one, EPS, MOMENTUM, training=True)


def test_2d_batch_of_one_in_prediction_works(ch):
    layer = ch.BatchNorm(7, num_dims=2)
    Y = layer(tf.fill((1, 7), 2.0), training=False)
    # fresh running stats (0, 1): y = 2 / sqrt(1 + eps)
    np.testing.assert_allclose(Y.numpy(), np.full((1, 7), 2 / np.sqrt(1 + EPS)), rtol=1e-6)


def test_4d_batch_of_one_in_training_works(ch):
    rng = np.random.default_rng(5)
    shape = (1, 4, 4, 3)  # one image: the statistics run over its 16 locations
    ours, theirs = make_pair(ch, shape, rng)
    X = batch(rng, shape)
    assert_same_step(ours, theirs, X, rng, training=True)
    assert_same_stats(ours, theirs, "after a batch of one")


@pytest.mark.parametrize("num_dims", [1, 3, 5])
def test_num_dims_must_be_2_or_4(ch, num_dims):
    with pytest.raises(ValueError, match=f"num_dims must be 2 .* or 4 .*got {num_dims}"):
        ch.BatchNorm(6, num_dims=num_dims)


# --- the two LeNets -----------------------------------------------------------------------

def bn_layers(model, kind):
    return [layer for layer in model.net.layers if isinstance(layer, kind)]


def test_lenets_agree_when_given_the_same_weights(ch):
    """Same weights in LeNetBNScratch and LeNetBN: same logits in both modes, same stats."""
    rng = np.random.default_rng(6)
    scratch, concise = ch.LeNetBNScratch(lr=0.1), ch.LeNetBN(lr=0.1)
    X = tf.constant(rng.uniform(size=(32, 28, 28, 1)), tf.float32)
    scratch(X[:2], training=False)
    concise(X[:2], training=False)
    assert len(scratch.net.weights) == len(concise.net.weights)
    for ours, theirs in zip(scratch.net.weights, concise.net.weights, strict=True):
        assert int(np.prod(ours.shape)) == int(np.prod(theirs.shape)), (ours.path, theirs.path)
        theirs.assign(tf.reshape(ours, theirs.shape))
    assert_close(scratch(X, training=True), concise(X, training=True), OUT_RTOL, OUT_ATOL,
                 "LeNet training logits")  # measured <= 2.3e-6 over 10 seeds
    for ours, theirs in zip(bn_layers(scratch, ch.BatchNorm),
                            bn_layers(concise, keras.layers.BatchNormalization), strict=True):
        assert_same_stats(ours, theirs, "in LeNet")
    assert_close(scratch(X, training=False), concise(X, training=False), OUT_RTOL, OUT_ATOL,
                 "LeNet prediction logits")  # measured <= 3.6e-7


def test_classifier_steps_set_the_mode(ch):
    """training_step updates every BN layer's running mean; validation_step does not."""
    rng = np.random.default_rng(7)
    model = ch.LeNetBNScratch(lr=0.1)
    X = tf.constant(rng.uniform(size=(16, 28, 28, 1)), tf.float32)
    y = tf.constant(rng.integers(0, 10, size=16), tf.int64)
    model(X[:2], training=False)
    layers = bn_layers(model, ch.BatchNorm)
    assert len(layers) == 4
    model.validation_step(X, y)
    assert all(np.all(layer.moving_mean.numpy() == 0) for layer in layers)
    model.training_step(X, y)
    assert all(np.any(layer.moving_mean.numpy() != 0) for layer in layers)
