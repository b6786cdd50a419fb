"""PyTorch adapter: the same small functions as ``fw_tensorflow`` and ``fw_mxnet``.

Every ``*_side(s)`` function returns callables for ``timing.interleave``: each does one
unit of work and returns its seconds. PyTorch on the CPU runs every operation before
returning, so no extra synchronization is needed; the loops still read one value at
the end to mark where the work is done.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from d2l_bn import torch as d2l

from .timing import per_call

NAME = "pytorch"
LAYOUT = "NCHW"
MODES = ("eager",)

RAW_LOOP = ("numpy permutation per epoch; torch.from_numpy(np.take(X, idx, axis=0)) and the "
            "same for y; "
            "F.cross_entropy(model(X), y); zero_grad(set_to_none=True); backward(); "
            "torch.optim.SGD.step(); model.train() once; loss.item() once after the last "
            "step (CPU ops are synchronous anyway)")
RAW_SYNCED = "the raw loop plus loss.item() after every step"
STEP = ("fixed pre-converted batch; F.cross_entropy, zero_grad(set_to_none=True), "
        "backward, SGD.step; model.train()")
LAYER = ("layer(x) then torch.autograd.grad(y, [x, gamma, beta], upstream) with a fixed "
         "random upstream gradient; training mode")


def versions() -> dict:
    return {"torch": torch.__version__}


def threads() -> dict:
    return {"intra_op": torch.get_num_threads(), "inter_op": torch.get_num_interop_threads(),
            "mkldnn": torch.backends.mkldnn.is_available()}


def _init(model: nn.Module) -> nn.Module:
    d2l.init_cnn(model)
    return model.train()


def _sgd_step(model: nn.Module, optimizer, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """One plain SGD step; returns the loss."""
    loss = F.cross_entropy(model(X), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss


def raw_epoch_side(chapter, data, lr: float, sync_every_step: bool):
    """One epoch of a minimal hand-written loop over ``data``'s numpy arrays."""
    model = _init(chapter.LeNetBN(lr=lr))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    X_all, y_all, bs = data.train_X, data.train_y, data.batch_size

    def epoch() -> float:
        start = time.perf_counter()
        order = np.random.permutation(len(y_all))
        for i in range(0, len(y_all), bs):
            idx = order[i:i + bs]
            X = torch.from_numpy(np.take(X_all, idx, axis=0))  # canonical strides: d2l_bn.data.gather
            y = torch.from_numpy(np.take(y_all, idx, axis=0))
            loss = _sgd_step(model, optimizer, X, y)
            if sync_every_step:
                loss.item()
        loss.item()
        return time.perf_counter() - start

    return epoch


def lenet_step_sides(chapter, X_np, y_np, lr: float, mode: str, steps: int) -> dict:
    """One SGD step on a fixed batch: LeNetBNScratch vs LeNetBN (seconds per step)."""
    X, y = torch.from_numpy(X_np), torch.from_numpy(y_np)
    sides = {}
    for name, cls in (("scratch", chapter.LeNetBNScratch), ("builtin", chapter.LeNetBN)):
        model = _init(cls(lr=lr))
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        sides[name] = _per_call(
            lambda model=model, optimizer=optimizer: _sgd_step(model, optimizer, X, y), steps)
    return sides


STRIDES = ("the same batch of 128 training images gathered two ways: np.take(X, idx, axis=0) "
           "(what d2l_bn's loader does) and X[idx]; both are C-contiguous, but X[idx] gives "
           "the size-1 channel axis a stride of 1, which PyTorch reads as channels-last; "
           "the BN rows feed nn.BatchNorm2d(6) the shape of LeNet's first convolution "
           "output in the default and in the channels-last memory format")


def input_strides_sides(chapter, data, lr: float, steps: int, calls: int) -> dict:
    """How the strides of the input batch change PyTorch's speed (a diagnostic).

    Returns {"lenet_step": {"take": side, "fancy_index": side},
             "bn_layer": {"take": side, "fancy_index": side}}, seconds per call.
    """
    idx = np.random.default_rng(0).permutation(len(data.train_y))[:data.batch_size]
    y = torch.from_numpy(np.take(data.train_y, idx, axis=0))
    batches = {"take": torch.from_numpy(np.take(data.train_X, idx, axis=0)),
               "fancy_index": torch.from_numpy(data.train_X[idx])}
    lenet = {}
    for name, X in batches.items():
        torch.manual_seed(0)
        model = chapter.LeNetBN(lr=lr)
        model(X[:2])  # materializes the lazy layers
        model = _init(model)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        lenet[name] = _per_call(
            lambda model=model, optimizer=optimizer, X=X: _sgd_step(model, optimizer, X, y),
            steps)
    torch.manual_seed(0)
    layer = nn.BatchNorm2d(6).train()
    x = torch.randn(data.batch_size, 6, 24, 24)
    upstream = torch.randn(x.shape)
    layer_sides = {}
    for name, fmt in (("take", torch.contiguous_format), ("fancy_index", torch.channels_last)):
        xf = x.contiguous(memory_format=fmt).requires_grad_()
        gf = upstream.contiguous(memory_format=fmt)

        def call(xf=xf, gf=gf):
            return torch.autograd.grad(layer(xf), [xf, *layer.parameters()], gf)

        layer_sides[name] = _per_call(call, calls)
    return {"lenet_step": lenet, "bn_layer": layer_sides}


def bn_layer_sides(chapter, shape: tuple[int, ...], mode: str, calls: int) -> dict:
    """Forward+backward of the chapter's BatchNorm vs nn.BatchNorm1d/2d (seconds per call)."""
    torch.manual_seed(0)
    x = torch.randn(shape, requires_grad=True)
    upstream = torch.randn(shape)
    channels = shape[1]
    builtin_cls = nn.BatchNorm1d if len(shape) == 2 else nn.BatchNorm2d
    layers = {"scratch": chapter.BatchNorm(channels, num_dims=len(shape)),
              "builtin": builtin_cls(channels, eps=1e-5, momentum=0.1)}
    sides = {}
    for name, layer in layers.items():
        layer.train()
        inputs = [x, *layer.parameters()]

        def call(layer=layer, inputs=inputs):
            return torch.autograd.grad(layer(x), inputs, upstream)

        sides[name] = _per_call(call, calls)
    return sides


def broadcast_sides(shape: tuple[int, ...], mode: str, calls: int) -> dict:
    """x - m forward and backward (gradients for x and m), m of x's shape vs (1, C, 1, 1)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=gen, requires_grad=True)
    upstream = torch.randn(shape, generator=gen)
    sides = {}
    for name, m_shape in (("same_shape", shape), ("broadcast", (1, shape[1], 1, 1))):
        m = torch.randn(m_shape, generator=gen, requires_grad=True)
        sides[name] = _per_call(
            lambda m=m: torch.autograd.grad(x - m, [x, m], upstream), calls)
    return sides


def matmul_side(n: int):
    """float32 n x n matrix product with torch.mm (seconds per product)."""
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen)
    b = torch.randn(n, n, generator=gen)
    return _per_call(lambda: torch.mm(a, b), 1)


def _per_call(fn, number: int):
    return per_call(fn, number, sync=_sync)


def _sync(result) -> None:
    """Nothing is queued on the CPU; touching one value keeps the loops honest anyway."""
    first = result[0] if isinstance(result, (tuple, list)) else result
    first.detach().reshape(-1)[0].item()
