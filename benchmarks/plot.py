"""The results as one figure: Trainer overhead, scratch / built-in BN, GFLOP/s vs matmul."""

from __future__ import annotations

from pathlib import Path

from d2l_bn import LABELS

from .summary import in_order


def _bars(ax, groups: list[str], series: dict[str, list[dict | None]]) -> None:
    """Grouped bars of medians with [min, max] error bars; None draws nothing."""
    width = 0.8 / max(len(series), 1)
    for i, (label, values) in enumerate(series.items()):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        med = [v["median"] if v else 0.0 for v in values]
        err = [[v["median"] - v["min"] if v else 0.0 for v in values],
               [v["max"] - v["median"] if v else 0.0 for v in values]]
        ax.bar(xs, med, width, yerr=err, capsize=3, label=label)
    ax.set_xticks(range(len(groups)), groups)


def _scratch_ratios(results: dict) -> dict[str, list[dict | None]]:
    """Scratch / built-in time ratios (BN layer 2-D, 4-D, LeNet step) per framework and mode."""
    series = {}
    for fw, res in in_order(results):
        for mode in res.get("modes", []):
            key = LABELS[fw] + (f" {mode}" if len(res["modes"]) > 1 else "")
            layer = {r["input"]: r["ratio"] for r in res.get("bn_layer", []) if r["mode"] == mode}
            step = [r["ratio"] for r in res.get("lenet_step", []) if r["mode"] == mode]
            series[key] = [layer.get("2-D"), layer.get("4-D"), step[0] if step else None]
    return series


def plot(results: dict, path: Path) -> None:
    """Write the figure as a PNG to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measured = in_order(results)
    labels = [LABELS[fw] for fw, _ in measured]
    fig, axes = plt.subplots(1, 3, figsize=(16, 5))

    ax = axes[0]
    _bars(ax, labels, {"Trainer.fit / raw": [res.get("trainer_overhead", {}).get("ratio")
                                             for _, res in measured]})
    target = results["config"]["trainer_target"]
    ax.axhline(target, color="k", ls="--", lw=1, label=f"target {target}")
    ax.set_title("Trainer overhead: throughput ratio (higher is better)")
    ax.legend(fontsize=8)

    ax = axes[1]
    series = _scratch_ratios(results)
    _bars(ax, ["BN layer 2-D", "BN layer 4-D", "LeNet SGD step"], series)
    ax.axhline(1.0, color="k", ls="--", lw=1)
    if max((v["max"] for vs in series.values() for v in vs if v), default=0) > 20:
        ax.set_yscale("log")
    ax.set_title("Scratch / built-in BN: time ratio (1 = as fast)")
    ax.legend(fontsize=8)

    ax = axes[2]
    tp = results.get("throughput") or {"rows": [], "matmul": {}}
    kinds = list(dict.fromkeys(r["measurement"] for r in tp["rows"]))
    _bars(ax, labels, {kind: [next((r["gflops"] for r in tp["rows"] if r["framework"] == fw
                                    and r["measurement"] == kind), None) for fw, _ in measured]
                       for kind in kinds})
    ax.set_yscale("log")
    for fw, m in tp["matmul"].items():
        ax.axhline(m["median"], lw=1, ls=":", color="k")
        ax.annotate(f"matmul {LABELS[fw]} {m['median']:.0f}", (ax.get_xlim()[1], m["median"]),
                    fontsize=7, va="bottom", ha="right")
    ax.set_title("LeNet-BN training GFLOP/s vs float32 matmul (dotted)")
    ax.legend(fontsize=8)

    machine = results["machine"]
    title = f"d2l_bn benchmarks: {machine['cpu_model']}, {machine['date']}"
    fig.suptitle(("QUICK RUN, NOT MEASUREMENTS - " if results.get("quick") else "") + title,
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)
