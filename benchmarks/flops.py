"""Floating-point operations of the chapter's LeNet, counted from its layer shapes.

Convention (stated in the report): only convolutions and dense layers are counted, one
multiply-add = 2 FLOPs, forward pass per example. Batch normalization, sigmoids,
pooling, bias additions and the loss are elementwise and left out. A training step is
taken as 3 x forward: the backward pass computes the gradient with respect to the
inputs and with respect to the weights, each about as costly as the forward pass.
"""

from __future__ import annotations

# The chapter's LeNet (same in LeNetBN and LeNetBNScratch), on 28 x 28 x 1 images.
# ("conv", out_channels, kernel, padding) | ("pool", size) | ("flatten",) | ("dense", out)
LENET = (
    ("conv", 6, 5, 2), ("pool", 2),
    ("conv", 16, 5, 0), ("pool", 2),
    ("flatten",),
    ("dense", 120), ("dense", 84), ("dense", 10),
)

TRAINING_FACTOR = 3
CONVENTION = ("multiply-adds x 2 of convolutions and dense layers only, forward pass, "
              "per example; BN, sigmoid, pooling, bias and loss not counted; "
              f"one training step = {TRAINING_FACTOR} x forward")


def layer_flops(layers=LENET, image: tuple[int, int, int] = (28, 28, 1)) -> list[dict]:
    """Each counted layer with its output shape (H, W, C) or (features,) and its FLOPs."""
    h, w, c = image
    features = None
    rows = []
    for spec in layers:
        kind = spec[0]
        if kind == "conv":
            out, k, pad = spec[1:]
            h, w = h + 2 * pad - k + 1, w + 2 * pad - k + 1
            macs = h * w * out * c * k * k
            c = out
            rows.append({"layer": f"conv {k}x{k}, {out} channels", "output": [h, w, c],
                         "flops": 2 * macs})
        elif kind == "pool":
            h, w = h // spec[1], w // spec[1]
        elif kind == "flatten":
            features = h * w * c
        elif kind == "dense":
            if features is None:
                raise ValueError("dense layer before flatten")
            macs = features * spec[1]
            rows.append({"layer": f"dense {features}->{spec[1]}", "output": [spec[1]],
                         "flops": 2 * macs})
            features = spec[1]
        else:
            raise ValueError(f"unknown layer kind {kind!r}")
    return rows


def lenet_flops() -> dict:
    """Forward and training FLOPs per example of the chapter's LeNet."""
    rows = layer_flops()
    forward = sum(r["flops"] for r in rows)
    return {"forward_per_example": forward,
            "training_per_example": TRAINING_FACTOR * forward,
            "layers": rows, "convention": CONVENTION}


def matmul_flops(n: int) -> float:
    """Floating-point operations of an n x n by n x n product: n^3 multiply-adds x 2."""
    return 2.0 * n ** 3
