"""Clean virtual environments for the learner-path tests: what a learner installs, nothing more.

Two kinds of environment per framework, each with only what its notebooks say they need,
plus ``ipykernel`` and ``nbclient`` to run them, and nothing from this repository::

    python tests/clean_envs.py [pytorch|tensorflow|jax|mxnet ...]   # build or reuse; report

* a *stack* (``stack``): the framework, numpy and matplotlib, at exact pins (``STACKS``):
  what a single-file edition needs (``book.single_file``);
* a *wheel environment* (``wheel_env``): the ``d2l_bn`` wheel, built from the package now,
  installed with its framework's extra (``WHEEL_INSTALLS``) into an empty venv, so that
  pip resolves what the wheel declares; only ``CONSTRAINTS`` holds pip back (torch stays
  the CPU build 2.13.0: any other version pulls gigabytes of CUDA packages).

Each is built once, under ``test-output/learner-envs/<name>-<hash>/`` (the hash covers the
Python version, the requirements and, for a wheel environment, the package's files, so
a change builds a new one; ``$D2L_BN_ENV_CACHE`` moves the folder), and never modified
afterwards: the ``build.json`` written last records how long the build took, its size
and every installed version. A new build of a name removes its earlier builds. A lock file makes concurrent builds wait for one another.
Every environment has a kernelspec named ``python3`` in its own prefix, running its own
Python: the standard kernel that every learner notebook names.

Notebooks run with ``nbclient`` *inside* the environment, in that ``python3`` kernel,
with the working directory in a temporary folder (never the repository, which would make
the package importable) and Jupyter's user folders redirected (no kernel spec from
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
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# numpy: torch 2.13.0 does not require numpy (its wheel is built against numpy 2 and works
# with 2.0.2 and 2.4.6 alike); TensorFlow 2.21 asks numpy>=1.26. The PyTorch stack takes the
# oldest numpy 2 line (2.0, what Colab shipped in 2025), the TensorFlow stack the newest,
# so that the package is tested at both ends of numpy 2. MXNet 1.9.1 needs numpy < 2.
NOTEBOOK_TOOLS = ["ipykernel==7.4.0", "nbclient==0.11.0"]
MATPLOTLIB = "matplotlib==3.11.2"
STACKS = {
    # torch==2.13.0 resolves to the CPU wheel on these machines (any other version would
    # pull gigabytes of CUDA packages).
    "pytorch": ["torch==2.13.0", "numpy==2.0.2", MATPLOTLIB],
    # tensorflow-cpu: 261 MB against 545 MB for `tensorflow`; Keras 3 comes with it.
    "tensorflow": ["tensorflow-cpu==2.21.0", "numpy==2.4.6", MATPLOTLIB],
    # JAX needs numpy >= 2 and scipy; jaxlib is its CPU runtime (350 MB installed; the whole
    # stack 880 MB). Flax also pulls what its checkpointing and printing use (orbax-checkpoint
    # with tensorstore, msgpack, rich, treescope, PyYAML), unpinned as in the other stacks.
    "jax": ["jax==0.10.2", "jaxlib==0.10.2", "flax==0.12.8", "optax==0.2.8", "numpy==2.4.6",
            MATPLOTLIB],
    # MXNet's single-file line (book.single_file.PIP): setuptools for Python >= 3.12 only.
    "mxnet": ["mxnet==1.9.1", "numpy==1.26.4", MATPLOTLIB],
}
# What `pip install` gets besides the wheel: its extra, as the README's install line has
# it, and anything else. TensorFlow: the extra names `tensorflow` (545 MB, with its CUDA
# libraries), so that environment takes the wheel with tensorflow-cpu, the same
# TensorFlow without the GPU parts (pip still resolves numpy, matplotlib and the rest).
WHEEL_INSTALLS = {"pytorch": ("[torch]", []), "tensorflow": ("", ["tensorflow-cpu"]),
                  "jax": ("[jax]", []), "mxnet": ("[mxnet]", [])}
CONSTRAINTS = ["torch==2.13.0"]  # the CPU wheel on disk, never a CUDA build
# Distributions whose versions a report shows first.
KEY_PACKAGES = ("numpy", "torch", "tensorflow-cpu", "keras", "jax", "jaxlib", "flax", "optax",
                "mxnet", "matplotlib", "d2l-bn", "pooch", "platformdirs", "ipykernel",
                "nbclient")
PY_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
# Which learner notebooks the slow tests run: by default, within CI's time budget, the
# chapter in every framework, once per path (about 40 s each in smoke mode; the exercises
# take 90 s and more); `D2L_BN_LEARNER_PATHS=all` runs every notebook of every language.
RUN_ALL_ENV = "D2L_BN_LEARNER_PATHS"


def chosen(notebooks: list, by_default: Callable[[object], bool]) -> list:
    """``notebooks``, or those ``by_default`` keeps unless ``$D2L_BN_LEARNER_PATHS=all``."""
    if os.environ.get(RUN_ALL_ENV) == "all":
        return notebooks
    return [notebook for notebook in notebooks if by_default(notebook)]


def cache_root() -> Path:
    """Where the stacks live (created on demand)."""
    root = Path(os.environ.get("D2L_BN_ENV_CACHE") or ROOT / "test-output" / "learner-envs")
    root.mkdir(parents=True, exist_ok=True)
    return root


def env_key(name: str, spec) -> str:
    """``<name>-<hash>``: the hash covers the interpreter and ``spec`` (what is installed)."""
    text = json.dumps({"python": sys.version.split()[0], "spec": spec}, sort_keys=True)
    return f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


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
    """``pip install`` into ``env`` (wheels only, within ``CONSTRAINTS``); seconds taken.

    Without byte-compiling (``--no-compile``): Python compiles each module when it is
    first imported instead, which changes nothing a test sees. Compiling every file of
    torch at install time took 50 of the PyTorch stack's 82 seconds.
    """
    constraints = cache_root() / "constraints.txt"
    constraints.write_text("\n".join(CONSTRAINTS) + "\n")
    start = time.perf_counter()
    run(python_of(env), "-m", "pip", "install", "--quiet", "--no-compile",
        "--only-binary=:all:", "--constraint", constraints, *requirements)
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


def _built(name: str, spec, install: Callable[[Path], None]) -> tuple[Path, dict]:
    """The cached environment ``name`` for ``spec`` (built now with ``install`` if
    missing), with a ``python3`` kernelspec of its own, and its build record."""
    env = cache_root() / env_key(name, spec)
    record = env / "build.json"
    with _locked(env.with_suffix(".lock")):
        if not record.exists():  # missing or half-built (interrupted): build from scratch
            shutil.rmtree(env, ignore_errors=True)
            _remove_older(name, env)
            start = time.perf_counter()
            run(sys.executable, "-m", "venv", env)
            venv_s = time.perf_counter() - start
            install(env)
            pip_s = time.perf_counter() - start - venv_s
            run(python_of(env), "-m", "ipykernel", "install", "--prefix", env,
                "--name", "python3", "--display-name", "Python 3")
            info = {"name": name, "spec": spec, "python": sys.version.split()[0],
                    "built": time.strftime("%Y-%m-%d %H:%M"),
                    "seconds": {"venv": round(venv_s, 1), "pip": round(pip_s, 1)},
                    "size_mb": size_mb(env), "versions": versions(env)}
            record.write_text(json.dumps(info, indent=1))  # last: marks the build complete
    return env, json.loads(record.read_text())


def _remove_older(name: str, current: Path) -> None:
    """Remove the builds of ``name`` for earlier pins or package files (a gigabyte each)."""
    for old in cache_root().glob(f"{name}-*"):
        if old.is_dir() and old != current:
            shutil.rmtree(old, ignore_errors=True)
            old.with_suffix(".lock").unlink(missing_ok=True)


def stack(name: str) -> tuple[Path, dict]:
    """The framework's stack (framework, numpy, matplotlib), built now if missing."""
    requirements = [*STACKS[name], *NOTEBOOK_TOOLS]
    return _built(name, requirements, lambda env: pip_install(env, *requirements))


def package_digest() -> str:
    """A hash of what the wheel is built from (so a changed package builds a new env)."""
    digest = hashlib.sha256()
    for path in [ROOT / "pyproject.toml", *sorted((ROOT / "d2l_bn").glob("*.py"))]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def wheel_env(framework: str) -> tuple[Path, dict]:
    """A venv with the ``d2l_bn`` wheel and its framework's extra, as a learner installs
    them (``WHEEL_INSTALLS``), pip resolving the rest; built now if missing."""
    extra, others = WHEEL_INSTALLS[framework]

    def install(env: Path) -> None:
        wheel = build_wheel(env / "wheel")
        pip_install(env, f"d2l_bn{extra} @ {wheel.as_uri()}", *others, *NOTEBOOK_TOOLS)

    spec = {"extra": extra, "others": others, "tools": NOTEBOOK_TOOLS,
            "constraints": CONSTRAINTS, "package": package_digest()}
    return _built(f"wheel-{framework}", spec, install)


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
    """Versions and build timings of an environment, in a few lines."""
    seen = installed or record["versions"]
    key = ", ".join(f"{p} {seen[p]}" for p in KEY_PACKAGES if p in seen)
    return (f"{name} (Python {record['python']}): {key}\n"
            f"  built {record['built']} in {record['seconds']['venv']} s (venv) + "
            f"{record['seconds']['pip']} s (pip), {record['size_mb']} MB, "
            f"{len(record['versions'])} distributions")


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or list(STACKS)
    for name in names:
        for kind, build in (("stack", stack), ("wheel", wheel_env)):
            env, record = build(name)
            print(report(f"{name} ({kind})", record))
            print(f"  {env}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
