"""What the suite measures and how often: the full settings and the ``--quick`` ones."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True)
class Config:
    quick: bool = False
    repeats: int = 7            # timed repeats of every side (median, min, max reported)
    trainer_repeats: int = 15   # a short epoch against a target: with 7, +-0.03 between runs
    warmup: int = 1             # untimed runs of every side before the repeats
    batch_size: int = 128
    train_examples: int = 25_600  # 200 steps of 128 per timed epoch (100: under a second)
    val_examples: int = 256     # evaluation slice for Trainer.fit (cheap, not timed)
    lr: float = 0.1  # both sides; speed does not depend on it, 0.1 stays far from divergence
    layer_calls: int = 200      # forward+backward calls of one BN layer per timed sample
    lenet_steps: int = 20       # SGD steps of the whole LeNet per timed sample
    bn_2d: tuple[int, ...] | list[int] = (128, 120)        # (N, features)
    bn_4d: tuple[int, ...] | list[int] = (128, 16, 8, 8)   # (N, C, H, W); TensorFlow: NHWC
    data_target_s: float = 1.0  # warm load of all 70,000 images should take less
    trainer_target: float = 0.95  # Trainer / raw-loop throughput should reach this
    step_target: float = 2.0    # scratch / built-in LeNet step time should stay below

    def as_dict(self) -> dict:  # and back: Config(**as_dict()) (the shapes become lists)
        return asdict(self)


FULL = Config()

# Checks that everything runs, in about a minute; its numbers mean nothing.
QUICK = replace(FULL, quick=True, repeats=2, trainer_repeats=2, train_examples=3 * 128,
                val_examples=128, layer_calls=5, lenet_steps=2)

