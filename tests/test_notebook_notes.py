"""Split: ``site-only`` cells stay on the page; ``notebook-only`` cells speak of one framework."""

from __future__ import annotations

import pytest

from book.notebooks import split
from d2l_bn import FRAMEWORKS, LABELS

SOURCE = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A chapter

+++ {"tags": ["site-only"]}

Every code cell comes in three tabs: {label} is not replaced here.

+++ {"tags": ["notebook-only"]}

This is the {label} notebook (folder `{framework}`).

+++ {"tags": ["notebook-only", "mxnet"]}

MXNet only.

+++

Shared words about {label}.

```{code-cell} ipython3
%%tab pytorch
x = "{label}"
```
"""


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_notes_for_one_framework(framework, tmp_path):
    source = tmp_path / "chapter.md"
    source.write_text(SOURCE)
    cells = split(source, framework).cells
    markdown = [c.source for c in cells if c.cell_type == "markdown"]
    notes = ["MXNet only."] if framework == "mxnet" else []
    assert markdown == ["# A chapter",
                        f"This is the {LABELS[framework]} notebook (folder `{framework}`).",
                        *notes, "Shared words about {label}."]
    assert [c.source for c in cells if c.cell_type == "code"] == (
        ['x = "{label}"'] if framework == "pytorch" else [])
    assert all("site-only" not in c.metadata.get("tags", []) for c in cells)
