"""Keep the README's copy of the latest benchmark table identical to latest.md."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"


def block(readme_text: str) -> str:
    """The text between the markers (empty if the markers are missing)."""
    if START not in readme_text or END not in readme_text:
        return ""
    return readme_text.split(START, 1)[1].split(END, 1)[0].strip("\n")


def update(markdown: str, readme: Path = README) -> None:
    """Replace the README's block with ``markdown`` (the content of latest.md)."""
    text = readme.read_text()
    if START not in text or END not in text:
        raise ValueError(f"{readme} lacks the {START} ... {END} markers.")
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    readme.write_text(f"{head}{START}\n{markdown.strip()}\n{END}{tail}")
