"""PyTorch adapter (the names of ``benchmarks.worker``). CPU operations are synchronous;
``sync`` still reads one value, to mark where the work is done."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from d2l_bn import torch as d2l

LAYOUT = "NCHW"
MODES = ("eager",)
LOOP_MODE = "eager"  # the mode of the raw training loop (and of d2l's Trainer)
RAW_LOOP = ("np.take batches, torch.from_numpy; F.cross_entropy, zero_grad, backward, "
            "torch.optim.SGD.step; loss.item() after the last step")

to_tensor = torch.from_numpy


def sync(result) -> None:
    """Read one value of ``result`` (a tensor or a tuple of them)."""
    first = result[0] if isinstance(result, (tuple, list)) else result
    first.detach().reshape(-1)[0].item()


def build(model: nn.Module, X: np.ndarray) -> nn.Module:
    """Initialized weights (the chapter's LeNets have no lazy layers), training mode."""
    d2l.init_cnn(model)
    return model.train()


def sgd_step(model: nn.Module, lr: float, mode: str):
    """A function (X, y) -> loss doing one plain SGD step."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def step(X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = F.cross_entropy(model(X), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss

    return step


def builtin_bn(channels: int, num_dims: int) -> nn.Module:
    cls = nn.BatchNorm1d if num_dims == 2 else nn.BatchNorm2d
    return cls(channels, eps=1e-5, momentum=0.1)


def forward_backward(layer: nn.Module, x: np.ndarray, upstream: np.ndarray, mode: str):
    """A call: layer(x) in training mode, then gradients of x, gamma and beta."""
    x, upstream = torch.from_numpy(x).requires_grad_(), torch.from_numpy(upstream)
    inputs = [x, *layer.train().parameters()]
    return lambda: torch.autograd.grad(layer(x), inputs, upstream)
