"""Run the benchmark suite: ``python -m benchmarks [--quick] [--frameworks ...] [--repeats N]``.

Prints a table and writes latest.json, latest.md and latest.png into benchmarks/results
(or ``--output DIR``). Every framework is measured in its own fresh worker process, one
after the other; nothing runs in parallel. Run it on a quiet machine: other jobs on the
same cores distort every number (the files record the load average at start and end).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections import deque
from pathlib import Path

from . import FRAMEWORK_ORDER, SCHEMA
from .config import make_config
from .flops import lenet_flops

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results"
ALIASES = {"torch": "pytorch", "tf": "tensorflow", "mx": "mxnet"}


def log(message: str) -> None:
    print(f"[benchmarks] {message}", file=sys.stderr, flush=True)


def worker_env() -> dict:
    """The environment of child processes: repository importable, smoke mode off."""
    env = dict(os.environ)
    env.pop("D2L_BN_SMOKE", None)  # the suite picks its own subsets
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run_worker(framework: str, config, env: dict, tmp: Path) -> dict:
    """One framework's measurements in a fresh process; its progress goes to stderr."""
    out = tmp / f"{framework}.json"
    cmd = [sys.executable, "-m", "benchmarks.worker", framework,
           "--config", json.dumps(config.as_dict()), "--out", str(out)]
    tail: deque[str] = deque(maxlen=40)
    start = time.perf_counter()
    with subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True) as proc:
        for line in proc.stderr:
            tail.append(line)
            sys.stderr.write(line)
    if proc.returncode != 0 or not out.exists():
        return {"framework": framework, "errors": {
            "worker": f"worker exited with code {proc.returncode}:\n" + "".join(tail)},
            "seconds": time.perf_counter() - start}
    return json.loads(out.read_text())


def parse_frameworks(names: list[str] | None) -> list[str]:
    if not names:
        return list(FRAMEWORK_ORDER)
    chosen = []
    for name in names:
        for part in name.split(","):
            part = ALIASES.get(part.strip().lower(), part.strip().lower())
            if part not in FRAMEWORK_ORDER:
                raise SystemExit(f"unknown framework {part!r}; choose from "
                                 f"{', '.join(FRAMEWORK_ORDER)}")
            if part not in chosen:
                chosen.append(part)
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, 2 repeats: checks that everything runs (for tests)")
    parser.add_argument("--frameworks", nargs="+", metavar="NAME",
                        help=f"subset of {', '.join(FRAMEWORK_ORDER)} (default: all)")
    parser.add_argument("--repeats", type=int, metavar="N",
                        help="timed repeats per side (default 7, and 15 for the Trainer "
                             "overhead; 2 with --quick)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, metavar="DIR",
                        help="where latest.json/.md/.png go (default: benchmarks/results)")
    parser.add_argument("--no-drop-caches", action="store_true",
                        help="do not try to drop the page cache before cold data loads")
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else argv
    frameworks = parse_frameworks(args.frameworks)
    try:
        config = make_config(args.quick, args.repeats,
                             drop_caches=False if args.no_drop_caches else None)
    except ValueError as err:
        parser.error(str(err))

    from . import data_load, machine, readme, report, summary

    started = time.perf_counter()
    results: dict = {
        "schema": SCHEMA,
        "command": " ".join(["python -m benchmarks", *argv]),
        "quick": config.quick,
        "config": config.as_dict(),
        "machine": machine.describe(),
        "flops": lenet_flops(),
        "errors": {},
        "frameworks": {},
    }
    env = worker_env()
    log(f"numpy matmul {config.matmul_n}")
    try:
        results["matmul_numpy"] = machine.numpy_matmul(config.matmul_n, config.repeats,
                                                       config.warmup)
    except Exception:  # noqa: BLE001 (recorded; the rest still runs)
        results["errors"]["matmul_numpy"] = traceback.format_exc()
    log("data loading")
    try:
        results["data_load"] = data_load.measure(
            config, env, progress=lambda m: log(f"cold data load {m}"))
    except Exception:  # noqa: BLE001
        results["errors"]["data_load"] = traceback.format_exc()
    with tempfile.TemporaryDirectory(prefix="d2l_bn_bench_") as tmp:
        for fw in frameworks:
            log(f"{fw}: fresh worker process")
            results["frameworks"][fw] = run_worker(fw, config, env, Path(tmp))
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["throughput"] = summary.throughput_vs_limit(results)
    results["verdicts"] = summary.verdicts(results)
    results["seconds"] = time.perf_counter() - started
    paths = report.write_all(results, args.output)
    if not config.quick and Path(args.output).resolve() == DEFAULT_OUTPUT.resolve():
        readme.update(paths["md"].read_text())  # the README shows the latest full run
    print(report.render_text(results), end="")
    print(f"\nwrote {', '.join(str(p) for p in paths.values())} "
          f"in {results['seconds']:.0f} s")
    return 1 if results["verdicts"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
