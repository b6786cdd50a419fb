"""How the notebook cells' outputs read on the site (a local Sphinx extension).

Printed tables keep their columns
    ``_static/outputs.css`` wraps printed output at spaces, so that a long one-line
    summary (the trainer's "epochs 10 | train loss ... | cpu") stays readable on a phone.
    Wrapping a printed table would break its columns, though, so a post-transform marks
    every output block that looks tabular -- several lines whose columns line up (runs
    of two or more spaces ending or starting at the same positions) -- with the class
    ``tabular-output``; the CSS keeps those unwrapped, scrolling inside their box.

Every figure has an alt text
    MyST-NB takes an image output's alt text from the cell metadata ``mystnb: image:
    alt:``, which ``python -m book merge`` writes for every figure cell (see its
    docstring). Without it Sphinx would use the image's file path as alt text, so any
    output image still without one (say, a page merged by an older tool) gets a
    fallback here that names the cell's framework and section. The alt texts are
    translated with the site's catalog (``book.translation`` extracts them from the
    merged notebooks).
"""

from __future__ import annotations

import re
from collections import Counter

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.locale import get_translation
from sphinx.transforms.post_transforms import SphinxPostTransform

__version__ = "0.1.0"

_ = get_translation("site")  # the alt texts, in the site's language (_ext/translation.py)
TABULAR = "tabular-output"
GAP = re.compile(r"(?<=\S) {2,}(?=\S)")  # two or more spaces between two columns


def looks_tabular(text: str) -> bool:
    """Do several lines of ``text`` have gaps that line up (a printed table)?

    Each line with a gap contributes the positions where its gaps start and end (where
    right- and left-aligned columns meet them); the text is tabular when some position
    is shared by at least two such lines and by at least half of them.
    """
    rows = [{pos for gap in GAP.finditer(line) for pos in gap.span()}
            for line in text.splitlines()]
    rows = [row for row in rows if row]
    if len(rows) < 2:
        return False
    shared = Counter(pos for row in rows for pos in row)
    return max(shared.values()) >= max(2, len(rows) / 2)


def ancestor(node: nodes.Node, condition):
    node = node.parent
    while node is not None and not condition(node):
        node = node.parent
    return node


def nb_element(name: str):
    return lambda node: isinstance(node, nodes.container) and node.get("nb_element") == name


def fallback_alt(image: nodes.image, labels: dict[str, str]) -> str:
    """"Figure drawn by the PyTorch code in “Section”", from the image's cell and section."""
    cell = ancestor(image, nb_element("cell_code"))
    tags = [c[4:] for c in (cell["classes"] if cell else []) if c.startswith("tag_")]
    framework = next((labels.get(tag, tag) for tag in tags if tag in labels), None)
    section = ancestor(image, lambda n: isinstance(n, nodes.section))
    title = section.next_node(nodes.title) if section else None
    framework = framework or "Python"
    if title is None:
        return str(_("Figure drawn by the {framework} code")).format(framework=framework)
    return str(_("Figure drawn by the {framework} code in “{section}”")).format(
        framework=framework, section=title.astext())


class CellOutputs(SphinxPostTransform):
    """Mark tabular output blocks; give output images without alt text a fallback."""

    # After MyST-NB's SelectMimeType (4), which turns mime bundles into images and text.
    default_priority = 50

    def run(self, **kwargs) -> None:
        labels = getattr(self.config, "framework_tabs_labels", {}) or {}
        for output in self.document.findall(nb_element("cell_code_output")):
            for block in output.findall(nodes.literal_block):
                if looks_tabular(block.astext()):
                    block["classes"].append(TABULAR)
            for image in output.findall(nodes.image):
                alt = image.get("alt")
                image["alt"] = str(_(alt)) if alt else fallback_alt(image, labels)


def setup(app: Sphinx) -> dict:
    app.add_post_transform(CellOutputs)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
