"""The chapter's definitions (cells tagged ``definitions``) as a module."""

from __future__ import annotations

import types

from .notebooks import CHAPTERS, target

DEFINITIONS_TAG = "definitions"


def load_definitions(framework: str, source: str = "batch_norm") -> types.ModuleType:
    """The chapter's definitions (cells tagged ``definitions``) as a module, for tests.

    The lesson's code lives in the notebook, not in the package; tests and benchmarks
    import it from the generated per-framework notebook this way, so they check exactly
    the code that readers run.
    """
    import nbformat

    path = target(CHAPTERS / f"{source}.md", framework)
    module = types.ModuleType(f"{source}_{framework}")
    module.__file__ = str(path)
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code" and DEFINITIONS_TAG in cell.metadata.get("tags", []):
            exec(compile(cell.source, f"{path}#{cell.id}", "exec"), module.__dict__)  # noqa: S102 (our own notebook)
    return module
