# %% slot=imports tags=definitions
from d2l_bn import tensorflow as d2l
import keras
import numpy as np
import tensorflow as tf

# %% slot=batch_norm_fn tags=definitions
def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum, training):
    """Normalize X; return (Y, new moving mean, new moving variance)."""
    if len(X.shape) == 2:
        axes = [0]  # (N, features): one mean and variance per feature
    elif len(X.shape) == 4:
        axes = [0, 1, 2]  # (N, H, W, C): per channel, over examples and locations
    else:
        raise ValueError(
            "batch_norm expects a 2-D input (N, features) or a 4-D input "
            f"(N, H, W, C), but got a {len(X.shape)}-D input of shape {tuple(X.shape)}.")
    if not training:
        # Prediction: use the running statistics collected during training, so the
        # output for one example does not depend on the rest of its batch.
        X_hat = (X - moving_mean) / tf.sqrt(moving_var + eps)
        return gamma * X_hat + beta, moving_mean, moving_var
    if len(X.shape) == 2 and X.shape[0] == 1:
        raise ValueError(
            "batch_norm in training mode needs more than one value per feature to "
            f"estimate a variance, but got a batch of one example, shape {tuple(X.shape)}. "
            "Use a larger batch, or prediction mode (training=False) for single examples.")
    # keepdims: (1, C) or (1, 1, 1, C), broadcastable against X
    mean = tf.reduce_mean(X, axis=axes, keepdims=True)
    # The biased variance (divide by the count n, not n - 1), as in the paper
    var = tf.reduce_mean(tf.square(X - mean), axis=axes, keepdims=True)
    X_hat = (X - mean) / tf.sqrt(var + eps)
    # Running averages: momentum is the weight of the *new* batch statistic here
    moving_mean = (1.0 - momentum) * moving_mean + momentum * mean
    moving_var = (1.0 - momentum) * moving_var + momentum * var
    return gamma * X_hat + beta, moving_mean, moving_var

# %% slot=batch_norm_layer tags=definitions
class BatchNorm(keras.layers.Layer):
    """Batch normalization for (N, features) (num_dims=2) or (N, H, W, C) (num_dims=4)."""

    def __init__(self, num_features, num_dims, **kwargs):
        super().__init__(**kwargs)
        if num_dims not in (2, 4):
            raise ValueError("num_dims must be 2 (input (N, features)) or 4 "
                             f"(input (N, H, W, C)), got {num_dims}.")
        # (1, C) or (1, 1, 1, C): broadcasts over everything but the feature axis
        self.param_shape = (1, num_features) if num_dims == 2 else (1, 1, 1, num_features)
        self.eps, self.momentum = 1e-5, 0.1

    def build(self, input_shape):
        # Learned by SGD: the scale gamma and the shift beta
        self.gamma = self.add_weight(shape=self.param_shape, initializer="ones",
                                     name="gamma")
        self.beta = self.add_weight(shape=self.param_shape, initializer="zeros",
                                    name="beta")
        # Not learned: running statistics, overwritten with .assign in training mode.
        # As layer weights they are saved with the model and live on its device.
        self.moving_mean = self.add_weight(shape=self.param_shape, initializer="zeros",
                                           trainable=False, name="moving_mean")
        self.moving_var = self.add_weight(shape=self.param_shape, initializer="ones",
                                          trainable=False, name="moving_var")

    def call(self, X, training=None):
        # Keras passes training=True or False down from the model's call;
        # None (a bare call) counts as prediction, as for Keras's own layers.
        Y, moving_mean, moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var,
            self.eps, self.momentum, training)
        if training:
            self.moving_mean.assign(moving_mean)
            self.moving_var.assign(moving_var)
        return Y

# %% slot=shapes_demo
rng = np.random.default_rng(SEED)
for shape in [(8, 5), (8, 4, 4, 3)]:  # dense output; NHWC feature maps
    X = tf.constant(rng.normal(3.0, 2.0, size=shape), tf.float32)
    Y = BatchNorm(shape[-1], num_dims=len(shape))(X, training=True)
    axes = list(range(len(shape) - 1))  # all axes but the last (features/channels)
    mean, std = tf.reduce_mean(Y, axis=axes), tf.math.reduce_std(Y, axis=axes)
    print(f"input {shape} -> output {tuple(Y.shape)}; per-channel "
          f"mean ~0: {np.allclose(mean, 0, atol=1e-5)}, "
          f"std ~1: {np.allclose(std, 1, atol=1e-3)}")

# %% slot=bad_inputs
gamma, beta = tf.ones((1, 5)), tf.zeros((1, 5))
moving_mean, moving_var = tf.zeros((1, 5)), tf.ones((1, 5))
for X in [tf.ones((2, 3, 5)), tf.ones((1, 5))]:  # a 3-D input; a 2-D batch of one
    try:
        batch_norm(X, gamma, beta, moving_mean, moving_var, 1e-5, 0.1, training=True)
    except ValueError as err:
        # (Through the layer, Keras re-raises it with the call's arguments appended.)
        print("ValueError:", err)
# A 4-D batch of one is fine: each channel still has 4 * 4 values
Y = BatchNorm(5, num_dims=4)(tf.ones((1, 4, 4, 5)), training=True)
print("4-D batch of one, training mode: output shape", tuple(Y.shape))

# %% slot=agreement
rng = np.random.default_rng(SEED)
ours = BatchNorm(3, num_dims=4)
# Keras's momentum weights the *old* value: its 0.9 is our 0.1
theirs = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)

def max_diff(a, b):
    return float(tf.reduce_max(tf.abs(tf.reshape(a, [-1]) - tf.reshape(b, [-1]))))

train_diff = 0.0
for step in range(3):  # training mode: batch statistics, running averages updated
    X = tf.constant(rng.normal(1.0, 2.0, size=(16, 5, 5, 3)), tf.float32)
    train_diff = max(train_diff, max_diff(ours(X, training=True),
                                          theirs(X, training=True)))
X = tf.constant(rng.normal(1.0, 2.0, size=(16, 5, 5, 3)), tf.float32)
checks = [  # (what, max |diff|, tolerance), float32 throughout
    ("training output", train_diff, 1e-5),
    ("running mean", max_diff(ours.moving_mean, theirs.moving_mean), 1e-6),
    ("running var", max_diff(ours.moving_var, theirs.moving_variance), 1e-6),
    ("prediction output", max_diff(ours(X, training=False),
                                   theirs(X, training=False)), 1e-5)]
for what, diff, tol in checks:
    print(f"{what:<18}max |diff| {diff:.1e}  within {tol:.0e}: {diff <= tol}")

# %% slot=conventions
layer = keras.layers.BatchNormalization()  # a fresh layer, to read its defaults
# One training step from moving mean 0 and moving variance 1 on a batch of four numbers
# with mean 1, biased variance 8 / 4 = 2 and unbiased variance 8 / 3 = 2.667
X = tf.constant([[-1.0], [1.0], [1.0], [3.0]])  # (N, 1): one feature
layer(X, training=True)
w = float(layer.moving_mean[0])  # (1 - w) * 0 + w * 1: w is the weight of the new value
stored = (float(layer.moving_variance[0]) - (1 - w)) / w  # the variance it averaged in
weighs = "old running value" if np.isclose(w, 1 - layer.momentum) else "new batch value"
kind = "biased (/ n)" if np.isclose(stored, 2.0) else "unbiased (/ (n - 1))"
print(f"weight of the new batch value: {w:.4f} (momentum = {layer.momentum:g})")
print(f"batch variance it stored: {stored:.3f} (biased 2.000, unbiased 2.667)\n")
print(f"{'layer':<27}{'momentum weighs the':<21}{'default momentum':<18}"
      f"{'default eps':<13}running variance")
print(f"{'layers.BatchNormalization':<27}{weighs:<21}{layer.momentum:<18g}"
      f"{layer.epsilon:<13g}{kind}")

# %% slot=lenet_scratch tags=definitions
class LeNetBNScratch(d2l.Classifier):
    """LeNet with our BatchNorm after every convolution and dense layer but the last."""

    def __init__(self, lr=0.1):
        super().__init__(lr)
        self.net = keras.Sequential([  # input (N, 28, 28, 1)
            keras.layers.Conv2D(6, kernel_size=5, padding="same"),  # (N, 28, 28, 6)
            BatchNorm(6, num_dims=4), keras.layers.Activation("sigmoid"),
            keras.layers.AvgPool2D(pool_size=2, strides=2),  # (N, 14, 14, 6)
            keras.layers.Conv2D(16, kernel_size=5),  # (N, 10, 10, 16)
            BatchNorm(16, num_dims=4), keras.layers.Activation("sigmoid"),
            keras.layers.AvgPool2D(pool_size=2, strides=2),  # (N, 5, 5, 16)
            keras.layers.Flatten(),  # (N, 400)
            keras.layers.Dense(120), BatchNorm(120, num_dims=2),
            keras.layers.Activation("sigmoid"),
            keras.layers.Dense(84), BatchNorm(84, num_dims=2),
            keras.layers.Activation("sigmoid"),
            keras.layers.Dense(10)])  # logits (N, 10)

# %% slot=train_scratch tags=nbval-ignore-output
LR = 0.1
d2l.set_seed(SEED)
data = d2l.FashionMNIST(batch_size=128)
model = LeNetBNScratch(lr=LR)
trainer = d2l.Trainer(max_epochs=10)
scratch_result = trainer.fit(model, data)

# %% slot=gamma_beta tags=nbval-ignore-output
bn1 = model.net.layers[1]  # the BatchNorm after the first convolution
# (+ 0.0 turns a rounded -0.0 into 0.0)
print("gamma:", np.round(bn1.gamma.numpy().ravel(), 3) + 0.0)
print("beta: ", np.round(bn1.beta.numpy().ravel(), 3) + 0.0)

# %% slot=lenet_concise tags=definitions
class LeNetBN(d2l.Classifier):
    """The same LeNet with Keras's BatchNormalization, which infers the channel count."""

    def __init__(self, lr=0.1):
        super().__init__(lr)

        def bn():  # our momentum 0.1 on the new value = Keras's 0.9 on the old one
            return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)

        self.net = keras.Sequential([
            keras.layers.Conv2D(6, kernel_size=5, padding="same"),
            bn(), keras.layers.Activation("sigmoid"),
            keras.layers.AvgPool2D(pool_size=2, strides=2),
            keras.layers.Conv2D(16, kernel_size=5),
            bn(), keras.layers.Activation("sigmoid"),
            keras.layers.AvgPool2D(pool_size=2, strides=2),
            keras.layers.Flatten(),
            keras.layers.Dense(120), bn(), keras.layers.Activation("sigmoid"),
            keras.layers.Dense(84), bn(), keras.layers.Activation("sigmoid"),
            keras.layers.Dense(10)])

# %% slot=train_concise tags=nbval-ignore-output
d2l.set_seed(SEED)  # same seed, data and hyperparameters as the scratch run
model = LeNetBN(lr=LR)
trainer = d2l.Trainer(max_epochs=10)
concise_result = trainer.fit(model, data)

# %% slot=speed tags=nbval-ignore-output
scratch_speed = scratch_result.examples_per_sec
concise_speed = concise_result.examples_per_sec
print(f"scratch BatchNorm:   {scratch_speed:,.0f} examples/sec")
print(f"BatchNormalization:  {concise_speed:,.0f} examples/sec")
print(f"built-in / scratch:  {concise_speed / scratch_speed:.2f}")
