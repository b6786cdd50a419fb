"""What the suite measures and how often: the full settings and the ``--quick`` ones."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True)
class Config:
    quick: bool = False
    repeats: int = 7            # timed repeats of every side (median, min, max reported)
    # The Trainer/raw ratio is checked against a target and one epoch is short, so it
    # gets more repeats: with 7, its median moved by +-0.03 between runs.
    trainer_repeats: int = 15
    warmup: int = 1             # untimed runs of every side before the repeats
    batch_size: int = 128
    # Trainer-overhead subset: 200 steps of 128 per timed epoch (100 steps took under a
    # second in PyTorch, short enough for one burst of another process to skew a sample).
    train_examples: int = 25_600
    val_examples: int = 256     # evaluation slice for Trainer.fit (cheap, not timed)
    # The same SGD learning rate on both sides. Speed does not depend on it; 0.1 (not the
    # chapter's 0.9) keeps many epochs on the small subset far from divergence.
    lr: float = 0.1
    layer_calls: int = 200      # forward+backward calls of one BN layer per timed sample
    lenet_steps: int = 20       # SGD steps of the whole LeNet per timed sample
    bn_2d: tuple[int, ...] = (128, 120)        # (N, features)
    bn_4d: tuple[int, ...] = (128, 16, 8, 8)   # (N, C, H, W); TensorFlow gets NHWC
    data_target_s: float = 1.0  # warm load of all 70,000 images should take less
    trainer_target: float = 0.95  # Trainer / raw-loop throughput should reach this
    step_target: float = 2.0    # scratch / built-in LeNet step time should stay below

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> Config:
        values = dict(values)
        for key in ("bn_2d", "bn_4d"):
            values[key] = tuple(values[key])
        return cls(**values)


FULL = Config()

# Checks that everything runs, in about a minute; its numbers mean nothing.
QUICK = replace(FULL, quick=True, repeats=2, trainer_repeats=2, train_examples=3 * 128,
                val_examples=128, layer_calls=5, lenet_steps=2)


def make_config(quick: bool = False, repeats: int | None = None) -> Config:
    """The full or quick settings, with ``repeats`` (if given) for every measurement."""
    config = QUICK if quick else FULL
    if repeats is not None:
        if repeats < 1:
            raise ValueError(f"--repeats must be at least 1, got {repeats}")
        config = replace(config, repeats=repeats, trainer_repeats=repeats)
    return config
