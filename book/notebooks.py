"""Split the multi-framework sources into per-framework notebooks; merge them into pages.

A source is a jupytext MyST notebook ``chapters/<name>.md``. Its framework cells start
with ``%%tab <framework>``; the cell tagged ``tab-setup`` selects the framework in
Jupyter and is replaced, in each generated notebook, by a cell that checks that the
course package is installed (``book.setup_cell``). Every generated cell gets an id
derived from its source text (for markdown, its MyST text before ``book.learner_markdown``
converts it), so outputs are carried over by id only while the code is unchanged.
"""

from __future__ import annotations

import copy
import hashlib
import re
from pathlib import Path

from d2l_bn import FRAMEWORKS, LABELS

from . import CHAPTERS, ROOT
from .files import BookError, read_notebook
from .learner_markdown import convert, english_links
from .setup_cell import TAG as PACKAGE_CHECK_TAG

SETUP_TAG = "tab-setup"
# The kernelspec of every notebook: the standard kernel of any Jupyter (and Colab). The
# book's tooling and tests run each in its framework's kernel (book.environments) by
# the notebook's metadata.d2l_bn.framework.
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
        raise BookError(f"Bad tab line {first!r}: expected `%%tab` and names from {FRAMEWORKS}.")
    return names


def repository() -> tuple[str, str]:
    """(url, branch) of the repository, from _config.yml."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config.get("repository", {})
    return repo["url"].rstrip("/"), repo.get("branch", "main")


def package_check(framework: str, source: Path) -> str:
    """The notebook's first code cell: stops with what to install if d2l_bn is missing."""
    from .setup_cell import setup_cell
    from .single_file import committed_path

    url, branch = repository()
    edition = committed_path(source, framework).relative_to(ROOT).as_posix()
    return setup_cell(framework, url, f"{url}/blob/{branch}/{edition}")


def _cell_id(text: str, seen: set[str]) -> str:
    base = hashlib.sha1(text.encode()).hexdigest()[:12]
    cell_id, n = base, 1
    while cell_id in seen:
        n += 1
        cell_id = f"{base}-{n}"
    seen.add(cell_id)
    return cell_id


def split(source: Path, framework: str, learner: bool = True):
    """The notebook for one framework: shared cells plus that framework's cells.

    A cell tagged ``site-only`` (say, the page's words about its tabs) is left out. A
    markdown cell tagged ``notebook-only`` is kept (``merge`` leaves it out of the page),
    with ``{framework}`` and ``{label}`` replaced by the framework's name and label
    (``pytorch``, ``PyTorch``): the opening of a notebook speaks of its framework only.
    One that also has framework tags (``[notebook-only, mxnet]``) is kept in those
    frameworks' notebooks only. The notebook's kernelspec is the standard ``python3``;
    ``metadata.d2l_bn.framework`` says which framework (and so which of the book's
    kernels, ``book.environments``) it needs. Markdown is converted for Jupyter and Colab
    (``book.learner_markdown``); ``learner=False`` keeps the MyST text (for the site page
    and the translation, which work on MyST), with the same cell ids.
    """
    import jupytext
    import nbformat

    nb = jupytext.read(source)
    out = nbformat.v4.new_notebook()
    out.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"},
                    "d2l_bn": {"framework": framework, "source": source.name}}
    seen: set[str] = set()
    for cell in nb.cells:
        tags = list(cell.metadata.get("tags", []))
        if SETUP_TAG in tags:
            new = nbformat.v4.new_code_cell(package_check(framework, source))
            new.metadata["tags"] = [PACKAGE_CHECK_TAG]
        elif "site-only" in tags:
            continue  # the page's own words (its tabs, its links): not for a notebook
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
            if "notebook-only" in tags:  # speaks of this notebook's framework only
                if framework not in (set(tags) & set(FRAMEWORKS) or {framework}):
                    continue  # a note for the notebooks of the frameworks it names
                new.source = (new.source.replace("{framework}", framework)
                              .replace("{label}", LABELS[framework]))
        new.id = _cell_id(f"{framework}\n{new.cell_type}\n{new.source}", seen)
        if learner and new.cell_type == "markdown":
            new.source = convert(new.source, f"chapters/{source.stem}", english_links())
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
    path = target(source, framework)
    if not path.exists():
        return f"{path} is missing"
    committed = read_notebook(path)
    fresh = split(source, framework)
    got = [(c.id, c.cell_type, c.source, c.metadata.get("tags", [])) for c in committed.cells]
    want = [(c.id, c.cell_type, c.source, c.metadata.get("tags", [])) for c in fresh.cells]
    if got != want:
        return f"{path} does not match {source.name}"
    if committed.metadata.get("kernelspec") != fresh.metadata["kernelspec"]:
        return f"{path} does not name the standard kernel {KERNELSPEC['name']!r}"
    return None


def write_split(source: Path, framework: str) -> Path:
    import nbformat

    path = target(source, framework)
    new = split(source, framework)
    if path.exists():
        carry_outputs(new, read_notebook(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new, path)
    return path


def merged_path(source: Path) -> Path:
    return source.with_suffix(".ipynb")


def merge(source: Path):
    """The site page: shared cells once, each framework's cells with that run's outputs.

    Framework cells come from the per-framework notebooks (source, tags and outputs,
    matched by cell id); shared markdown keeps its MyST markup (the page is built by
    Sphinx); the package-check cell and ``notebook-only`` cells are left out,
    ``site-only`` cells come straight from the source. Shared code cells must not
    print anything, since one output could not stand for three runs. On the way:

    * Consecutive stream outputs of the same name (the stdout chunks a cell printed
      while it ran) become one output, so the site shows them in one box.
    * Every code cell with an image output gets an alt text, as MyST-NB's cell metadata
      ``mystnb: image: alt:`` (the ``alt`` of the page's ``<img>``). The author writes
      it once per figure, as the option ``alt`` of a framework cell in the source; it
      says what the figure shows, and is quoted when it holds a colon::

          ```{code-cell} ipython3
          :tags: [nbval-ignore-output]
          :alt: "Training curves of LeNet-BN: loss falls and accuracy rises per epoch"

          %%tab pytorch
          trainer.fit(model, data)
          ```

      The other framework cells of the same step (the run of consecutive framework
      cells that becomes one tab-set) use it too unless they have their own. A figure
      cell with none gets a default made from the cell: the title string it passes to
      a plotting call, or "training curves" for a ``.fit(`` call, else "figure", with
      the framework and the section it is in (see ``_default_alt``).
    """
    import nbformat

    executed, fresh = {}, {}
    for fw in FRAMEWORKS:
        if problem := out_of_sync(source, fw):
            raise BookError(f"{problem}: run `python -m book split` and execute it.")
        executed[fw] = {c.id: c for c in read_notebook(target(source, fw)).cells}
        fresh[fw] = iter(split(source, fw, learner=False).cells)  # in step with the source
    page = nbformat.v4.new_notebook()
    page.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"},
                     "d2l_bn": {"merged_from": source.name, "frameworks": list(FRAMEWORKS)}}
    seen: set[str] = set()
    cells = _source_cells(source)
    alts, section = _step_alts(cells), None
    for index, cell in enumerate(cells):
        if cell.cell_type == "markdown":
            section = _last_heading(cell.source) or section
        if names := cell_frameworks(cell):
            for fw in names:
                merged = copy.deepcopy(executed[fw][next(fresh[fw]).id])
                merged.outputs = _joined_streams(merged.outputs)
                if any(_is_image(out) for out in merged.outputs):
                    alt = alts[index] or _default_alt(merged.source, fw, section)
                    merged.metadata["mystnb"] = {"image": {"alt": alt}}
                page.cells.append(merged)
            continue
        tags = cell.metadata.get("tags", [])
        if "site-only" in tags:  # the page's own words: in no notebook, so taken as is
            page_cell = copy.deepcopy(cell)
            page_cell.metadata = {"tags": tags}
            page_cell.id = _cell_id(f"shared\n{cell.cell_type}\n{cell.source}", seen)
            page.cells.append(page_cell)
            continue
        if "notebook-only" in tags:  # a notebook's own words: step over them, not shown
            for fw in set(tags) & set(FRAMEWORKS) or FRAMEWORKS:
                next(fresh[fw])
            continue
        myst = [next(fresh[fw]) for fw in FRAMEWORKS]
        counterparts = [executed[fw][c.id] for fw, c in zip(FRAMEWORKS, myst)]
        shared = copy.deepcopy(counterparts[0])
        if PACKAGE_CHECK_TAG in shared.metadata.get("tags", []):
            continue
        if shared.cell_type == "markdown":
            shared.source = myst[0].source  # the notebooks' is converted for Jupyter
        if shared.cell_type == "code" and any(c.outputs for c in counterparts):
            raise BookError(f"A shared cell prints output ({shared.source[:60]!r}); "
                             "one output cannot stand for three runs: make it a framework cell.")
        shared.id = _cell_id(f"shared\n{shared.cell_type}\n{shared.source}", seen)
        page.cells.append(shared)
    return page


ALT_OPTION = "alt"  # the source cell option that holds a figure's alt text (see merge)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
# A string literal passed to a plotting or display call: plot_curves(rows, "Title").
PLOT_TITLE = re.compile(r"""\b(?:plot\w*|show|set_title|suptitle)\(.*?(["'])(.{3,}?)\1""")
PLOT_CALL = re.compile(r"\bplot_(\w+)\(")  # plot_lr_sweep(...): "the lr sweep"


def _step_alts(cells) -> list[str | None]:
    """Per source cell, the ``alt`` option of its step (its run of framework cells)."""
    alts: list[str | None] = [None] * len(cells)
    run: list[int] = []
    for index in range(len(cells) + 1):
        names = cell_frameworks(cells[index]) if index < len(cells) else []
        done = {fw for i in run for fw in cell_frameworks(cells[i])}
        if run and (not names or done & set(names)):
            shared = next((cells[i].metadata.get(ALT_OPTION) for i in run
                           if cells[i].metadata.get(ALT_OPTION)), None)
            for i in run:
                alts[i] = cells[i].metadata.get(ALT_OPTION) or shared
            run = []
        if names:
            run.append(index)
    return alts


def _last_heading(markdown: str) -> str | None:
    """The plain text of the last heading of a markdown cell (outside code fences)."""
    headings = HEADING.findall(FENCE.sub("", markdown))
    if not headings:
        return None
    text = re.sub(r"\$([^$]*)\$", lambda m: m.group(1).replace("\\", ""), headings[-1])
    return re.sub(r"[`*]|\{[^}]*\}", "", text).strip()


def _default_alt(code: str, framework: str, section: str | None) -> str:
    """An alt text made from a figure cell that has none (see merge)."""
    if title := PLOT_TITLE.search(code):
        what = f"Plot “{title.group(2)}”"
    elif ".fit(" in code:
        what = "Training curves (loss and accuracy against epochs)"
    elif plot := PLOT_CALL.search(code):
        what = f"Plot of the {plot.group(1).replace('_', ' ')}"
    else:
        what = "Figure"
    where = f", in “{section}”" if section else ""
    return f"{what} from the {LABELS[framework]} run{where}"


def _is_image(output) -> bool:
    return any(mime.startswith("image/") for mime in output.get("data", {}))


def _joined_streams(outputs) -> list:
    """``outputs`` with each run of consecutive stream outputs of one name made one."""
    joined = []
    for output in outputs:
        last = joined[-1] if joined else None
        if (output.output_type == "stream" and last is not None
                and last.output_type == "stream" and last.name == output.name):
            last.text += output.text
        else:
            joined.append(output)
    return joined


def _source_cells(source: Path):
    import jupytext

    return jupytext.read(source).cells


def page_out_of_sync(source: Path) -> str | None:
    """Why the committed site page differs from a fresh merge (None when in sync)."""
    path = merged_path(source)
    if not path.exists():
        return f"{path} is missing"
    if read_notebook(path) != merge(source):
        return f"{path} does not match {source.name} and the executed notebooks"
    return None
