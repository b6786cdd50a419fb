"""The chapter's scratch BatchNorm (PyTorch) against torch.nn.BatchNorm1d/2d."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from book.definitions import load_definitions as load

# float32 on the CPU: both layers compute the same formula in a different order, so
# results differ by rounding only. Tolerances are |a - b| <= atol + RTOL * |b|; gradients
# of gamma and beta are sums over N*H*W terms of size ~10-100, hence the relative part.
OUTPUT_ATOL = 1e-5
GRAD_ATOL = 1e-5
STATS_ATOL = 1e-6
RTOL = 1e-5
STEPS = 5

SHAPES = {"2-D": (16, 7), "4-D": (8, 5, 6, 6)}


@pytest.fixture(scope="module")
def chapter():
    return load("pytorch")


def pair(chapter, shape):
    """(scratch layer, built-in layer) with the same momentum and eps, training mode."""
    ours = chapter.BatchNorm(shape[1], num_dims=len(shape))
    builtin = (nn.BatchNorm1d if len(shape) == 2 else nn.BatchNorm2d)(
        shape[1], eps=1e-5, momentum=0.1)
    with torch.no_grad():  # non-trivial gamma and beta, the same in both
        gamma, beta = torch.rand(shape[1]) + 0.5, torch.randn(shape[1])
        ours.gamma.copy_(gamma.reshape(ours.gamma.shape))
        ours.beta.copy_(beta.reshape(ours.beta.shape))
        builtin.weight.copy_(gamma)
        builtin.bias.copy_(beta)
    return ours, builtin


def close(a, b, atol):
    a, b = a.detach().reshape(b.shape), b.detach()
    excess = ((a - b).abs() - (atol + RTOL * b.abs())).max().item()
    assert excess <= 0, f"max |diff| {(a - b).abs().max().item():.2e} beyond tolerance"


@pytest.mark.parametrize("kind", SHAPES)
def test_forward_running_stats_and_prediction_agree(chapter, kind):
    torch.manual_seed(0)
    shape = SHAPES[kind]
    ours, builtin = pair(chapter, shape)
    for _ in range(STEPS):
        X = 3 * torch.randn(shape) + 2
        close(ours(X), builtin(X), OUTPUT_ATOL)
    close(ours.moving_mean, builtin.running_mean, STATS_ATOL)
    close(ours.moving_var, builtin.running_var, STATS_ATOL)
    ours.eval(), builtin.eval()
    X = 3 * torch.randn(shape) + 2
    close(ours(X), builtin(X), OUTPUT_ATOL)


@pytest.mark.parametrize("kind", SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_gradients_agree(chapter, kind, training):
    torch.manual_seed(1)
    shape = SHAPES[kind]
    ours, builtin = pair(chapter, shape)
    ours.train(training), builtin.train(training)
    X = 3 * torch.randn(shape) + 2
    weights = torch.randn(shape)  # a loss whose gradient is not trivially zero
    grads = []
    for layer, (g, b) in ((ours, (ours.gamma, ours.beta)),
                          (builtin, (builtin.weight, builtin.bias))):
        X_in = X.clone().requires_grad_()
        (layer(X_in) * weights).sum().backward()
        grads.append((X_in.grad, g.grad, b.grad))
    for mine, theirs in zip(*grads):
        close(mine, theirs, GRAD_ATOL)


def test_prediction_mode_leaves_running_stats_alone(chapter):
    layer = chapter.BatchNorm(4, num_dims=2).eval()
    layer(torch.randn(10, 4))
    assert torch.equal(layer.moving_mean, torch.zeros(1, 4))
    assert torch.equal(layer.moving_var, torch.ones(1, 4))


def test_running_stats_follow_the_module(chapter):
    layer = chapter.BatchNorm(3, num_dims=4)
    buffers = dict(layer.named_buffers())
    assert set(buffers) == {"moving_mean", "moving_var"}
    assert {n for n, _ in layer.named_parameters()} == {"gamma", "beta"}
    layer.double()
    assert layer.moving_mean.dtype == torch.float64


@pytest.mark.parametrize("shape", [(4, 3, 2), (2, 3, 4, 4, 4)])
def test_wrong_rank_is_a_clear_error(chapter, shape):
    X = torch.randn(shape)
    with pytest.raises(ValueError, match=f"{len(shape)}-D"):
        chapter.batch_norm(X, 1.0, 0.0, 0.0, 1.0, 1e-5, 0.1, training=True)
    with pytest.raises(ValueError, match="built for 4-D"):
        chapter.BatchNorm(3, num_dims=4)(X)


def test_batch_of_one(chapter):
    layer = chapter.BatchNorm(5, num_dims=2)
    with pytest.raises(ValueError, match="at least two values per channel"):
        layer(torch.randn(1, 5))
    assert layer.eval()(torch.randn(1, 5)).shape == (1, 5)
    assert chapter.BatchNorm(3, num_dims=4)(torch.randn(1, 3, 4, 4)).shape == (1, 3, 4, 4)


def test_num_dims_is_checked(chapter):
    with pytest.raises(ValueError, match="num_dims"):
        chapter.BatchNorm(3, num_dims=3)


def test_lenets_have_the_same_shapes(chapter):
    X = torch.randn(2, 1, 28, 28)
    for cls in (chapter.LeNetBNScratch, chapter.LeNetBN):
        assert cls().eval()(X).shape == (2, 10)
