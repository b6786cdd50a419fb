"""The benchmark suite runs and writes its reports; its numbers are not checked.

No assertion here is about speed: ``--quick`` runs tiny sizes on whatever the machine is
doing. What is checked is that every section ran, the JSON has the documented fields
and consistent statistics, and the table, markdown and plot were written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `benchmarks` lives at the top of the repository
    sys.path.insert(0, str(ROOT))

from benchmarks import FRAMEWORK_ORDER, SCHEMA
from benchmarks.flops import lenet_flops
from benchmarks.timing import interleave, paired_ratio, per_call, rates, summarize


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


def test_lenet_flops_from_layer_shapes():
    flops = lenet_flops()
    # multiply-adds: conv1 28*28*6*25, conv2 10*10*16*6*25, dense 400*120 + 120*84 + 84*10
    macs = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 6 * 25 + 400 * 120 + 120 * 84 + 84 * 10
    assert flops["forward_per_example"] == 2 * macs
    assert flops["training_per_example"] == 3 * 2 * macs
    assert [r["output"] for r in flops["layers"]][:2] == [[28, 28, 6], [10, 10, 16]]


# --- the whole suite in --quick mode ---------------------------------------------------------
@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "benchmarks", "--quick", "--output", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc.stdout, json.loads((out / "latest.json").read_text())


def check_stats(stats: dict, repeats: int | None = None) -> None:
    assert stats["min"] <= stats["median"] <= stats["max"]
    assert stats["min"] > 0
    if repeats is not None:
        assert stats["n"] == repeats and len(stats["samples"]) == repeats


def test_quick_run_writes_every_report(quick_run):
    out, stdout, _ = quick_run
    assert {p.name for p in out.iterdir()} == {"latest.json", "latest.md", "latest.png"}
    assert (out / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "latest.md").read_text()
    assert "QUICK RUN" in md and "*Machine:*" in md and "| framework |" in md
    for title in ("Data: load_arrays()", "Trainer overhead", "BN layer cost", "Broadcasting",
                  "Whole LeNet", "PyTorch: strides of the input batch", "Throughput vs limit"):
        assert title in stdout and title in md
    assert "QUICK RUN" in stdout


def test_quick_run_json_schema(quick_run):
    _, _, res = quick_run
    repeats = res["config"]["repeats"]
    assert res["schema"] == SCHEMA and res["quick"] is True
    assert res["verdicts"]["errors"] == {}
    machine = res["machine"]
    for key in ("cpu_model", "logical_cores", "ram_gib", "python", "numpy", "date",
                "load_average_start", "load_average_end"):
        assert machine[key] not in (None, "")
    assert res["flops"]["training_per_example"] == 3 * res["flops"]["forward_per_example"]
    check_stats(res["matmul_numpy"], repeats)

    data = res["data_load"]
    check_stats(data["warm"], repeats)
    check_stats(data["cold"]["cold_page_cached"])
    assert isinstance(data["pass"], bool) and data["images"] == 70_000
    assert data["page_cache"]["attempted"] is False  # --quick never drops caches

    assert list(res["frameworks"]) == list(FRAMEWORK_ORDER)
    for fw, r in res["frameworks"].items():
        assert r["errors"] == {}, (fw, r["errors"])
        check_stats(r["matmul"], repeats)
        modes = r["modes"]
        assert len(r["bn_layer"]) == 2 * len(modes)
        for row in r["bn_layer"]:
            assert row["mode"] in modes and row["input"] in ("2-D", "4-D")
            for key in ("scratch", "builtin", "ratio"):
                check_stats(row[key], repeats)
        assert [row["mode"] for row in r["broadcast"]] == modes
        for row in r["broadcast"]:
            for key in ("same_shape", "broadcast", "ratio"):
                check_stats(row[key], repeats)
        if fw == "pytorch":
            for group in ("lenet_step", "bn_layer"):
                for key in ("take", "fancy_index", "ratio"):
                    check_stats(r["input_strides"][group][key], repeats)
        else:
            assert "input_strides" not in r
        assert [row["mode"] for row in r["lenet_step"]] == modes
        for row in r["lenet_step"]:
            for key in ("scratch", "builtin", "ratio", "builtin_examples_per_sec"):
                check_stats(row[key], repeats)
        t = r["trainer_overhead"]
        assert set(t["sides"]) == {"trainer_fit", "raw", "trainer_epoch", "raw_synced"}
        for side in t["sides"].values():
            check_stats(side["examples_per_sec"], repeats)
            assert side["what"]
        for key in ("ratio", "ratio_steady", "ratio_raw_synced"):
            check_stats(t[key], repeats)
        assert isinstance(t["pass"], bool) and t["target"] == 0.95 and t["raw_loop"]
        assert t["examples"] == t["steps"] * t["batch_size"]
    assert {tuple(m) for m in (r["modes"] for r in res["frameworks"].values())} == {
        ("eager",), ("eager", "tf.function")}

    tp = res["throughput"]
    assert tp["limit_gflops"] > 0 and len(tp["rows"]) == 3 * len(FRAMEWORK_ORDER)
    for row in tp["rows"]:
        check_stats(row["gflops"])
        assert 0 < row["fraction_of_limit"]
    assert set(res["verdicts"]["targets"]) == {"data_warm_load"} | {
        f"trainer_ratio_{fw}" for fw in FRAMEWORK_ORDER}


def test_readme_shows_the_latest_full_run():
    from benchmarks import readme

    results = readme.README.parent / "benchmarks" / "results"
    assert json.loads((results / "latest.json").read_text())["quick"] is False
    latest = (results / "latest.md").read_text()
    assert readme.block(readme.README.read_text()) == latest.strip("\n")
