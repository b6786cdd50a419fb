"""Numbers derived from the measurements: throughput against the machine's limit, verdicts."""

from __future__ import annotations

from d2l_bn import FRAMEWORKS


def in_order(results: dict) -> list[tuple[str, dict]]:
    """(framework, its results) for every measured framework, in ``d2l_bn.FRAMEWORKS`` order."""
    measured = results.get("frameworks", {})
    return [(fw, measured[fw]) for fw in FRAMEWORKS if fw in measured]


def _scale(stats: dict, factor: float, unit: str) -> dict:
    return {"unit": unit, **{k: stats[k] * factor for k in ("median", "min", "max")}}


def _training_speeds(res: dict) -> list[tuple[str, dict]]:
    """(what was measured, examples/sec) of LeNetBN training in the framework's loop mode."""
    speeds = [("SGD step, fixed batch", r["builtin_examples_per_sec"])
              for r in res.get("lenet_step", []) if r["mode"] == res["loop_mode"]]
    trainer = res.get("trainer_overhead")
    if trainer:
        speeds += [("raw training loop", trainer["raw"]),
                   ("d2l Trainer.fit", trainer["trainer_fit"])]
    return speeds


def throughput_vs_limit(results: dict) -> dict:
    """Training examples/sec -> GFLOP/s, and the fraction of the fastest measured matmul."""
    matmuls = {fw: res["matmul"] for fw, res in in_order(results) if res.get("matmul")}
    best = max(matmuls, key=lambda fw: matmuls[fw]["median"], default=None)
    limit = matmuls[best]["median"] if best else None
    flops = results["flops"]["training_per_example"]
    rows = []
    for fw, res in in_order(results):
        for what, speed in _training_speeds(res):
            gflops = _scale(speed, flops / 1e9, "GFLOP/s")
            rows.append({"framework": fw, "measurement": what, "mode": res["loop_mode"],
                         "examples_per_sec": _scale(speed, 1, "examples/s"),
                         "gflops": gflops,
                         "fraction_of_limit": gflops["median"] / limit if limit else None})
    return {"training_flops_per_example": flops, "limit_gflops": limit,
            "limit_source": (f"float32 {matmuls[best]['size']}x{matmuls[best]['size']} "
                             f"matmul with {best}") if best else None,
            "matmul": {fw: _scale(m, 1, "GFLOP/s") | {"size": m["size"]}
                       for fw, m in matmuls.items()},
            "rows": rows}


def verdicts(results: dict) -> dict:
    """Pass/fail against the two targets, plus anything that failed to run."""
    targets = {}
    data = results.get("data_load")
    if data:
        targets["data_warm_load"] = {"target": f"< {data['target_s']} s",
                                     "value": data["warm"]["median"], "pass": data["pass"]}
    for fw, res in in_order(results):
        trainer = res.get("trainer_overhead")
        if trainer:
            targets[f"trainer_ratio_{fw}"] = {"target": f">= {trainer['target']}",
                                              "value": trainer["ratio"]["median"],
                                              "pass": trainer["pass"]}
    errors = {f"{fw}.{section}": text.strip().splitlines()[-1]
              for fw, res in in_order(results) for section, text in res["errors"].items()}
    errors.update({k: v.strip().splitlines()[-1] for k, v in results.get("errors", {}).items()})
    return {"targets": targets, "errors": errors,
            "all_targets_met": all(v["pass"] for v in targets.values()) if targets else None}
