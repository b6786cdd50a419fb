"""Is the machine quiet? Measured before a full run, and recorded over it.

A full run's printed speeds and wall time reach readers, so the run must have the
machine to itself. Three Linux readings tell whether it did:

* the **load average** (``/proc/loadavg``): runnable processes, averaged over a minute.
  It lags: right after one notebook's run it still counts that run's threads (2.02 on
  two cores, seen here), so it only stops a start on a plainly overloaded machine (above
  two runnable processes per core); the two direct measurements below decide the rest;
* the **other processes' CPU**: all the machine's busy CPU time (``/proc/stat``, steal
  included: time the hypervisor gave to other machines) minus this process's and its
  children's, divided by the wall time: how many cores something else used;
* a **calibration**: one busy loop per core for a moment; on a quiet machine each gets
  its core (CPU time / wall time near 1), on a busy one it waits.

``check()`` takes the first and the calibration before a run; ``Usage`` measures the
other processes' CPU over the run (its ``start`` and ``stop`` around it, after the
kernel has exited so that its CPU time counts as ours).
"""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import dataclass

# The calibration's busy loop: prints its CPU time over its wall time after SECONDS.
CALIBRATION_SECONDS = 1.0
_BUSY_LOOP = ("import time\n"
              "wall, cpu = time.perf_counter(), time.process_time()\n"
              f"while time.perf_counter() - wall < {CALIBRATION_SECONDS}: pass\n"
              "print((time.process_time() - cpu) / (time.perf_counter() - wall))\n")

# A machine is quiet enough for a full run when each calibration loop got at least this
# share of its core, other processes used at most OTHER_CORES_LIMIT cores meanwhile, and
# the load average is at most MAX_LOAD_PER_CORE per core.
MIN_CORE_SHARE = 0.9
OTHER_CORES_LIMIT = 0.2
MAX_LOAD_PER_CORE = 2.0


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def load_average() -> float:
    """The one-minute load average."""
    return os.getloadavg()[0]


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (steal included)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float | None:
    """CPU seconds of a running process and of the children it has waited for (from
    /proc), or None if it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()  # after the command's name
    except (OSError, IndexError):
        return None
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])  # fields 14-17 of stat
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    """CPU seconds of this process and of its children that have exited."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class Usage:
    """CPU use over an interval: ``start()``, run something, ``stop()``.

    ``child_cpu`` is the CPU time of the children that exited in between (a kernel, a
    calibration loop); ``other_cores`` is what every other process used, in cores.
    """

    wall: float = 0.0
    child_cpu: float = 0.0
    other_cores: float = 0.0

    def start(self) -> Usage:
        self._wall, self._busy, self._own = time.perf_counter(), _busy_seconds(), _own_seconds()
        self._children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return self

    def stop(self) -> Usage:
        self.wall = time.perf_counter() - self._wall
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.child_cpu = (children.ru_utime + children.ru_stime
                          - self._children.ru_utime - self._children.ru_stime)
        others = (_busy_seconds() - self._busy) - (_own_seconds() - self._own)
        # Clock ticks round to 10 ms: a tiny negative remainder is zero.
        self.other_cores = max(others, 0.0) / self.wall
        return self


@dataclass(frozen=True)
class Quietness:
    """What ``check()`` measured, and whether it passes."""

    load: float
    core_share: float  # the worst calibration loop's CPU time over wall time
    other_cores: float  # cores other processes used during the calibration
    cores: int

    @property
    def quiet(self) -> bool:
        return (self.load <= MAX_LOAD_PER_CORE * self.cores
                and self.core_share >= MIN_CORE_SHARE and self.other_cores <= OTHER_CORES_LIMIT)

    def describe(self) -> str:
        return (f"load average {self.load:.2f} on {self.cores} cores (quiet: <= "
                f"{MAX_LOAD_PER_CORE * self.cores:g}); calibration: each "
                f"busy loop got at least {self.core_share:.2f} of a core (quiet: "
                f">= {MIN_CORE_SHARE}), other processes used {self.other_cores:.2f} cores "
                f"(quiet: <= {OTHER_CORES_LIMIT})")


def check() -> Quietness:
    """Measure the load and run the calibration (about a second)."""
    load = load_average()
    usage = Usage().start()
    loops = [subprocess.Popen([sys.executable, "-c", _BUSY_LOOP], stdout=subprocess.PIPE,
                              text=True) for _ in range(cores())]
    shares = [float(loop.communicate()[0]) for loop in loops]
    usage.stop()
    return Quietness(load=round(load, 2), core_share=round(min(shares), 3),
                     other_cores=round(usage.other_cores, 3), cores=cores())
