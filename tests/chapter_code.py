"""Load the chapter's definitions (cells tagged ``definitions``) for one framework.

Temporary version reading chapters/_slots/<framework>.py; it will read the generated
per-framework notebook once the chapter is assembled.
"""

from __future__ import annotations

import re
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^# %% slot=(\S+)(?: tags=(\S+))?\s*$", re.M)


def definition_cells(framework: str) -> list[str]:
    text = (ROOT / "chapters" / "_slots" / f"{framework}.py").read_text()
    parts = MARKER.split(text)
    cells = []
    for i in range(1, len(parts), 3):
        tags = (parts[i + 1] or "").split(",")
        if "definitions" in tags:
            cells.append(parts[i + 2])
    return cells


def load(framework: str) -> types.ModuleType:
    module = types.ModuleType(f"chapter_{framework}")
    for source in definition_cells(framework):
        exec(compile(source, f"<chapter {framework}>", "exec"), module.__dict__)
    return module
