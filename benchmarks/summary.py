"""Numbers derived from the measurements: throughput against the machine's limit, verdicts."""

from __future__ import annotations

# Which LeNet-step mode stands for a framework's compute speed (its fastest usual one).
BEST_MODE = {"tensorflow": "tf.function"}


def _scale(stats: dict, factor: float, unit: str) -> dict:
    return {"unit": unit, "median": stats["median"] * factor, "min": stats["min"] * factor,
            "max": stats["max"] * factor}


def matmul_limits(results: dict) -> dict[str, dict]:
    """Every measured float32 matrix-multiply speed, by library."""
    limits = {}
    if results.get("matmul_numpy"):
        limits["numpy"] = results["matmul_numpy"]
    for fw, res in results.get("frameworks", {}).items():
        if res.get("matmul"):
            limits[fw] = res["matmul"]
    return limits


def throughput_vs_limit(results: dict) -> dict:
    """Training examples/sec -> GFLOP/s, and how far that is from the best matmul."""
    limits = matmul_limits(results)
    best = max(limits.items(), key=lambda kv: kv[1]["median"], default=(None, None))
    limit = best[1]["median"] if best[1] else None
    flops = results["flops"]["training_per_example"]
    rows = []
    for fw, res in results.get("frameworks", {}).items():
        measures = []
        mode = BEST_MODE.get(fw, "eager")
        step = next((r for r in res.get("lenet_step", []) if r["mode"] == mode), None)
        if step:
            measures.append(("SGD step, fixed batch", mode, step["builtin_examples_per_sec"]))
        trainer = res.get("trainer_overhead")
        if trainer:
            loop_mode = "tf.function" if fw == "tensorflow" else "eager"
            measures.append(("raw training loop", loop_mode,
                             trainer["sides"]["raw"]["examples_per_sec"]))
            measures.append(("d2l Trainer.fit", loop_mode,
                             trainer["sides"]["trainer_fit"]["examples_per_sec"]))
        for what, how, eps in measures:
            gflops = _scale(eps, flops / 1e9, "GFLOP/s")
            rows.append({"framework": fw, "measurement": what, "mode": how,
                         "examples_per_sec": {k: eps[k] for k in ("unit", "median", "min",
                                                                  "max")},
                         "gflops": gflops,
                         "fraction_of_limit": gflops["median"] / limit if limit else None})
    return {"training_flops_per_example": flops, "limit_gflops": limit,
            "limit_source": f"float32 {best[1]['size']}x{best[1]['size']} matmul with {best[0]}"
            if best[1] else None,
            "matmul": {lib: {k: v[k] for k in ("unit", "median", "min", "max", "n", "size")}
                       for lib, v in limits.items()},
            "rows": rows}


def verdicts(results: dict) -> dict:
    """Pass/fail against the two targets, plus anything that failed to run."""
    out = {}
    data = results.get("data_load")
    if data:
        out["data_warm_load"] = {"target": f"< {data['target_s']} s",
                                 "value": data["warm"]["median"], "pass": data["pass"]}
    for fw, res in results.get("frameworks", {}).items():
        trainer = res.get("trainer_overhead")
        if trainer:
            out[f"trainer_ratio_{fw}"] = {"target": f">= {trainer['target']}",
                                          "value": trainer["ratio"]["median"],
                                          "pass": trainer["pass"]}
    errors = {f"{fw}.{section}": text.strip().splitlines()[-1]
              for fw, res in results.get("frameworks", {}).items()
              for section, text in res.get("errors", {}).items()}
    errors.update({k: v.strip().splitlines()[-1] for k, v in results.get("errors", {}).items()})
    return {"targets": out, "errors": errors,
            "all_targets_met": all(v["pass"] for v in out.values()) if out else None}
