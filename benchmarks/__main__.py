"""``python -m benchmarks [--quick] [--frameworks ...]``: the tables, printed and written to
benchmarks/results (``--quick``: a temporary folder); one fresh worker per framework, in
turn. A full run starts only on a quiet machine (``--force``) and records its contention."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from book import environments, quiet
from d2l_bn import FRAMEWORKS

from . import SCHEMA, data_load, machine, report
from .config import FULL, QUICK

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
QUICK_RESULTS = Path(tempfile.gettempdir()) / "d2l_bn-benchmarks-quick"


def log(message: str) -> None:
    print(f"[benchmarks] {message}", file=sys.stderr, flush=True)


def worker_env() -> dict:
    """The environment of child processes: repository importable, smoke mode off."""
    env = {k: v for k, v in os.environ.items() if k != "D2L_BN_SMOKE"}  # its own subsets
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run_worker(framework: str, config, env: dict, tmp: Path) -> dict:
    """One framework's measurements in a fresh process of its environment's Python
    (``book.environments``; outside them, this one); its progress goes to stderr."""
    out = tmp / f"{framework}.json"
    python = sys.executable if environments.current() is None else environments.python(framework)
    done = subprocess.run([str(python), "-m", "benchmarks.worker", framework, "--config",
                           json.dumps(config.as_dict()), "--out", str(out)], cwd=ROOT, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sys.stderr.write(done.stderr)  # its progress, once it has finished
    if done.returncode != 0 or not out.exists():
        return {"framework": framework, "errors": {"worker": f"worker exited with code "
                f"{done.returncode}:\n" + "\n".join(done.stderr.splitlines()[-40:])}}
    return json.loads(out.read_text())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, 2 repeats: checks that everything runs (for tests)")
    parser.add_argument("--frameworks", nargs="+", choices=FRAMEWORKS, default=FRAMEWORKS,
                        help="a subset (default: all)")
    parser.add_argument("--force", action="store_true",
                        help="start a full run even on a busy machine (the results say so)")
    parser.add_argument("--output", type=Path, metavar="DIR",
                        help=f"where latest.json and latest.md go (default: benchmarks/results; "
                             f"with --quick: {QUICK_RESULTS})")
    args = parser.parse_args(argv)
    args.output = args.output or (QUICK_RESULTS if args.quick else RESULTS)
    args.config = QUICK if args.quick else FULL
    args.frameworks = [fw for fw in FRAMEWORKS if fw in args.frameworks]  # the usual order
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config, started = args.config, time.perf_counter()
    results: dict = {
        "schema": SCHEMA,
        "command": " ".join(["python -m benchmarks", *(sys.argv[1:] if argv is None else argv)]),
        "quick": config.quick, "config": config.as_dict(), "machine": machine.describe(),
        "errors": {}, "frameworks": {},
    }
    if not config.quick:
        checked = quiet.check()
        if not checked.quiet and not args.force:
            raise SystemExit(f"Not starting: the machine is busy ({checked.describe()}). "
                             f"Stop the other jobs and try again, or pass --force.")
        results["machine"]["quiet_check"] = {**vars(checked), "passed": checked.quiet,
                                             "forced": args.force}
    usage = quiet.Usage().start()
    env = worker_env()
    log("data loading")
    try:
        results["data_load"] = data_load.measure(config, env, lambda m: log(f"data load {m}"))
    except Exception:  # noqa: BLE001 (recorded; the rest still runs)
        results["errors"]["data_load"] = traceback.format_exc()
    with tempfile.TemporaryDirectory(prefix="d2l_bn_bench_") as tmp:
        for fw in args.frameworks:
            log(f"{fw}: fresh worker process")
            results["frameworks"][fw] = run_worker(fw, config, env, Path(tmp))
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["machine"]["other_cores"] = round(usage.stop().other_cores, 3)
    results["verdicts"] = report.verdicts(results)
    results["seconds"] = time.perf_counter() - started
    paths = report.write_all(results, args.output)
    print(report.render_markdown(results), end="")
    print(f"\nwrote {', '.join(str(p) for p in paths.values())} "
          f"in {results['seconds']:.0f} s")
    return 1 if results["verdicts"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
