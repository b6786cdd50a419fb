"""Clean virtual environments for the learner-path tests: what a learner installs, nothing more.

Each *stack* is one framework's environment as a learner would make it, on numpy 2, with
exact pins (``STACKS``) and nothing from this repository::

    python -m book.clean_envs [pytorch|tensorflow|jax ...]   # build or reuse; print versions

A stack is built once, under ``test-output/learner-envs/<name>-<hash>/`` (the hash covers
the Python version and the pins, so changing a pin builds a new one; ``$D2L_BN_ENV_CACHE``
moves the folder), and never modified afterwards: the ``build.json`` written last
records how long the build took, its size and every installed version. A lock file
makes concurrent test sessions wait for one build instead of racing.

What a test installs (the ``d2l_bn`` wheel) goes into an *overlay*: a small venv of its
own whose ``site-packages`` sees the stack through a ``.pth`` file, so one stack serves
both "installed from the wheel" and "no d2l_bn at all", and pip installs only what the
stack lacks (``d2l_bn`` and pooch; platformdirs comes with Jupyter, which needs it).

Notebooks run with ``nbclient`` *inside* the environment, in a kernel from it, with the
working directory in a temporary folder (never the repository, which would make the
package importable) and Jupyter's user folders redirected (no kernel spec from
elsewhere). The rest of the caller's environment passes through (``clean_environ``): in
a test session, the root conftest.py's smoke mode and JAX compilation cache too.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import ROOT

# numpy: torch 2.13.0 does not require numpy (its wheel is built against numpy 2 and works
# with 2.0.2 and 2.4.6 alike); TensorFlow 2.21 asks numpy>=1.26. The PyTorch stack takes the
# oldest numpy 2 line (2.0, what Colab shipped in 2025), the TensorFlow stack the newest,
# so that the package is tested at both ends of numpy 2.
NOTEBOOK_TOOLS = ["matplotlib==3.11.2", "ipykernel==7.4.0", "nbclient==0.11.0"]
STACKS = {
    # torch==2.13.0 resolves to the CPU wheel on these machines (any other version would
    # pull gigabytes of CUDA packages).
    "pytorch": ["torch==2.13.0", "numpy==2.0.2", *NOTEBOOK_TOOLS],
    # tensorflow-cpu: 261 MB against 545 MB for `tensorflow`; Keras 3 comes with it.
    "tensorflow": ["tensorflow-cpu==2.21.0", "numpy==2.4.6", *NOTEBOOK_TOOLS],
    # JAX needs numpy >= 2 and scipy; jaxlib is its CPU runtime (350 MB installed; the whole
    # stack 880 MB). Flax also pulls what its checkpointing and printing use (orbax-checkpoint
    # with tensorstore, msgpack, rich, treescope, PyYAML), unpinned as in the other stacks.
    "jax": ["jax==0.10.2", "jaxlib==0.10.2", "flax==0.12.8", "optax==0.2.8", "numpy==2.4.6",
            *NOTEBOOK_TOOLS],
}
# Distributions whose versions a report shows first.
KEY_PACKAGES = ("numpy", "torch", "tensorflow-cpu", "keras", "jax", "jaxlib", "flax", "optax",
                "matplotlib", "d2l-bn", "pooch", "platformdirs", "ipykernel", "nbclient")
PY_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"


def cache_root() -> Path:
    """Where the stacks live (created on demand)."""
    root = Path(os.environ.get("D2L_BN_ENV_CACHE") or ROOT / "test-output" / "learner-envs")
    root.mkdir(parents=True, exist_ok=True)
    return root


def stack_key(name: str) -> str:
    """``<name>-<hash>``: the hash covers the interpreter and the pins."""
    spec = json.dumps({"python": sys.version.split()[0], "pins": STACKS[name]})
    return f"{name}-{hashlib.sha256(spec.encode()).hexdigest()[:12]}"


def python_of(env: Path) -> Path:
    return env / "bin" / "python"


def site_packages(env: Path) -> Path:
    return env / "lib" / f"python{PY_VERSION}" / "site-packages"


def clean_environ(**extra: str) -> dict[str, str]:
    """The current environment without anything pointing at this repository's venv."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(str(ROOT)))
    env.update(extra)
    return env


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    """Run a command, failing with the tail of its output (not only its exit status)."""
    kwargs.setdefault("env", clean_environ())
    # Never from the repository: Python puts the working directory first on sys.path, and
    # there pip and importlib.metadata would find the editable install's d2l_bn.egg-info.
    kwargs.setdefault("cwd", cache_root())
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({done.returncode}):\n"
                           f"{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
    return done


def pip_install(env: Path, *requirements: str) -> float:
    """``pip install`` into ``env`` (wheels only); seconds taken.

    Without byte-compiling (``--no-compile``): Python compiles each module when it is
    first imported instead, which changes nothing a test sees. Compiling every file of
    torch at install time took 50 of the PyTorch stack's 82 seconds.
    """
    start = time.perf_counter()
    run(python_of(env), "-m", "pip", "install", "--quiet", "--no-compile",
        "--only-binary=:all:", *requirements)
    return time.perf_counter() - start


def versions(env: Path) -> dict[str, str]:
    """Every distribution the environment's interpreter sees, with its version."""
    code = ("import importlib.metadata as m, json;"
            "print(json.dumps({d.metadata['Name'].lower().replace('_', '-'): d.version "
            "for d in m.distributions()}))")
    return json.loads(run(python_of(env), "-c", code).stdout)


def size_mb(folder: Path) -> float:
    total = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())
    return round(total / 2**20, 1)


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
        yield


def stack(name: str) -> tuple[Path, dict]:
    """The cached stack ``name`` (built now if missing) and its build record."""
    env = cache_root() / stack_key(name)
    record = env / "build.json"
    with _locked(env.with_suffix(".lock")):
        if not record.exists():  # missing or half-built (interrupted): build from scratch
            shutil.rmtree(env, ignore_errors=True)
            start = time.perf_counter()
            run(sys.executable, "-m", "venv", env)
            venv_s = time.perf_counter() - start
            pip_s = pip_install(env, *STACKS[name])
            info = {"name": name, "pins": STACKS[name], "python": sys.version.split()[0],
                    "built": time.strftime("%Y-%m-%d %H:%M"),
                    "seconds": {"venv": round(venv_s, 1), "pip": round(pip_s, 1)},
                    "size_mb": size_mb(env), "versions": versions(env)}
            record.write_text(json.dumps(info, indent=1))  # last: marks the build complete
    return env, json.loads(record.read_text())


def overlay(base: Path, where: Path) -> Path:
    """A new venv at ``where`` that sees ``base``'s packages (installs go into ``where``)."""
    run(sys.executable, "-m", "venv", "--without-pip", where)
    (site_packages(where) / "_learner_stack.pth").write_text(f"{site_packages(base)}\n")
    return where


def package_snapshot(dest: Path) -> Path:
    """Copy what building ``d2l_bn`` needs (pyproject.toml, README.md, d2l_bn/) to ``dest``."""
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, dest / name)
    shutil.copytree(ROOT / "d2l_bn", dest / "d2l_bn",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def build_wheel(out: Path) -> Path:
    """The ``d2l_bn`` wheel, built from a snapshot of the package (not in the tree)."""
    src = out / "src"
    shutil.rmtree(src, ignore_errors=True)
    package_snapshot(src)
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
        "--wheel-dir", out, src, env=clean_environ(PATH=os.environ.get("PATH", "")))
    shutil.rmtree(src)
    (wheel,) = out.glob("d2l_bn-*.whl")
    return wheel


# Run inside the clean environment: execute a notebook, then report who ran it.
EXECUTE = """
import json, sys, time
import nbformat
from nbclient import NotebookClient

path, out = sys.argv[1:3]
nb = nbformat.read(path, as_version=4)
nb.cells.append(nbformat.v4.new_code_cell(PROBE))
start = time.perf_counter()
client = NotebookClient(nb, timeout=900, kernel_name="python3",
                        resources={"metadata": {"path": sys.argv[3]}})
try:
    client.execute()
except BaseException:
    ran = [i for i, c in enumerate(nb.cells) if c.get("execution_count")]
    print(f"failed after cell {ran[-1] if ran else None} of {len(nb.cells)} "
          f"(executed copy: {out})", file=sys.stderr)
    raise
finally:
    nbformat.write(nb, out)
seconds = time.perf_counter() - start
probe = json.loads(nb.cells[-1].outputs[-1]["text"])
print(json.dumps({"seconds": round(seconds, 1), **probe}))
"""
# The last cell: where the kernel's Python and d2l_bn came from, and what it could import.
PROBE = """
import importlib.util, json, sys
import d2l_bn, numpy
print(json.dumps({"executable": sys.executable, "d2l_bn_file": d2l_bn.__file__,
                  "d2l_bn_version": d2l_bn.__version__, "numpy": numpy.__version__,
                  "importable": {m: importlib.util.find_spec(m) is not None
                                 for m in ("pooch", "platformdirs", "torch", "tensorflow",
                                           "mxnet", "jax")}}))
"""


def execute(env: Path, notebook: Path, workdir: Path, **environ: str) -> dict:
    """Run ``notebook`` top to bottom in a kernel of ``env``, from ``workdir``.

    Returns the probe (see ``PROBE``) and the seconds taken; the executed copy is saved
    next to the copy of the notebook in ``workdir``.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    copy = workdir / notebook.name
    shutil.copy(notebook, copy)
    jupyter = workdir / ".jupyter"
    env_vars = clean_environ(JUPYTER_DATA_DIR=str(jupyter / "data"),
                             JUPYTER_CONFIG_DIR=str(jupyter / "config"),
                             JUPYTER_RUNTIME_DIR=str(jupyter / "runtime"),
                             MPLCONFIGDIR=str(jupyter / "matplotlib"), **environ)
    script = EXECUTE.replace("PROBE", repr(PROBE))
    done = run(python_of(env), "-c", script, copy, copy.with_suffix(".executed.ipynb"),
               workdir, cwd=workdir, env=env_vars)
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(name: str, record: dict, installed: dict[str, str] | None = None) -> str:
    """Versions and build timings of a stack, in a few lines."""
    seen = installed or record["versions"]
    key = ", ".join(f"{p} {seen[p]}" for p in KEY_PACKAGES if p in seen)
    return (f"{name} (Python {record['python']}): {key}\n"
            f"  built {record['built']} in {record['seconds']['venv']} s (venv) + "
            f"{record['seconds']['pip']} s (pip), {record['size_mb']} MB, "
            f"{len(record['versions'])} distributions")


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or list(STACKS)
    for name in names:
        env, record = stack(name)
        print(report(name, record))
        print(f"  {env}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
