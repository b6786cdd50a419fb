"""The single-file edition of every per-framework notebook: the helpers it uses embedded.

    python -m book.single_file [--source NAME] [--out DIR]

writes, for every committed notebook ``chapters/<framework>/<name>.ipynb``, its edition
``chapters/single_file/<framework>/<name>-<framework>-single.ipynb``, and for every
Portuguese one (``chapters/pt_BR/<framework>/<name>.ipynb``),
``chapters/pt_BR/single_file/<framework>/<name>-<framework>-single-pt_BR.ipynb`` (a file
name of its own, so that the two languages' downloads never overwrite each other). Each
is the same notebook (cells and the outputs of its committed run) in which the
package-check cell (``book.setup_cell``) is replaced by two cells near the top: a short
note, and one collapsed cell (tags ``hide-cell``,
``single-file-helpers``) that holds the source text of every ``d2l_bn`` module the
notebook uses, verbatim, and registers them as the package ``d2l_bn``. The notebook's
own ``from d2l_bn import torch as d2l`` then runs unchanged, with nothing installed but
the framework (for JAX: jax, flax and optax), numpy and matplotlib, and pooch where the
data must be downloaded (``PIP``; the package falls back on the standard library where it
would use platformdirs; the data are found, or downloaded from the official site and
verified, exactly as with the installed package; Colab has pooch). Its kernelspec is the plain ``python3`` of any Jupyter installation,
like the notebook's.

The editions are committed, so that the site's Colab links can open them, and never
edited: ``python -m book split``, ``python -m book.translation notebooks`` and ``make
book`` regenerate them, and ``python -m book check`` (``tests/test_single_file.py``)
proves that they are what this module makes of the notebooks and of ``d2l_bn/`` now
(the embedded text is the package's files, byte for byte).
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
import textwrap
from pathlib import Path

from d2l_bn import BACKEND_MODULES, FRAMEWORKS, LABELS, __version__

from . import CHAPTERS, ROOT
from .notebooks import KERNELSPEC, sources, target
from .setup_cell import TAG as PACKAGE_CHECK_TAG

PACKAGE = ROOT / "d2l_bn"
LANGUAGES = ("en", "pt_BR")  # pt_BR: the notebooks of chapters/pt_BR (book.translation)
HELPERS_TAGS = ["hide-cell", "single-file-helpers"]
FILES_NAME = "_D2L_BN_FILES"  # the dict, in the helpers cell, of file path -> source text
# What to install for each framework's single-file notebook (the note cell says it). MXNet
# 1.9.1 needs numpy < 2 and, from Python 3.12 on, the distutils that setuptools provides.
# JAX: the ranges of pyproject.toml's `jax` extra (Flax NNX 0.12 needs JAX 0.10 and numpy 2;
# a test checks that they agree).
# pooch downloads the data where they are not on the machine already (d2l_bn.fetch).
PIP = {"mxnet": 'pip install mxnet==1.9.1 "numpy<2" matplotlib pooch setuptools',
       "pytorch": "pip install torch numpy matplotlib pooch",
       "tensorflow": "pip install tensorflow numpy matplotlib pooch",
       "jax": 'pip install "jax>=0.10" "flax>=0.12" "optax>=0.2.5" "numpy>=2" matplotlib pooch'}
# What the notes name besides numpy and matplotlib, where the framework is more than one
# package.
PACKAGES = {"jax": "JAX, Flax, optax"}
# `from d2l_bn[.sub] import names` or `import d2l_bn[.sub]`, on one line.
IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+d2l_bn(?:\.(\w+))?[ \t]+import[ \t]+([\w \t,]+)|"
                    r"import[ \t]+d2l_bn(?:\.(\w+))?)", re.MULTILINE)


def module_file(module: str) -> Path:
    """``d2l_bn`` -> d2l_bn/__init__.py, ``d2l_bn.data`` -> d2l_bn/data.py."""
    parts = module.split(".")
    return ROOT.joinpath(*parts, "__init__.py") if len(parts) == 1 else \
        ROOT.joinpath(*parts[:-1], parts[-1] + ".py")


def _submodule(name: str) -> str | None:
    """``d2l_bn.<name>`` if the package has such a module file, else None."""
    return f"d2l_bn.{name}" if (PACKAGE / f"{name}.py").is_file() else None


def imported_modules(code: str) -> set[str]:
    """The d2l_bn modules that ``code`` imports (``from d2l_bn import torch``: d2l_bn.torch)."""
    found = {"d2l_bn"} if IMPORT.search(code) else set()
    for sub, names, plain in IMPORT.findall(code):
        found.update(m for m in (_submodule(sub or plain or ""),) if m)
        if not sub:  # `from d2l_bn import torch as d2l, data`: modules among the names
            for name in re.split(r"[\s,()]+", names):
                if name and name != "as" and (module := _submodule(name)):
                    found.add(module)
    return found


def _package_imports(module: str) -> set[str]:
    """The d2l_bn modules imported by the source of ``module`` (relative or absolute)."""
    found = set()
    for node in ast.walk(ast.parse(module_file(module).read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 or node.module == "d2l_bn" or \
                    (node.module or "").startswith("d2l_bn."):
                base = node.module.removeprefix("d2l_bn").lstrip(".") if node.level == 0 \
                    else node.module
                found.add("d2l_bn")
                if base:
                    found.add(f"d2l_bn.{base}")
                else:  # from . import x
                    found.update(m for a in node.names if (m := _submodule(a.name)))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("d2l_bn"))
    return found


def needed_modules(roots: set[str]) -> list[str]:
    """``roots`` and everything they import from d2l_bn, the package first."""
    todo, done = set(roots) | {"d2l_bn"}, set()
    while todo:
        module = todo.pop()
        done.add(module)
        todo |= _package_imports(module) - done
    return sorted(done, key=lambda m: (m != "d2l_bn", m))


def _literal(text: str) -> str:
    """``text`` as a readable Python literal (a raw triple-quoted string where exact)."""
    raw = f"r'''{text}'''"
    try:
        if "'''" not in text and ast.literal_eval(raw) == text:
            return raw
    except SyntaxError:  # a trailing backslash, say
        pass
    return repr(text)


LOADER = '''\
# The helper package d2l_bn {version}, embedded: this notebook runs with nothing but
# {label}, numpy and matplotlib installed. GENERATED by `python -m book.single_file`
# from the package's own files; do not edit here: change the package. Embedded:
{files}
#
# {files_name} holds each file's text. The importer below serves them as the package
# d2l_bn (it comes first on sys.meta_path, so an installed d2l_bn is not used), so the
# notebook's `from d2l_bn import {module} as d2l` works as with the installed package.
import importlib.abc
import importlib.machinery
import sys


class _EmbeddedD2L(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds and loads d2l_bn's modules from the texts in {files_name}."""

    ROOT = "(embedded in this notebook)/"  # shown as the file name in tracebacks

    def __init__(self, files):
        self.files = files

    def _file(self, fullname):
        stem = fullname.replace(".", "/")
        return next((f for f in (f"{{stem}}/__init__.py", f"{{stem}}.py") if f in self.files),
                    None)

    def find_spec(self, fullname, path=None, target=None):
        file = self._file(fullname)
        if file is None:
            return None
        spec = importlib.machinery.ModuleSpec(fullname, self, origin=self.ROOT + file,
                                              is_package=file.endswith("/__init__.py"))
        spec.has_location = True  # sets __file__
        return spec

    def get_source(self, fullname):  # also what tracebacks show (linecache asks for it)
        return self.files[self._file(fullname)]

    def exec_module(self, module):
        # What the import system does with a .py file: compile its text, run it in the
        # module's namespace.
        code = compile(self.get_source(module.__name__), module.__spec__.origin, "exec")
        exec(code, module.__dict__)


def _use_embedded_d2l_bn(files):
    """Put the importer first, replacing an earlier copy and the modules loaded from it."""
    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "_EmbeddedD2L"]
    for name in [m for m in sys.modules if m.split(".")[0] == "d2l_bn"]:
        del sys.modules[name]
    sys.meta_path.insert(0, _EmbeddedD2L(files))


{files_name} = {{
{entries}
}}

_use_embedded_d2l_bn({files_name})
del _use_embedded_d2l_bn, _EmbeddedD2L, {files_name}
'''

NOTE = """\
**Single-file edition.** This notebook carries its own copy of `d2l_bn` {version}, the
course's helper package, in the collapsed cell below (generated from the package; it is
not meant to be edited). So it needs nothing but {label}, numpy and matplotlib, and
pooch to download the data:

```
{pip}
```

The Fashion-MNIST files are looked for on your machine, or downloaded from the official
site and checked, as the course's README describes. Prefer the regular notebook if you
use the installed package: it is the same notebook without this copy."""


def note(framework: str, language: str = "en") -> str:
    """The note above the helpers cell, in ``language`` (``pt_BR``: its paragraphs as the
    site catalog, ``locales/pt_BR/LC_MESSAGES/site.po``, translates them)."""
    template = NOTE
    if language != "en":
        from .markdown_blocks import replace_blocks
        from .translation import SITE_CATALOG, translations

        table = translations([SITE_CATALOG])
        template = replace_blocks(NOTE, lambda text: table.get(text, text))
    return template.format(version=__version__, label=packages(framework), pip=PIP[framework])


def packages(framework: str) -> str:
    """What the framework's edition needs besides numpy and matplotlib, for the notes."""
    return PACKAGES.get(framework, LABELS[framework])


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def helpers_cell(framework: str, modules: list[str]) -> str:
    """The code of the helpers cell: the modules' files, verbatim, and their importer."""
    files = [relative(module_file(m)) for m in modules]
    entries = ",\n".join(f"{f!r}: {_literal((ROOT / f).read_text())}" for f in files)
    return LOADER.format(version=__version__, label=packages(framework),
                         files=textwrap.fill(", ".join(files), 88, initial_indent="#   ",
                                             subsequent_indent="#   "),
                         files_name=FILES_NAME,
                         module=BACKEND_MODULES[framework], entries=entries).rstrip("\n")


def embedded_files(code: str) -> dict[str, str]:
    """The ``{file: text}`` dict written into a helpers cell (for tests and checks)."""
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == FILES_NAME:
            return ast.literal_eval(node.value)
    raise ValueError(f"no {FILES_NAME} = {{...}} in this cell")


def single_file(notebook):
    """The single-file edition of a per-framework notebook (an nbformat notebook)."""
    import nbformat

    framework = notebook.metadata["d2l_bn"]["framework"]
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code"
                     and PACKAGE_CHECK_TAG not in c.metadata.get("tags", []))
    modules = needed_modules(imported_modules(code) | {f"d2l_bn.{BACKEND_MODULES[framework]}"})
    language = notebook.metadata["d2l_bn"].get("language", "en")
    note_cell = nbformat.v4.new_markdown_cell(note(framework, language))
    note_cell.id, note_cell.metadata["tags"] = "single-file-note", ["single-file-helpers"]
    helpers = nbformat.v4.new_code_cell(helpers_cell(framework, modules))
    helpers.id, helpers.metadata["tags"] = "single-file-helpers", list(HELPERS_TAGS)
    out = copy.deepcopy(notebook)
    setup = [i for i, c in enumerate(out.cells)
             if PACKAGE_CHECK_TAG in c.metadata.get("tags", [])]
    at = setup[0] if setup else next(i for i, c in enumerate(out.cells) if c.cell_type == "code")
    out.cells[at:at + len(setup[:1])] = [note_cell, helpers]
    out.metadata["kernelspec"] = dict(KERNELSPEC)  # any Jupyter's python3
    out.metadata["d2l_bn"]["edition"] = {"single_file": True, "d2l_bn": __version__,
                                         "embedded": [relative(module_file(m)) for m in modules]}
    return out


def notebook_path(source: Path, framework: str, language: str = "en") -> Path:
    """The per-framework notebook an edition is made from, in ``language``."""
    english = target(source, framework)
    return english if language == "en" else CHAPTERS / language / framework / english.name


def committed_path(source: Path, framework: str, language: str = "en") -> Path:
    """Where the edition is committed: chapters/single_file/pytorch/batch_norm-pytorch-
    single.ipynb, chapters/pt_BR/single_file/pytorch/batch_norm-pytorch-single-pt_BR.ipynb."""
    folder = CHAPTERS if language == "en" else CHAPTERS / language
    suffix = "" if language == "en" else f"-{language}"
    return folder / "single_file" / framework / f"{source.stem}-{framework}-single{suffix}.ipynb"


def editions(only: str | None = None, languages=LANGUAGES):
    """(committed path, text as written) of every edition, from the committed notebooks."""
    import nbformat

    for source in sources():
        if only not in (None, source.stem):
            continue
        for language in languages:
            for framework in FRAMEWORKS:
                notebook = nbformat.read(notebook_path(source, framework, language), as_version=4)
                text = nbformat.writes(single_file(notebook)) + "\n"
                yield committed_path(source, framework, language), text


def write_all(root: Path = ROOT, only: str | None = None, languages=LANGUAGES) -> list[Path]:
    """Write every edition (under ``root``, at its path relative to the repository)."""
    written = []
    for path, text in editions(only, languages):
        path = root / path.relative_to(ROOT)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written


def out_of_sync(only: str | None = None) -> list[str]:
    """Why each committed edition differs from a fresh one ([] when all are in sync)."""
    return [f"{relative(path)} is out of sync: run `python -m book.single_file`"
            for path, text in editions(only)
            if not path.is_file() or path.read_text() != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m book.single_file",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", help="only this source (stem, e.g. batch_norm)")
    parser.add_argument("--out", type=Path, default=ROOT,
                        help="write under this folder instead of the repository")
    args = parser.parse_args(argv)
    for path in write_all(args.out.absolute(), args.source):
        shown = relative(path) if path.is_relative_to(ROOT) else path
        print(f"wrote {shown} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
