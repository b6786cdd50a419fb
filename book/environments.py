"""Which virtual environment, requirements file and Jupyter kernel each framework runs in.

MXNet 1.9.1 (the last release) needs numpy < 2, and current JAX needs numpy >= 2, so no
single environment runs every framework. The book uses two:

* ``.venv`` (``requirements.txt``, numpy 2): the book tooling, Jupyter Book, the test
  tools, and PyTorch, TensorFlow and JAX;
* ``.venv-mxnet`` (``requirements-mxnet.txt``, numpy 1.26): MXNet and only what its
  notebooks and its in-process tests need (``d2l_bn`` installed with ``--no-deps -e``).

Every framework has its own Jupyter kernel, ``d2l-bn-<framework>``, running that
framework's environment's Python; all kernels are registered into ``.venv``'s prefix, so
``.venv``'s Jupyter, nbclient and nbval find them (``python -m book.environments
kernels`` registers them, ``make setup`` calls it). Learner notebooks name the standard
``python3`` kernel; ``book execute`` and the tests pick the framework's kernel.

This module is the one place that says so: the Makefile builds the environments listed
here (a test checks that it does), and notebooks, ``book execute``, the test passes and
the benchmark workers look frameworks up here. A framework of ``d2l_bn.FRAMEWORKS``
missing from ``ENVIRONMENTS`` is an error, never a silent default.

    python -m book.environments             # the mapping, one framework a line
    python -m book.environments kernels     # (re)register every framework's kernel
    python -m book.environments frameworks  # the frameworks of the running interpreter's env
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from d2l_bn import FRAMEWORKS, LABELS

from . import ROOT

KERNEL_PREFIX = "d2l-bn-"


@dataclass(frozen=True)
class Environment:
    """One virtual environment of the book, relative to the repository."""

    folder: str  # the venv, e.g. ".venv"
    requirements: str  # its exact pins, e.g. "requirements.txt"
    frameworks: tuple[str, ...]  # the frameworks that run in it (and in its kernels)
    main: bool = False  # the environment of the book tooling and of the whole test suite

    @property
    def path(self) -> Path:
        return ROOT / self.folder

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"


MAIN = Environment(".venv", "requirements.txt", ("pytorch", "tensorflow", "jax"), main=True)
MXNET = Environment(".venv-mxnet", "requirements-mxnet.txt", ("mxnet",))
ENVIRONMENTS = (MAIN, MXNET)
"""Every environment; the first is the main one."""


def environment(framework: str) -> Environment:
    """The environment a framework runs in (a clear error for an unknown framework)."""
    for env in ENVIRONMENTS:
        if framework in env.frameworks:
            return env
    raise LookupError(f"No environment runs {framework!r}: add it to one in "
                      f"book/environments.py (ENVIRONMENTS), with its requirements file.")


def python(framework: str) -> Path:
    """The Python interpreter of a framework's environment."""
    return environment(framework).python


def kernel_name(framework: str) -> str:
    """The Jupyter kernel of a framework's notebooks: ``d2l-bn-<framework>``."""
    environment(framework)  # an unknown framework is an error here too
    return KERNEL_PREFIX + framework


def kernelspec(framework: str) -> dict:
    """The ``kernelspec`` metadata of a framework's notebooks."""
    return {"name": kernel_name(framework), "language": "python",
            "display_name": f"Python 3 (d2l_bn, {LABELS.get(framework, framework)})"}


def current() -> Environment | None:
    """The environment the running interpreter belongs to (None: none of the book's)."""
    here = Path(sys.prefix).resolve()
    return next((env for env in ENVIRONMENTS if env.path.resolve() == here), None)


def frameworks_here() -> list[str]:
    """The frameworks of ``d2l_bn.FRAMEWORKS`` that run in this interpreter's environment.

    Outside the book's environments (say, a learner's own venv), every framework is
    taken to be here, as before the split.
    """
    env = current()
    return [fw for fw in FRAMEWORKS if env is None or environment(fw) is env]


def check() -> None:
    """Every framework of d2l_bn has an environment, and none has two."""
    for fw in FRAMEWORKS:
        environment(fw)
    names = [fw for env in ENVIRONMENTS for fw in env.frameworks]
    if len(names) != len(set(names)):
        raise ValueError(f"A framework is listed in two environments: {names}")


def install_kernels(prefix: Path | None = None, frameworks=None) -> None:
    """Register ``d2l-bn-<framework>`` for every framework listed here, into ``.venv``'s prefix.

    Each kernel runs its framework's environment's Python (``<env>/bin/python -m
    ipykernel install``), so a missing environment or ipykernel fails here, loudly.
    """
    check()
    prefix = prefix or MAIN.path
    for fw in frameworks or [fw for env in ENVIRONMENTS for fw in env.frameworks]:
        spec = kernelspec(fw)
        cmd = [str(python(fw)), "-m", "ipykernel", "install", "--prefix", str(prefix),
               "--name", spec["name"], "--display-name", spec["display_name"]]
        done = subprocess.run(cmd, capture_output=True, text=True)  # warns: prefix not its own
        if done.returncode != 0:
            raise RuntimeError(f"Could not register the kernel {spec['name']} "
                               f"({' '.join(cmd)}):\n{done.stderr}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["kernels"]:
        install_kernels()
    elif args == ["frameworks"]:
        print(" ".join(frameworks_here()))
    elif not args:
        check()
        for fw in FRAMEWORKS:
            env = environment(fw)
            print(f"{fw}: {env.folder} ({env.requirements}), kernel {kernel_name(fw)}")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
