# %% slot=imports tags=definitions
import torch
from torch import nn

from d2l_bn import torch as d2l

# %% slot=batch_norm_fn tags=definitions
def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum, training):
    """Normalize X; return (output, new moving mean, new moving variance)."""
    if X.dim() not in (2, 4):
        raise ValueError(
            f"batch_norm expects a 2-D (batch, features) or 4-D (batch, channels, "
            f"height, width) input, got a {X.dim()}-D tensor of shape {tuple(X.shape)}.")
    if not training:
        # Prediction: fixed statistics, so every example is normalized on its own.
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
        return gamma * X_hat + beta, moving_mean, moving_var
    # Training: statistics of this minibatch, one mean and variance per channel.
    # (N, C): average over axis 0; (N, C, H, W): over axes 0, 2, 3 (keepdim to broadcast).
    axes = (0,) if X.dim() == 2 else (0, 2, 3)
    n = X.numel() // X.shape[1]  # how many values each channel's statistics average
    if n < 2:
        raise ValueError(
            "batch_norm in training mode needs at least two values per channel; a 2-D "
            "batch of one example has a single value per feature, so its variance is "
            "undefined and the output would be all zeros. Use a larger batch, or "
            "prediction mode.")
    mean = X.mean(dim=axes, keepdim=True)
    var = ((X - mean) ** 2).mean(dim=axes, keepdim=True)  # biased: divides by n
    X_hat = (X - mean) / torch.sqrt(var + eps)
    with torch.no_grad():  # the running averages are bookkeeping, not part of the graph
        moving_mean = (1 - momentum) * moving_mean + momentum * mean
        # PyTorch keeps the *unbiased* variance estimate (divide by n - 1) for prediction.
        moving_var = (1 - momentum) * moving_var + momentum * var * n / (n - 1)
    return gamma * X_hat + beta, moving_mean, moving_var

# %% slot=batch_norm_layer tags=definitions
class BatchNorm(nn.Module):
    """Batch normalization for 2-D (N, C) or 4-D (N, C, H, W) inputs."""

    def __init__(self, num_features, num_dims):
        super().__init__()
        if num_dims not in (2, 4):
            raise ValueError(f"num_dims must be 2 (dense) or 4 (conv), got {num_dims}.")
        shape = (1, num_features) if num_dims == 2 else (1, num_features, 1, 1)
        self.num_dims = num_dims
        self.gamma = nn.Parameter(torch.ones(shape))   # learned scale
        self.beta = nn.Parameter(torch.zeros(shape))   # learned shift
        # Buffers are saved with the model and moved by .to(device), but not trained.
        self.register_buffer("moving_mean", torch.zeros(shape))
        self.register_buffer("moving_var", torch.ones(shape))
        self.eps, self.momentum = 1e-5, 0.1

    def forward(self, X):
        if X.dim() != self.num_dims:
            raise ValueError(f"This BatchNorm was built for {self.num_dims}-D inputs, "
                             f"got shape {tuple(X.shape)}.")
        Y, self.moving_mean, self.moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var,
            self.eps, self.momentum, training=self.training)
        return Y

# %% slot=shapes_demo
torch.manual_seed(SEED)
for shape in [(8, 5), (8, 3, 4, 4)]:
    X = 3 * torch.randn(shape) + 2           # far from mean 0 and standard deviation 1
    layer = BatchNorm(shape[1], num_dims=len(shape))  # a new module is in training mode
    Y = layer(X)
    axes = (0,) if len(shape) == 2 else (0, 2, 3)
    mean_ok = torch.allclose(Y.mean(axes), torch.zeros(shape[1]), atol=1e-5)
    std_ok = torch.allclose(Y.std(axes, unbiased=False), torch.ones(shape[1]), atol=1e-3)
    print(f"{tuple(X.shape)} -> {tuple(Y.shape)}: "
          f"per-channel mean 0: {mean_ok}, per-channel std 1: {std_ok}")

# %% slot=bad_inputs
layer = BatchNorm(5, num_dims=2)
for X in [torch.randn(8, 5, 3), torch.randn(1, 5)]:
    try:
        layer(X)
    except ValueError as err:
        print(f"input {tuple(X.shape)}: ValueError: {err}\n")
layer.eval()
print("2-D batch of one, prediction mode:", tuple(layer(torch.randn(1, 5)).shape))
conv_layer = BatchNorm(3, num_dims=4)
print("4-D batch of one, training mode:  ", tuple(conv_layer(torch.randn(1, 3, 4, 4)).shape))

# %% slot=agreement
def report(name, ours, theirs, tol):
    diff = (ours.detach() - theirs.detach()).abs().max().item()
    print(f"{name:<18} max |diff| {diff:.1e}  within {tol:.0e}: {diff <= tol}")

torch.manual_seed(SEED)
ours = BatchNorm(16, num_dims=4)
theirs = nn.BatchNorm2d(16, eps=1e-5, momentum=0.1)
for step in range(3):                        # three training steps on different batches
    X = 2 * torch.randn(32, 16, 6, 6) + 1
    Y_ours, Y_theirs = ours(X), theirs(X)
report("training output", Y_ours, Y_theirs, 1e-5)
report("running mean", ours.moving_mean.flatten(), theirs.running_mean, 1e-6)
report("running variance", ours.moving_var.flatten(), theirs.running_var, 1e-6)
ours.eval(), theirs.eval()
X = 2 * torch.randn(32, 16, 6, 6) + 1
report("prediction output", ours(X), theirs(X), 1e-5)

# %% slot=conventions
torch.manual_seed(SEED)
layer = nn.BatchNorm1d(3)                    # the library's defaults
X = 2 * torch.randn(10, 3) + 1
layer(X)                                     # one training step from mean 0, variance 1
weight_new = (layer.running_mean / X.mean(0)).mean().item()
unbiased = (1 - weight_new) + weight_new * X.var(0, unbiased=True)
biased = (1 - weight_new) + weight_new * X.var(0, unbiased=False)
stored = ("unbiased (n - 1)" if torch.allclose(layer.running_var, unbiased)
          else "biased (n)" if torch.allclose(layer.running_var, biased) else "neither")
print(f"layer: nn.BatchNorm1d | default momentum {layer.momentum} | eps {layer.eps:g}")
print(f"weight of the new batch statistic after one step: {weight_new:.2f} "
      f"-> momentum weights the {'new statistic' if abs(weight_new - layer.momentum) < 1e-6 else 'old value'}")
print(f"running variance stored: {stored}")

# %% slot=lenet_scratch tags=definitions
class LeNetBNScratch(d2l.Classifier):
    """LeNet with our BatchNorm after every convolution and dense layer."""

    def __init__(self, lr=0.1):
        super().__init__(lr)
        self.net = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2), BatchNorm(6, num_dims=4),
            nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5), BatchNorm(16, num_dims=4),
            nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), BatchNorm(120, num_dims=2), nn.Sigmoid(),
            nn.Linear(120, 84), BatchNorm(84, num_dims=2), nn.Sigmoid(),
            nn.Linear(84, 10))

# %% slot=train_scratch tags=nbval-ignore-output
LR = 0.1
d2l.set_seed(SEED)
data = d2l.FashionMNIST(batch_size=128)
model = LeNetBNScratch(lr=LR)
trainer = d2l.Trainer(max_epochs=10)
scratch_result = trainer.fit(model, data)

# %% slot=gamma_beta tags=nbval-ignore-output
first_bn = model.net[1]
print("gamma:", first_bn.gamma.detach().flatten().numpy().round(3))
print("beta: ", first_bn.beta.detach().flatten().numpy().round(3))

# %% slot=lenet_concise tags=definitions
class LeNetBN(d2l.Classifier):
    """LeNet with PyTorch's own batch-normalization layers."""

    def __init__(self, lr=0.1):
        super().__init__(lr)
        self.net = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.BatchNorm2d(6),
            nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5), nn.BatchNorm2d(16),
            nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), nn.BatchNorm1d(120), nn.Sigmoid(),
            nn.Linear(120, 84), nn.BatchNorm1d(84), nn.Sigmoid(),
            nn.Linear(84, 10))

# %% slot=train_concise tags=nbval-ignore-output
d2l.set_seed(SEED)
model = LeNetBN(lr=LR)
trainer = d2l.Trainer(max_epochs=10)
concise_result = trainer.fit(model, data)

# %% slot=speed tags=nbval-ignore-output
ratio = concise_result.examples_per_sec / scratch_result.examples_per_sec
print(f"scratch BatchNorm:  {scratch_result.examples_per_sec:8,.0f} examples/sec")
print(f"built-in BatchNorm: {concise_result.examples_per_sec:8,.0f} examples/sec")
print(f"the built-in layer trains {ratio:.2f}x as fast")
