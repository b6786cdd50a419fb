"""Framework-free timing. A *side* does one unit of work and returns its seconds (timing
itself: set-up left out, synchronization in). The sides of a ratio run interleaved in one
process (A, B, C, then B, C, A, ...) after a warm-up, so a slow minute hits every side.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping

Side = Callable[[], float]


def summarize(samples: list[float], unit: str) -> dict:
    """Median, min, max and the raw samples of one side."""
    if not samples:
        raise ValueError("no samples to summarize")
    return {"unit": unit, "median": statistics.median(samples), "min": min(samples),
            "max": max(samples), "n": len(samples), "samples": list(samples)}


def rates(seconds: list[float], work: float, unit: str) -> dict:
    """Turn per-sample seconds into a rate (work per second), e.g. examples/sec."""
    return summarize([work / s for s in seconds], unit)


def paired_ratio(numerator: list[float], denominator: list[float]) -> dict:
    """Ratios of repeat i of A to repeat i of B (their median resists drifting speed)."""
    if len(numerator) != len(denominator) or not numerator:
        raise ValueError("paired_ratio needs two equally long, non-empty sample lists")
    pairs = [a / b for a, b in zip(numerator, denominator, strict=True)]
    return {"median": statistics.median(pairs), "min": min(pairs), "max": max(pairs),
            "n": len(pairs), "samples": pairs,
            "ratio_of_medians": statistics.median(numerator) / statistics.median(denominator)}


def interleave(sides: Mapping[str, Side], repeats: int, warmup: int = 1,
               progress: Callable[[str], None] | None = None) -> dict[str, list[float]]:
    """Warm-up runs, then ``repeats`` rounds of all sides: seconds per side, by round."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    for _ in range(warmup):
        for fn in sides.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for round_ in range(repeats):
        # Each round starts one side later (A, B, C; B, C, A; ...), so no side always
        # runs first or always follows the same neighbour.
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()  # no collector pause from the previous side's garbage
            samples[name].append(float(sides[name]()))
        if progress:
            progress(f"repeat {round_ + 1}/{repeats}")
    return samples


def per_call(fn: Callable[[], object], number: int,
             sync: Callable[[object], None] | None = None) -> Side:
    """A side: seconds per call of ``fn`` over ``number`` calls, ``sync``-ed at the end."""
    if number < 1:
        raise ValueError(f"number must be at least 1, got {number}")

    def side() -> float:
        start = time.perf_counter()
        result = None
        for _ in range(number):
            result = fn()
        if sync is not None:
            sync(result)
        return (time.perf_counter() - start) / number

    return side
