"""Run settings read from the environment, and the check of integer arguments.

``D2L_BN_SMOKE=1``: tiny training runs (part of each split, one epoch) for the tests.
``D2L_BN_DATA``: the folder searched first for the data (and downloaded to).
``D2L_BN_TALLY``: a file where ``Trainer.fit`` logs its examples and seconds."""

from __future__ import annotations

import json
import numbers
import os

SMOKE_ENV = "D2L_BN_SMOKE"
DATA_ENV = "D2L_BN_DATA"
TALLY_ENV = "D2L_BN_TALLY"

# Smoke mode keeps this many examples of each split (and one epoch).
SMOKE_TRAIN, SMOKE_VAL = 1024, 512

_TRUE = ("1", "true", "yes", "on", "enabled")
_FALSE = ("", "0", "false", "no", "off", "disabled")


def smoke_mode() -> bool:
    """True when ``D2L_BN_SMOKE`` asks for tiny training runs (for CI and nbval)."""
    value = os.environ.get(SMOKE_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{SMOKE_ENV}={os.environ[SMOKE_ENV]!r} is not understood: use one of "
        f"{', '.join(_TRUE)} to turn smoke mode on, or one of {', '.join(repr(v) for v in _FALSE)} "
        f"(or unset it) for full runs.")


def check_positive_int(value, what: str) -> int:
    """``value`` if it is a positive integer (not a bool), else a ValueError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}.")
    return int(value)


def tally(examples: int, seconds: float) -> None:
    """Append a fit's training examples and seconds to ``$D2L_BN_TALLY``, if it is set."""
    if path := os.environ.get(TALLY_ENV):
        with open(path, "a") as f:
            f.write(json.dumps({"examples": examples, "seconds": round(seconds, 3)}) + "\n")
