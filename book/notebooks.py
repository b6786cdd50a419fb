"""Split the multi-framework sources into per-framework notebooks; merge them into pages.

A source is a jupytext MyST notebook ``chapters/<name>.md``. Its framework cells start
with ``%%tab <framework>``; the cell tagged ``tab-setup`` selects the framework in
Jupyter and is replaced, in each generated notebook, by a cell that installs the
package when it runs in Colab. Every generated cell gets an id derived from its source
text, so outputs are carried over by id only while the code is unchanged.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

from d2l_bn import BACKEND_MODULES, FRAMEWORKS

from . import CHAPTERS, ROOT

SETUP_TAG = "tab-setup"
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def sources() -> list[Path]:
    """Chapter sources that have framework cells."""
    return sorted(p for p in CHAPTERS.glob("*.md") if "%%tab " in p.read_text())


def target(source: Path, framework: str) -> Path:
    return source.parent / framework / f"{source.stem}.ipynb"


def cell_frameworks(cell) -> list[str]:
    """Frameworks named by a ``%%tab`` first line ([] for a shared cell)."""
    first = cell.source.split("\n", 1)[0].strip()
    if cell.cell_type != "code" or not first.startswith("%%tab"):
        return []
    names = first.split()[1:]
    unknown = set(names) - set(FRAMEWORKS)
    if not names or unknown:
        raise ValueError(f"Bad tab line {first!r}: expected `%%tab` and names from {FRAMEWORKS}.")
    return names


def repository() -> tuple[str, str]:
    """(url, branch) of the repository, from _config.yml."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config.get("repository", {})
    return repo["url"].rstrip("/"), repo.get("branch", "main")


def colab_setup(framework: str) -> str:
    url, branch = repository()
    extra = BACKEND_MODULES[framework]
    return (f"# In Google Colab, install the helper package d2l_bn with {framework}.\n"
            "# Elsewhere, set up the environment as described in the README.\n"
            "import sys\n\n"
            "if 'google.colab' in sys.modules:\n"
            f"    %pip install --quiet \"d2l_bn[{extra}] @ git+{url}@{branch}\"")


def _cell_id(text: str, seen: set[str]) -> str:
    base = hashlib.sha1(text.encode()).hexdigest()[:12]
    cell_id, n = base, 1
    while cell_id in seen:
        n += 1
        cell_id = f"{base}-{n}"
    seen.add(cell_id)
    return cell_id


def split(source: Path, framework: str):
    """The notebook for one framework: shared cells plus that framework's cells."""
    import jupytext
    import nbformat

    nb = jupytext.read(source)
    out = nbformat.v4.new_notebook()
    out.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"},
                    "d2l_bn": {"framework": framework, "source": source.name}}
    seen: set[str] = set()
    for cell in nb.cells:
        tags = list(cell.metadata.get("tags", []))
        if SETUP_TAG in tags:
            new = nbformat.v4.new_code_cell(colab_setup(framework))
            new.metadata["tags"] = ["colab-setup"]
        elif cell.cell_type == "code":
            names = cell_frameworks(cell)
            if names and framework not in names:
                continue
            body = cell.source.split("\n", 1)[1] if names else cell.source
            new = nbformat.v4.new_code_cell(body)
            if names:
                tags = [framework] + tags
            if tags:
                new.metadata["tags"] = tags
        else:
            new = copy.deepcopy(cell)
            new.metadata = {k: v for k, v in cell.metadata.items() if k == "tags"}
        new.id = _cell_id(f"{framework}\n{new.cell_type}\n{new.source}", seen)
        out.cells.append(new)
    return out


def carry_outputs(new, old) -> None:
    """Copy outputs (and execution counts) of cells whose id is unchanged."""
    previous = {c.id: c for c in old.cells if c.cell_type == "code"}
    for cell in new.cells:
        if cell.cell_type == "code" and cell.id in previous:
            cell.outputs = previous[cell.id].outputs
            cell.execution_count = previous[cell.id].execution_count
    if "d2l_bn" in old.metadata and "run" in old.metadata["d2l_bn"]:
        new.metadata["d2l_bn"]["run"] = old.metadata["d2l_bn"]["run"]


def out_of_sync(source: Path, framework: str) -> str | None:
    """Why the committed notebook differs from a fresh split (None when in sync)."""
    import nbformat

    path = target(source, framework)
    if not path.exists():
        return f"{path} is missing"
    committed = nbformat.read(path, as_version=4)
    fresh = split(source, framework)
    got = [(c.id, c.cell_type, c.source, c.metadata.get("tags", [])) for c in committed.cells]
    want = [(c.id, c.cell_type, c.source, c.metadata.get("tags", [])) for c in fresh.cells]
    if got != want:
        return f"{path} does not match {source.name}"
    return None


def write_split(source: Path, framework: str) -> Path:
    import nbformat

    path = target(source, framework)
    new = split(source, framework)
    if path.exists():
        carry_outputs(new, nbformat.read(path, as_version=4))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new, path)
    return path


def merged_path(source: Path) -> Path:
    return source.with_suffix(".ipynb")


def merge(source: Path):
    """The site page: shared cells once, each framework's cells with that run's outputs.

    Framework cells come from the per-framework notebooks (source, tags and outputs,
    matched by cell id); the Colab setup cell is left out. Shared code cells must not
    print anything, since one output could not stand for three runs.
    """
    import nbformat

    executed, fresh = {}, {}
    for fw in FRAMEWORKS:
        if problem := out_of_sync(source, fw):
            raise ValueError(f"{problem}: run `python -m book split` and execute it.")
        executed[fw] = {c.id: c for c in nbformat.read(target(source, fw), as_version=4).cells}
        fresh[fw] = iter(split(source, fw).cells)  # walks in step with the source
    page = nbformat.v4.new_notebook()
    page.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"},
                     "d2l_bn": {"merged_from": source.name, "frameworks": list(FRAMEWORKS)}}
    seen: set[str] = set()
    for cell in _source_cells(source):
        if names := cell_frameworks(cell):
            for fw in names:
                page.cells.append(copy.deepcopy(executed[fw][next(fresh[fw]).id]))
            continue
        counterparts = [executed[fw][next(fresh[fw]).id] for fw in FRAMEWORKS]
        shared = copy.deepcopy(counterparts[0])
        if "colab-setup" in shared.metadata.get("tags", []):
            continue
        if shared.cell_type == "code" and any(c.outputs for c in counterparts):
            raise ValueError(f"A shared cell prints output ({shared.source[:60]!r}); "
                             "one output cannot stand for three runs: make it a framework cell.")
        shared.id = _cell_id(f"shared\n{shared.cell_type}\n{shared.source}", seen)
        page.cells.append(shared)
    return page


def _source_cells(source: Path):
    import jupytext

    return jupytext.read(source).cells


def page_out_of_sync(source: Path) -> str | None:
    """Why the committed site page differs from a fresh merge (None when in sync)."""
    import nbformat

    path = merged_path(source)
    if not path.exists():
        return f"{path} is missing"
    if nbformat.read(path, as_version=4) != merge(source):
        return f"{path} does not match {source.name} and the executed notebooks"
    return None
