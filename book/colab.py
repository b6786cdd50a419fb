"""The Colab setup cell of the per-framework notebooks: a pinned install of ``d2l_bn``.

``python -m book split`` writes this cell, in place of the source's ``tab-setup`` cell,
into every per-framework notebook. In Google Colab it installs the release of the
helpers that the notebook was split and run with::

    d2l_bn[<extra>] @ git+<repository>@v<d2l_bn.__version__>

so the helpers cannot drift away from the committed notebook (the tag ``v<version>`` is
pushed when a release is cut: see the README). Elsewhere the cell does nothing.

* It installs with ``subprocess`` rather than ``%pip``: a failed ``%pip`` prints its
  error and lets "Run all" go on into a ``ModuleNotFoundError`` further down. Here a
  failure raises, with pip's own messages, what failed and what to do.
* Re-running it (after a restart) does not reinstall what is already there.
* MXNet 1.9.1 needs numpy < 2 while Colab ships numpy 2, so installing it replaces numpy
  under a kernel that has already loaded the old one. The MXNet cell then restarts the
  runtime itself (``os.kill(os.getpid(), 9)``: Colab starts a fresh kernel and
  reconnects) after printing what happens and what to do next (run all cells again).

The cell is plain Python (no magics), so a test can run it with a stand-in for Colab.
"""

from __future__ import annotations

from d2l_bn import LABELS, __version__

# Frameworks whose extra changes numpy in Colab's runtime (mxnet: numpy<2), which needs a
# kernel restart before anything can use the new numpy.
RESTART_AFTER_INSTALL = {"mxnet"}

CELL = '''\
# Runs in Google Colab only: installs d2l_bn {version}, the release of the helper package
# that this notebook was run with, for {label}. Elsewhere it does nothing: set up the
# environment as the README says. A failed install stops here, saying what to do.
import sys

if "google.colab" in sys.modules:
    import importlib
    import importlib.metadata
    import importlib.util
    import subprocess

    D2L_BN = "{spec}"

    def installed(name):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return None

    if installed("d2l_bn") != "{version}" or importlib.util.find_spec("{module}") is None:
        print(f"Installing {{D2L_BN}} ...")
        pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", D2L_BN],
                             capture_output=True, text=True)
        importlib.invalidate_caches()  # let the import system see the new packages
        if pip.returncode != 0:
            print(pip.stdout[-4000:], pip.stderr[-4000:], sep="\\n")
            raise RuntimeError(
                f"Could not install {{D2L_BN}} (pip exit status {{pip.returncode}}; its "
                "messages are above). Check that this runtime is connected to the internet, "
                "then run this cell again. If pip cannot find the release v{version}, open the "
                "notebook again from the course site, or install d2l_bn as the README says.")
{restart}'''

RESTART = '''\
    # MXNet 1.9.1 needs numpy < 2, and Colab ships numpy 2: pip has just replaced numpy
    # under this kernel, which still has the old one loaded. Restart the kernel (Colab
    # reconnects by itself), then run all cells again: this cell then has nothing to do.
    import os
    import time

    import numpy

    if numpy.__version__ != installed("numpy"):
        print(f"numpy {{installed('numpy')}} is installed for MXNet, but this kernel still "
              f"runs numpy {{numpy.__version__}}: restarting the runtime now (Colab may say "
              "the session crashed or restarted; that is expected). When it has reconnected, "
              "choose Runtime > Run all again.", flush=True)
        time.sleep(1)  # let the message reach the page
        os.kill(os.getpid(), 9)
'''


def spec(extra: str, url: str, version: str = __version__) -> str:
    """The pinned requirement: ``d2l_bn[<extra>] @ git+<url>@v<version>``."""
    return f"d2l_bn[{extra}] @ git+{url.rstrip('/')}@v{version}"


def setup_cell(framework: str, url: str, extra: str) -> str:
    """The Colab setup cell for ``framework``: installs ``d2l_bn[extra]`` at ``__version__``.

    ``extra`` is both the pip extra and the module it provides (torch, tensorflow, mxnet,
    jax).
    """
    restart = RESTART.format() if framework in RESTART_AFTER_INSTALL else ""
    return CELL.format(version=__version__, label=LABELS[framework], spec=spec(extra, url),
                       module=extra, restart=restart).rstrip("\n")
