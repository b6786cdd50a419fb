"""The translatable blocks of a MyST markdown text, with where each one sits.

A block is what Sphinx's gettext builder makes one message of: a paragraph, a heading, a
list item's text, a table cell, the title of an admonition or dropdown. Its text is the
markdown source with its lines joined by single spaces, as in Sphinx's catalogs, so a
block of a notebook's markdown cell can be looked up in the site's catalog of the same
page. Code, math blocks, raw HTML blocks, targets and comments are not blocks: they stay
as they are. :func:`replace_blocks` writes translations back in place of the blocks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

FENCE = re.compile(r"^(?P<indent>\s*)(?P<mark>`{3,}|:{3,})(?P<info>.*)$")
DIRECTIVE = re.compile(r"^\{(?P<name>[\w:-]+)\}\s*(?P<argument>.*)$")
HEADING = re.compile(r"^(?P<prefix>\s*#{1,6}\s+)(?P<text>.*?)\s*$")
ITEM = re.compile(r"^(?P<prefix>\s*(?:[-*+]|\d+[.)])\s+)(?P<text>\S.*)$")
TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
TABLE_RULE = re.compile(r"^\s*\|[\s:|-]+\|\s*$")
OPTION = re.compile(r"^\s*:[\w-]+:")
SKIPPED_LINE = re.compile(r"^\s*(\(.+\)=|%.*|<!--.*|\+\+\+.*)\s*$")
MATH_OPEN = re.compile(r"^\s*\$\$")
MATH_CLOSE = re.compile(r"\$\$(\s*\([\w:-]+\))?\s*$")  # optionally labelled: $$ (eq-bn)
# Directives whose title and body are prose; every other fenced block stays as it is.
PROSE_DIRECTIVES = {"admonition", "attention", "caution", "danger", "dropdown", "error",
                    "hint", "important", "note", "seealso", "tip", "warning"}


@dataclass(frozen=True)
class Block:
    """One translatable block: lines ``start`` to ``end`` (exclusive) of the text, or, for
    a table cell or a directive title, the columns ``span`` of line ``start``."""

    start: int
    end: int
    prefix: str
    text: str
    span: tuple[int, int] | None = None


def normalize(text: str) -> str:
    """A block's message text: its lines stripped and joined by single spaces."""
    return " ".join(line.strip() for line in text.strip().splitlines())


def _starts_block(line: str) -> bool:
    return bool(FENCE.match(line) or HEADING.match(line) or ITEM.match(line)
                or TABLE_ROW.match(line) or MATH_OPEN.match(line) or SKIPPED_LINE.match(line))


def _fence_end(lines: list[str], start: int, mark: str) -> int:
    """Index of the line closing the fence opened at ``start`` (len(lines) if none)."""
    closing = re.compile(rf"^\s*{re.escape(mark[0])}{{{len(mark)},}}\s*$")
    return next((i for i in range(start + 1, len(lines)) if closing.match(lines[i])),
                len(lines))


def _table_cells(line: str, number: int) -> Iterator[Block]:
    bars = [m.start() for m in re.finditer(r"(?<!\\)\|", line)]
    for left, right in zip(bars, bars[1:]):
        cell = line[left + 1:right]
        if cell.strip():
            offset = len(cell) - len(cell.lstrip())
            begin, finish = left + 1 + offset, left + 1 + len(cell.rstrip())
            yield Block(number, number + 1, "", cell.strip(), (begin, finish))


def blocks(text: str) -> list[Block]:
    """The translatable blocks of ``text``, in order."""
    return list(_blocks(text.split("\n"), 0, len(text.split("\n"))))


def _blocks(lines: list[str], start: int, stop: int) -> Iterator[Block]:
    i = start
    while i < stop:
        line = lines[i]
        if not line.strip() or SKIPPED_LINE.match(line):
            i += 1
            continue
        fence = FENCE.match(line)
        if fence:
            end = min(_fence_end(lines, i, fence["mark"]), stop)
            directive = DIRECTIVE.match(fence["info"].strip())
            if directive and directive["name"] in PROSE_DIRECTIVES:
                argument = directive["argument"]
                if argument:
                    begin = len(line.rstrip()) - len(argument)
                    yield Block(i, i + 1, "", argument, (begin, len(line.rstrip())))
                body = i + 1
                while body < end and OPTION.match(lines[body]):
                    body += 1
                yield from _blocks(lines, body, end)
            i = end + 1
            continue
        if MATH_OPEN.match(line):
            closed = bool(MATH_CLOSE.search(line.strip()[2:]))
            end = i if closed else next(
                (k for k in range(i + 1, stop) if MATH_CLOSE.search(lines[k])), stop - 1)
            i = end + 1
            continue
        if line.lstrip().startswith("<") and not ITEM.match(line):  # a raw HTML block
            while i < stop and lines[i].strip():
                i += 1
            continue
        heading = HEADING.match(line)
        if heading and heading["text"]:
            yield Block(i, i + 1, heading["prefix"], heading["text"])
            i += 1
            continue
        if TABLE_ROW.match(line):
            if not TABLE_RULE.match(line):
                yield from _table_cells(line, i)
            i += 1
            continue
        item = ITEM.match(line)
        prefix, first = (item["prefix"], item["text"]) if item else (
            line[:len(line) - len(line.lstrip())], line.strip())
        end = i + 1
        while end < stop and lines[end].strip() and not _starts_block(lines[end]):
            end += 1
        body = [first, *lines[i + 1:end]]
        yield Block(i, end, prefix, normalize("\n".join(body)))
        i = end


def replace_blocks(text: str, translate: Callable[[str], str]) -> str:
    """``text`` with every block replaced by ``translate(block.text)`` (one line each)."""
    lines = text.split("\n")
    found = blocks(text)
    # From the last block to the first, so that earlier positions stay valid.
    for block in reversed(found):
        new = translate(block.text)
        if block.span is not None:
            begin, finish = block.span
            line = lines[block.start]
            lines[block.start] = line[:begin] + new + line[finish:]
        else:
            lines[block.start:block.end] = [block.prefix + new]
    return "\n".join(lines)
