"""The printed text of a notebook cell, for tests that read committed outputs."""

from __future__ import annotations


def output_text(cell) -> str:
    """A code cell's stream outputs and plain-text results, one output per line."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "\n".join(parts)
