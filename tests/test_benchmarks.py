"""The benchmark suite runs and writes its reports; its numbers are not checked.

No assertion here is about speed: ``--quick`` runs tiny sizes on whatever the machine is
doing. What is checked is the framework-free timing (warm-up, rotating interleaved
order, paired ratios), the report rendered from known results, and that a quick run of
every section ran, wrote the documented JSON fields with consistent statistics, and
wrote the table, markdown and plot.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import SCHEMA, report
from benchmarks.__main__ import QUICK_RESULTS, RESULTS, parse_args
from benchmarks.timing import interleave, paired_ratio, per_call, rates, summarize
from book import quiet
from d2l_bn import FRAMEWORKS, LABELS

ROOT = Path(__file__).resolve().parents[1]


# --- framework-free pieces ------------------------------------------------------------------
def test_interleave_warms_up_then_rotates_the_order_of_sides():
    calls = []

    def side(name, seconds):
        return lambda: calls.append(name) or seconds + len(calls)  # call number in it

    sides = {"A": side("A", 100), "B": side("B", 200), "C": side("C", 300)}
    samples = interleave(sides, repeats=4, warmup=1)
    # one warm-up round, then every round one side later: no side is always first
    assert "".join(calls) == "ABC" + "ABC" + "BCA" + "CAB" + "ABC"
    # samples stay grouped by side, in round order, so sample i of each side pairs up
    assert samples == {"A": [104, 109, 111, 113], "B": [205, 207, 212, 214],
                       "C": [306, 308, 310, 315]}


def test_summaries_and_paired_ratios():
    stats = summarize([3.0, 1.0, 2.0], "s")
    assert (stats["median"], stats["min"], stats["max"], stats["n"]) == (2.0, 1.0, 3.0, 3)
    speed = rates([2.0, 4.0], work=8.0, unit="examples/s")
    assert (speed["min"], speed["max"]) == (2.0, 4.0)
    ratio = paired_ratio([2.0, 6.0, 3.0], [1.0, 2.0, 3.0])
    assert ratio["samples"] == [2.0, 3.0, 1.0] and ratio["median"] == 2.0
    with pytest.raises(ValueError):
        paired_ratio([1.0], [1.0, 2.0])


def test_per_call_divides_by_the_number_of_calls_and_syncs_once():
    synced = []
    side = per_call(lambda: "result", number=4, sync=synced.append)
    assert side() >= 0 and synced == ["result"]


def test_command_line_frameworks_and_output_folder():
    assert parse_args([]).frameworks == list(FRAMEWORKS)
    assert parse_args(["--frameworks", "tensorflow", "pytorch"]).frameworks == [
        "pytorch", "tensorflow"]
    with pytest.raises(SystemExit):
        parse_args(["--frameworks", "caffe"])
    # a quick run never replaces the committed results of a full run
    assert parse_args(["--quick"]).output == QUICK_RESULTS != RESULTS
    assert parse_args([]).output == RESULTS


# --- the report, rendered from known results ---------------------------------------------------
def stats(median: float, spread: float = 0.1) -> dict:
    return summarize([median - spread, median, median + spread], "x")


def known_results() -> dict:
    """Results of two frameworks, listed against d2l_bn.FRAMEWORKS order."""
    frameworks = {}
    for fw, ratio in (("tensorflow", 0.9), ("pytorch", 0.97)):
        frameworks[fw] = {
            "modes": ["eager"], "loop_mode": "eager", "errors": {},
            "bn_layer": [{"input": "2-D", "shape": [8, 4], "mode": "eager",
                          "scratch": stats(3e-4), "builtin": stats(1e-4), "ratio": stats(3.0)}],
            "lenet_step": [{"mode": "eager", "scratch": stats(0.02, 0.001),
                            "builtin": stats(0.01, 0.001), "ratio": stats(2.0),
                            "builtin_examples_per_sec": stats(12_800.0, 100)}],
            "trainer_overhead": {
                "examples": 384, "steps": 3, "batch_size": 128, "lr": 0.1,
                "trainer_fit": stats(1000.0, 10), "raw": stats(1000.0 / ratio, 10),
                "raw_loop": f"{fw} loop", "ratio": stats(ratio, 0.01), "target": 0.95,
                "pass": ratio >= 0.95}}
    results = {
        "command": "python -m benchmarks --quick", "quick": True,
        "config": {"repeats": 3, "trainer_repeats": 3, "warmup": 1, "trainer_target": 0.95,
                   "step_target": 2.0},
        "machine": {"cpu_model": "Test CPU", "usable_cores": 2, "ram_gib": 8.0,
                    "os": "Linux", "python": "3.11", "other_cores": 0.01,
                    "numpy": "1.26", "packages": {"torch": "2.0", "mxnet": None},
                    "date": "2026-01-01 00:00 UTC", "load_average_start": [0.5, 0, 0]},
        "errors": {}, "frameworks": frameworks,
        "data_load": {"images": 70_000, "warm": stats(0.3, 0.01), "cold": stats(0.4, 0.01),
                      "target_s": 1.0, "pass": True}}
    results["verdicts"] = report.verdicts(results)
    return results


def test_report_renders_every_table_in_framework_order(tmp_path):
    results = known_results()
    md = report.render_markdown(results)
    for title in ("Data: load_arrays()", "Trainer overhead", "BN layer cost", "Whole LeNet"):
        assert f"**{title}" in md
    assert "QUICK RUN" in md and "| framework |" in md
    assert md.index(LABELS["pytorch"]) < md.index(LABELS["tensorflow"])  # FRAMEWORKS order
    assert "0.970\u00a0[0.960\u20110.980] | >= 0.95: PASS" in md  # one line, three places
    assert "trainer_ratio_tensorflow: 0.9 (target >= 0.95) FAIL" in md
    assert "scratch_step_ratio_pytorch: 2 (target <= 2.0) PASS" in md
    machine = next(line for line in md.splitlines() if line.startswith("*Machine:*"))
    assert "torch 2.0" in machine and "mxnet" not in machine  # installed versions only
    assert "other processes used 0.01 cores on average" in machine
    report.write_all(results, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.json", "latest.md"]


def test_committed_results_are_one_quiet_full_run_of_every_framework():
    results = json.loads((RESULTS / "latest.json").read_text())
    assert results["quick"] is False and list(results["frameworks"]) == list(FRAMEWORKS)
    check = results["machine"]["quiet_check"]
    assert check["passed"] and not check["forced"], check
    assert results["machine"]["other_cores"] <= quiet.OTHER_CORES_LIMIT
    assert results["verdicts"]["errors"] == {}


# --- the whole suite in --quick mode ---------------------------------------------------------
@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    cmd = [sys.executable, "-m", "benchmarks", "--quick", "--output", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900,
                          check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc.stdout, json.loads((out / "latest.json").read_text())


def check_stats(stats: dict, repeats: int | None = None) -> None:
    assert 0 < stats["min"] <= stats["median"] <= stats["max"]
    if repeats is not None:
        assert stats["n"] == repeats and len(stats["samples"]) == repeats


def test_quick_run_writes_every_report(quick_run):
    out, stdout, _ = quick_run
    assert {p.name for p in out.iterdir()} == {"latest.json", "latest.md"}
    md = (out / "latest.md").read_text()
    for title in ("Data: load_arrays()", "Trainer overhead", "BN layer cost", "Whole LeNet",
                  "QUICK RUN"):
        assert title in stdout and title in md


def test_quick_run_measures_every_section(quick_run):
    _, _, res = quick_run
    repeats = res["config"]["repeats"]
    assert res["schema"] == SCHEMA and res["quick"] is True
    assert res["verdicts"]["errors"] == {}
    assert res["machine"]["load_average_end"] and res["machine"]["cpu_model"]

    data = res["data_load"]
    check_stats(data["warm"], repeats)
    check_stats(data["cold"], repeats)
    assert isinstance(data["pass"], bool) and data["images"] == 70_000

    assert list(res["frameworks"]) == list(FRAMEWORKS)
    for fw, r in res["frameworks"].items():
        assert r["errors"] == {}, (fw, r["errors"])
        modes = r["modes"]
        assert [(row["mode"], row["input"]) for row in r["bn_layer"]] == [
            (mode, dims) for mode in modes for dims in ("2-D", "4-D")]
        assert [row["mode"] for row in r["lenet_step"]] == modes
        for row in r["bn_layer"] + r["lenet_step"]:
            for key in ("scratch", "builtin", "ratio"):
                check_stats(row[key], repeats)
        t = r["trainer_overhead"]
        for key in ("trainer_fit", "raw", "ratio"):
            check_stats(t[key], res["config"]["trainer_repeats"])
        assert isinstance(t["pass"], bool) and t["target"] == 0.95 and t["raw_loop"]
        assert t["examples"] == t["steps"] * t["batch_size"]
    assert res["frameworks"]["tensorflow"]["modes"] == ["eager", "tf.function"]

    assert set(res["verdicts"]["targets"]) == {"data_warm_load"} | {
        f"{target}_{fw}" for fw in FRAMEWORKS
        for target in ("trainer_ratio", "scratch_step_ratio")}


def test_the_suite_stays_small():
    """Issue 28: what the Performance page shows fits in 1,000 lines (one-off
    investigations go to benchmarks/NOTES.md as prose with their numbers)."""
    lines = sum(len(p.read_text().splitlines()) for p in (ROOT / "benchmarks").glob("*.py"))
    assert lines <= 1000, lines
