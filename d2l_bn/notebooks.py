"""Maintainer tool: split the multi-framework source into per-framework notebooks, run them.

    python -m d2l_bn.notebooks split                 # (re)write chapters/<fw>/<name>.ipynb
    python -m d2l_bn.notebooks merge                 # site page chapters/<name>.ipynb
    python -m d2l_bn.notebooks check                 # fail if anything is out of sync
    python -m d2l_bn.notebooks execute pytorch       # full run, outputs saved in place

Every command takes ``--source <stem>`` (e.g. ``--source exercises``) to handle one
source only.

A source is a jupytext MyST notebook ``chapters/<name>.md``. Its framework cells start
with ``%%tab <framework>``; the cell tagged ``tab-setup`` selects the framework in
Jupyter and is replaced, in each generated notebook, by a cell that installs the
package when it runs in Colab. Every generated cell gets an id derived from its source
text, so outputs are carried over by id only while the code is unchanged.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import os
import sys
import time
import types
from pathlib import Path

from . import BACKEND_MODULES, FRAMEWORKS

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
SETUP_TAG = "tab-setup"
PIP_EXTRAS = {"mxnet": "mxnet", "pytorch": "torch", "tensorflow": "tensorflow"}
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
    extra = PIP_EXTRAS[framework]
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


def execute(path: Path, smoke: bool = False, timeout: int | None = None) -> float:
    """Run a notebook top to bottom in a fresh kernel; save its outputs in place."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    if smoke:
        os.environ["D2L_BN_SMOKE"] = "1"
    else:
        os.environ.pop("D2L_BN_SMOKE", None)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    nb.metadata["d2l_bn"]["run"] = {"seconds": round(seconds, 1),
                                    "mode": "smoke" if smoke else "full",
                                    "date": time.strftime("%Y-%m-%d")}
    nbformat.write(nb, path)
    return seconds


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
            raise ValueError(f"{problem}: run `python -m d2l_bn.notebooks split` and execute it.")
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m d2l_bn.notebooks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    commands = [sub.add_parser("split", help="write the per-framework notebooks"),
                sub.add_parser("merge", help="assemble the site page(s) from source + "
                                             "executed notebooks"),
                sub.add_parser("check", help="exit 1 if a generated notebook or page is "
                                             "out of sync")]
    run = sub.add_parser("execute", help="full run of per-framework notebooks")
    run.add_argument("frameworks", nargs="*", metavar="FRAMEWORK",
                     help=f"any of {', '.join(FRAMEWORKS)} (default: all)")
    for command in [*commands, run]:
        command.add_argument("--source", help="only this source (stem, e.g. batch_norm)")
    run.add_argument("--smoke", action="store_true", help="tiny runs (D2L_BN_SMOKE=1)")
    args = parser.parse_args(argv)

    unknown = set(getattr(args, "frameworks", [])) - set(FRAMEWORKS)
    if unknown:
        parser.error(f"unknown framework(s) {sorted(unknown)}; choose from {FRAMEWORKS}")
    chosen = [s for s in sources() if args.source in (None, s.stem)]
    if not chosen:
        parser.error(f"no source chapters/{args.source}.md with %%tab cells; choose from "
                     f"{', '.join(s.stem for s in sources())}")
    if args.command == "split":
        for source in chosen:
            for fw in FRAMEWORKS:
                print(f"wrote {write_split(source, fw).relative_to(ROOT)}")
    elif args.command == "merge":
        import nbformat

        for source in chosen:
            nbformat.write(merge(source), merged_path(source))
            print(f"wrote {merged_path(source).relative_to(ROOT)}")
    elif args.command == "check":
        problems = [p for s in chosen for fw in FRAMEWORKS if (p := out_of_sync(s, fw))]
        problems += [p for s in chosen if not problems and (p := page_out_of_sync(s))]
        print("\n".join(problems) or "all per-framework notebooks are in sync")
        return 1 if problems else 0
    else:
        for source in chosen:
            for fw in args.frameworks or FRAMEWORKS:
                path = target(source, fw)
                print(f"running {path.relative_to(ROOT)} ({BACKEND_MODULES[fw]}) ...", flush=True)
                print(f"  done in {execute(path, smoke=args.smoke):.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
