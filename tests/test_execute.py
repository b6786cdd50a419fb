"""``book execute``: a full run starts only on a quiet machine, records whether it stayed
alone, and replaces the notebook only when it finished; a smoke run writes elsewhere.

Each test runs a two-cell notebook in the PyTorch kernel (a couple of seconds), in a
folder under the repository's ``test-output/`` (smoke copies go under ``_build/smoke/``,
mirroring the path).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from book import ROOT, execute, quiet

FRAMEWORK = "pytorch"
TALLY_LINE = {"examples": 1280, "seconds": 0.5}
CELLS = ["print('hello')",
         "import json, os\n"
         "with open(os.environ['D2L_BN_TALLY'], 'a') as f:\n"
         f"    f.write(json.dumps({TALLY_LINE!r}) + '\\n')"]
QUIET = quiet.Quietness(load=0.1, core_share=0.99, other_cores=0.0, cores=2)
BUSY = quiet.Quietness(load=2.5, core_share=0.55, other_cores=1.1, cores=2)


@pytest.fixture
def notebook(request):
    """A committed-looking notebook under test-output/, removed afterwards."""
    folder = ROOT / "test-output" / "execute" / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                  "language": "python"},
                   "d2l_bn": {"framework": FRAMEWORK, "source": "test.md"}}
    nb.cells = [nbformat.v4.new_code_cell(code) for code in CELLS]
    path = folder / "notebook.ipynb"
    nbformat.write(nb, path)
    yield path
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(execute.smoke_path(folder), ignore_errors=True)


@pytest.fixture
def machine(monkeypatch):
    """Set what the quiet check finds: ``machine(QUIET)`` or ``machine(BUSY)``."""
    def set_to(state):
        monkeypatch.setattr(quiet, "check", lambda: state)
    return set_to


def leftovers(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p != path)


def test_full_run_records_its_contention_and_training(notebook, machine):
    machine(QUIET)
    seconds = execute.execute(notebook)
    nb = nbformat.read(notebook, as_version=4)
    record = nb.metadata["d2l_bn"]["run"]
    assert nb.cells[0].outputs[0].text == "hello\n"
    assert record["mode"] == "full" and record["seconds"] == round(seconds, 1)
    assert record["quiet_check"] == {"load": 0.1, "core_share": 0.99, "other_cores": 0.0,
                                     "passed": True, "forced": False}
    assert record["training"] == {"fits": 1, **TALLY_LINE}
    assert 0 < record["kernel_cpu_per_wall"] < 2 * quiet.cores()
    assert record["other_cores"] >= 0 and record["threads"] == quiet.cores()
    assert {"load_before", "load_after", "machine", "date"} <= set(record)
    assert leftovers(notebook) == []


# A child process some earlier code started and dropped: it spends CPU seconds and exits
# before the run; Python reaps it when the next process starts (the kernel), and the
# operating system then counts its CPU time among the children that exited in the run.
BURN = "import time\nstart = time.process_time()\nwhile time.process_time() - start < 4: pass"


def test_the_kernel_cpu_is_the_kernels_own(notebook, machine):
    """A foreign child reaped during the run does not count as the kernel's CPU time."""
    import subprocess
    import sys
    import time

    machine(QUIET)
    child = subprocess.Popen([sys.executable, "-c", BURN])
    pid, stat = child.pid, Path(f"/proc/{child.pid}/stat")
    del child  # dropped while running: Python keeps it to reap later
    while stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":  # until it has exited
        time.sleep(0.1)
    execute.execute(notebook)
    record = nbformat.read(notebook, as_version=4).metadata["d2l_bn"]["run"]
    assert not Path(f"/proc/{pid}").exists()  # reaped during the run
    assert 0 < record["kernel_cpu_per_wall"] < 1.5, record  # a two-cell kernel: mostly idle


def test_busy_machine_refuses_a_full_run_and_changes_nothing(notebook, machine):
    machine(BUSY)
    before = notebook.read_bytes()
    with pytest.raises(execute.BusyMachine, match=r"busy .*--force"):
        execute.execute(notebook)
    assert notebook.read_bytes() == before


def test_forced_run_on_a_busy_machine_says_so(notebook, machine):
    machine(BUSY)
    execute.execute(notebook, force=True)
    check = nbformat.read(notebook, as_version=4).metadata["d2l_bn"]["run"]["quiet_check"]
    assert check["passed"] is False and check["forced"] is True


def test_smoke_run_writes_elsewhere(notebook, machine):
    machine(BUSY)  # a smoke run does not check: it prints no speeds to readers
    before = notebook.read_bytes()
    execute.execute(notebook, smoke=True)
    assert notebook.read_bytes() == before
    copy = nbformat.read(execute.smoke_path(notebook), as_version=4)
    assert copy.metadata["d2l_bn"]["run"]["mode"] == "smoke"
    assert "quiet_check" not in copy.metadata["d2l_bn"]["run"]


def test_failed_run_leaves_the_notebook_as_it_was(notebook, machine):
    machine(QUIET)
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell("raise RuntimeError('stopped')"))
    nbformat.write(nb, notebook)
    before = notebook.read_bytes()
    with pytest.raises(Exception, match="stopped"):
        execute.execute(notebook)
    assert notebook.read_bytes() == before and leftovers(notebook) == []


def test_interrupted_write_leaves_the_old_file(notebook, monkeypatch):
    before = notebook.read_bytes()

    def cut_short(nb, f, **kwargs):
        f.write(json.dumps(nb)[:100])
        raise KeyboardInterrupt

    monkeypatch.setattr(nbformat, "write", cut_short)
    with pytest.raises(KeyboardInterrupt):
        execute.write_atomically(nbformat.v4.new_notebook(), notebook)
    assert notebook.read_bytes() == before and leftovers(notebook) == []


def test_command_line_refuses_a_busy_machine_in_one_line(machine, capsys):
    from book.__main__ import main

    machine(BUSY)
    assert main(["execute", "pytorch", "--source", "batch_norm"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Not starting a full run of batch_norm.ipynb")
    assert "Traceback" not in err


def test_the_run_leaves_this_process_environment_alone(notebook, machine):
    machine(QUIET)
    before = dict(os.environ)
    execute.execute(notebook, smoke=True, threads=1)
    assert dict(os.environ) == before
