"""Verdicts: each measured target, passed or failed, and anything that failed to run."""

from __future__ import annotations

from d2l_bn import FRAMEWORKS


def in_order(results: dict) -> list[tuple[str, dict]]:
    """(framework, its results) for every measured framework, in ``d2l_bn.FRAMEWORKS`` order."""
    measured = results.get("frameworks", {})
    return [(fw, measured[fw]) for fw in FRAMEWORKS if fw in measured]


def _target(target: str, value: float, passed: bool) -> dict:
    return {"target": target, "value": value, "pass": passed}


def verdicts(results: dict) -> dict:
    """Pass/fail against the targets (data load, Trainer overhead, scratch LeNet step)."""
    config, targets = results["config"], {}
    if data := results.get("data_load"):
        targets["data_warm_load"] = _target(f"< {data['target_s']} s", data["warm"]["median"],
                                            data["pass"])
    for fw, res in in_order(results):
        if trainer := res.get("trainer_overhead"):
            targets[f"trainer_ratio_{fw}"] = _target(
                f">= {trainer['target']}", trainer["ratio"]["median"], trainer["pass"])
        steps = [r for r in res.get("lenet_step", []) if r["mode"] == res["loop_mode"]]
        if steps:
            ratio = steps[0]["ratio"]["median"]
            targets[f"scratch_step_ratio_{fw}"] = _target(
                f"<= {config['step_target']}", ratio, ratio <= config["step_target"])
    errors = {f"{fw}.{section}": text.strip().splitlines()[-1]
              for fw, res in in_order(results) for section, text in res["errors"].items()}
    errors.update({k: v.strip().splitlines()[-1] for k, v in results.get("errors", {}).items()})
    return {"targets": targets, "errors": errors,
            "all_targets_met": all(v["pass"] for v in targets.values()) if targets else None}
