# %% slot=imports tags=definitions
from d2l_bn import mxnet as d2l  # first: it makes MXNet 1.9.1 importable on numpy 1.26
import numpy as np
from mxnet import autograd, init, nd
from mxnet.gluon import nn

# %% slot=batch_norm_fn tags=definitions
def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    """Batch-normalize X; return (Y, new moving_mean, new moving_var).

    X is (N, C) after a dense layer or (N, C, H, W) after a convolution. gamma, beta
    and the moving statistics have shape (1, C) or (1, C, 1, 1), so they broadcast.
    """
    if X.ndim not in (2, 4):
        raise ValueError(f"batch_norm expects a 2-D input (batch, features) or a 4-D "
                         f"input (batch, channels, height, width); got a {X.ndim}-D "
                         f"input of shape {X.shape}.")
    # MXNet's mode is global: autograd.record() switches training mode on,
    # autograd.predict_mode() / train_mode() set it explicitly.
    if not autograd.is_training():
        # Prediction: use the running statistics, so the output for an example does
        # not depend on the rest of its batch.
        X_hat = (X - moving_mean) / nd.sqrt(moving_var + eps)
    else:
        # Statistics per feature (2-D) or per channel over all locations (4-D).
        axes = 0 if X.ndim == 2 else (0, 2, 3)
        if X.size // X.shape[1] == 1:  # values per channel: N (2-D) or N * H * W (4-D)
            raise ValueError(f"batch_norm in training mode needs more than one value per "
                             f"channel to estimate a variance, got input of shape "
                             f"{X.shape}: every output would just be beta. Use a larger "
                             f"batch, or prediction mode.")
        mean = X.mean(axis=axes, keepdims=True)              # (1, C) or (1, C, 1, 1)
        var = ((X - mean) ** 2).mean(axis=axes, keepdims=True)  # biased: divide by n
        X_hat = (X - mean) / nd.sqrt(var + eps)
        # Running averages: bookkeeping for prediction, so no gradient flows into them.
        # momentum is the weight of the *new* batch statistic (0.1 in this chapter).
        moving_mean = (1 - momentum) * moving_mean + momentum * mean.detach()
        moving_var = (1 - momentum) * moving_var + momentum * var.detach()
    Y = gamma * X_hat + beta  # learned scale and shift
    return Y, moving_mean, moving_var

# %% slot=batch_norm_layer tags=definitions
class BatchNorm(nn.Block):
    """Batch normalization for 2-D (N, C) or 4-D (N, C, H, W) inputs.

    A plain Block, not a HybridBlock: it updates its running statistics in Python.
    """
    def __init__(self, num_features, num_dims, eps=1e-5, momentum=0.1):
        super().__init__()
        if num_dims not in (2, 4):
            raise ValueError(f"num_dims must be 2 (after a dense layer) or 4 (after a "
                             f"convolution), got {num_dims}.")
        shape = (1, num_features) if num_dims == 2 else (1, num_features, 1, 1)
        self.eps, self.momentum = eps, momentum
        # Learned scale and shift: start as the identity map.
        self.gamma = self.params.get('gamma', shape=shape, init=init.One())
        self.beta = self.params.get('beta', shape=shape, init=init.Zero())
        # Running statistics: Parameters so they are saved and moved with the model,
        # but grad_req='null' keeps the optimizer away from them.
        self.moving_mean = self.params.get('moving_mean', shape=shape, init=init.Zero(),
                                           grad_req='null')
        self.moving_var = self.params.get('moving_var', shape=shape, init=init.One(),
                                          grad_req='null')

    def forward(self, X):
        ctx = X.context  # use the copies on the input's device
        Y, moving_mean, moving_var = batch_norm(
            X, self.gamma.data(ctx), self.beta.data(ctx), self.moving_mean.data(ctx),
            self.moving_var.data(ctx), eps=self.eps, momentum=self.momentum)
        if autograd.is_training():  # in prediction mode they came back unchanged
            # set_data copies the new values into the Parameter (on every device).
            self.moving_mean.set_data(moving_mean)
            self.moving_var.set_data(moving_var)
        return Y

# %% slot=shapes_demo
d2l.set_seed(SEED)
for shape in [(8, 5), (8, 3, 4, 4)]:
    X = nd.random.normal(3, 2, shape=shape)  # mean 3, std 2: far from standardized
    layer = BatchNorm(shape[1], num_dims=len(shape))
    layer.initialize()
    with autograd.train_mode():  # training mode; no gradients needed here
        Y = layer(X)
    axes = 0 if len(shape) == 2 else (0, 2, 3)
    Y = Y.asnumpy()
    print(Y.shape, 'per-channel mean ~ 0:', np.allclose(Y.mean(axis=axes), 0, atol=1e-5),
          '| std ~ 1:', np.allclose(Y.std(axis=axes), 1, atol=1e-3))

# %% slot=bad_inputs
layer = BatchNorm(3, num_dims=2)
layer.initialize()
for X in [nd.ones((2, 3, 4)), nd.ones((1, 3))]:
    try:
        with autograd.train_mode():
            layer(X)
    except ValueError as err:
        print('ValueError:', err)
# After a convolution one example still has H * W values per channel.
conv_layer = BatchNorm(3, num_dims=4)
conv_layer.initialize()
with autograd.train_mode():
    print('4-D batch of one:', conv_layer(nd.random.normal(shape=(1, 3, 4, 4))).shape)

# %% slot=agreement
d2l.set_seed(SEED)
C = 3
# Same rule, opposite naming: our momentum 0.1 weights the new batch statistic,
# Gluon's momentum 0.9 weights the old running value.
ours = BatchNorm(C, num_dims=4)
theirs = nn.BatchNorm(momentum=0.9, epsilon=1e-5, in_channels=C)
ours.initialize()
theirs.initialize()
# float32 tolerances. The running variance is ~3 here, where a few rounding steps
# already add up to ~1e-6, so the running statistics get 1e-5 as well.
TOL_OUT, TOL_STATS = 1e-5, 1e-5

def max_diff(a, b):
    return float(np.abs(a.asnumpy().ravel() - b.asnumpy().ravel()).max())

train_diff = 0.0
for _ in range(3):
    X = nd.random.normal(2, 3, shape=(8, C, 4, 4))
    with autograd.record():  # training mode
        Y_ours, Y_theirs = ours(X), theirs(X)
    # Gluon's layer updates its running statistics in the *backward* pass, so run
    # it (one call for both graphs: they share the input X).
    autograd.backward([Y_ours, Y_theirs])
    train_diff = max(train_diff, max_diff(Y_ours, Y_theirs))
X = nd.random.normal(2, 3, shape=(8, C, 4, 4))
pred_diff = max_diff(ours(X), theirs(X))  # outside record(): prediction mode
mean_diff = max_diff(ours.moving_mean.data(), theirs.running_mean.data())
var_diff = max_diff(ours.moving_var.data(), theirs.running_var.data())
for name, diff, tol in [('training output', train_diff, TOL_OUT),
                        ('running mean', mean_diff, TOL_STATS),
                        ('running var', var_diff, TOL_STATS),
                        ('prediction output', pred_diff, TOL_OUT)]:
    print(f'{name:<17} max |diff| {diff:.1e}  within {tol:.0e}: {diff <= tol}')

# %% slot=conventions
layer = nn.BatchNorm(in_channels=1)  # a fresh built-in layer with its defaults
layer.initialize()
momentum, eps = layer._kwargs['momentum'], layer._kwargs['eps']  # no public attribute
# One training step from running mean 0, running var 1 on a batch with mean 1 and
# variance 1 (biased, divide by n = 2) or 2 (unbiased, divide by n - 1 = 1).
X = nd.array([[0.0], [2.0]])
with autograd.record():
    Y = layer(X)
after_forward = layer.running_mean.data().asscalar()
Y.backward()
mean = layer.running_mean.data().asscalar()
var = layer.running_var.data().asscalar()
weights_old = np.isclose(mean, momentum * 0 + (1 - momentum) * 1)
w_new = 1 - momentum if weights_old else momentum  # weight of the batch statistic
biased = np.isclose(var, (1 - w_new) * 1 + w_new * 1.0)
unbiased = np.isclose(var, (1 - w_new) * 1 + w_new * 2.0)
print('MXNet gluon.nn.BatchNorm')
print(f"{'default momentum':<28}{momentum}")
print(f"{'default eps':<28}{eps}")
print(f"{'running mean after 1 step':<28}{mean:.4f} -> momentum weights the "
      f"{'old running value' if weights_old else 'new batch statistic'}")
print(f"{'running var after 1 step':<28}{var:.4f} -> stored variance is "
      f"{'biased' if biased else 'unbiased' if unbiased else 'neither?'}")
print(f"{'running stats updated in':<28}"
      f"{'forward' if after_forward != 0 else 'backward'} pass")

# %% slot=lenet_scratch tags=definitions
class LeNetBNScratch(d2l.Classifier):
    """LeNet with our BatchNorm after every convolution and hidden dense layer."""
    def __init__(self, lr=0.1):
        super().__init__(lr)
        self.net = nn.Sequential()  # not Hybrid: our BatchNorm is a plain Block
        self.net.add(
            nn.Conv2D(6, kernel_size=5, padding=2), BatchNorm(6, num_dims=4),
            nn.Activation('sigmoid'),
            nn.AvgPool2D(pool_size=2, strides=2),  # (N, 6, 14, 14)
            nn.Conv2D(16, kernel_size=5), BatchNorm(16, num_dims=4),
            nn.Activation('sigmoid'),
            nn.AvgPool2D(pool_size=2, strides=2),  # (N, 16, 5, 5)
            nn.Flatten(),                          # (N, 400)
            nn.Dense(120), BatchNorm(120, num_dims=2), nn.Activation('sigmoid'),
            nn.Dense(84), BatchNorm(84, num_dims=2), nn.Activation('sigmoid'),
            nn.Dense(10))

# %% slot=train_scratch tags=nbval-ignore-output
LR = 0.1  # placeholder
d2l.set_seed(SEED)
data = d2l.FashionMNIST(batch_size=128)
model = LeNetBNScratch(lr=LR)
trainer = d2l.Trainer(max_epochs=10)
scratch_result = trainer.fit(model, data)

# %% slot=gamma_beta tags=nbval-ignore-output
first_bn = model.net[1]  # the BatchNorm after the first convolution
# list_data()[0]: the copy on the training device; "+ 0" turns -0.0 into 0.0.
print('gamma:', first_bn.gamma.list_data()[0].asnumpy().ravel().round(3) + 0)
print('beta: ', first_bn.beta.list_data()[0].asnumpy().ravel().round(3) + 0)

# %% slot=lenet_concise tags=definitions
class LeNetBN(d2l.Classifier):
    """LeNet with Gluon's BatchNorm, which infers the number of channels itself."""
    def __init__(self, lr=0.1):
        super().__init__(lr)
        # A plain Sequential as in the scratch model, so the speed comparison isolates
        # the BN layers. (hybridize() on a HybridSequential did not speed up this small
        # network on our CPU.)
        self.net = nn.Sequential()
        self.net.add(
            nn.Conv2D(6, kernel_size=5, padding=2), nn.BatchNorm(),
            nn.Activation('sigmoid'), nn.AvgPool2D(pool_size=2, strides=2),
            nn.Conv2D(16, kernel_size=5), nn.BatchNorm(),
            nn.Activation('sigmoid'), nn.AvgPool2D(pool_size=2, strides=2),
            nn.Flatten(),
            nn.Dense(120), nn.BatchNorm(), nn.Activation('sigmoid'),
            nn.Dense(84), nn.BatchNorm(), nn.Activation('sigmoid'),
            nn.Dense(10))

# %% slot=train_concise tags=nbval-ignore-output
LR = 0.1  # placeholder
d2l.set_seed(SEED)
model = LeNetBN(lr=LR)
trainer = d2l.Trainer(max_epochs=10)
concise_result = trainer.fit(model, data)

# %% slot=speed tags=nbval-ignore-output
scratch_speed = scratch_result.examples_per_sec
concise_speed = concise_result.examples_per_sec
print(f'scratch BatchNorm:  {scratch_speed:8,.0f} examples/sec')
print(f'built-in BatchNorm: {concise_speed:8,.0f} examples/sec')
print(f'built-in / scratch: {concise_speed / scratch_speed:.1f}x')
