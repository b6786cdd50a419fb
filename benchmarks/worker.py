"""Every measurement of one framework, in a fresh process (one framework per process).

    python -m benchmarks.worker pytorch --config '{...}' --out result.json

``python -m benchmarks`` starts one worker per framework, one after the other, so no
framework's thread pools or memory allocator disturb another's numbers. The two sides
of every ratio run in the same worker, interleaved. A section that fails is recorded
with its traceback and the others still run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import time
import traceback

from book.definitions import load_definitions

from .config import Config
from .timing import interleave, paired_ratio, rates, summarize

ADAPTERS = {"pytorch": "benchmarks.fw_torch", "tensorflow": "benchmarks.fw_tensorflow",
            "mxnet": "benchmarks.fw_mxnet"}


def log(framework: str, message: str) -> None:
    print(f"[{framework}] {message}", file=sys.stderr, flush=True)


def load_data(d2l, config: Config):
    """The backend's FashionMNIST, sliced to the benchmark subset."""
    data = d2l.FashionMNIST(batch_size=config.batch_size)
    if data.num_train < config.train_examples or data.num_val < config.val_examples:
        raise RuntimeError(f"need {config.train_examples} training and {config.val_examples} "
                           f"validation examples, the data set has {data.num_train} and "
                           f"{data.num_val} (is D2L_BN_SMOKE set?)")
    data.train_X = data.train_X[:config.train_examples]
    data.train_y = data.train_y[:config.train_examples]
    data.val_X = data.val_X[:config.val_examples]
    data.val_y = data.val_y[:config.val_examples]
    return data


TRAINER_SIDES = {
    "trainer_fit": ("the Trainer's own examples_per_sec from a fresh "
                    "d2l.Trainer(max_epochs=1, board=False, verbose=False).fit(model, data) "
                    "per repeat (same model object each time, initialized once): per step "
                    "the d2l dataloader (permutation, np.take, to_tensor), model.train()/"
                    "training mode, loss and accuracy, the SGD step, and loss and accuracy "
                    "read back to Python numbers; prepare() and validation are outside its "
                    "timing, but anything prepare() leaves to the first step (TensorFlow: "
                    "tracing the new tf.function) is inside"),
    "raw": "minimal hand-written loop (see raw_loop)",
    "trainer_epoch": ("diagnostic: one Trainer.prepare(), then TrainerBase._train_epoch "
                      "(private; the code fit() runs per epoch) every repeat, so one-time "
                      "costs of fit() fall into the warm-up"),
    "raw_synced": "diagnostic: see raw_synced_loop",
}


def trainer_overhead(adapter, chapter, data, config: Config, progress) -> dict:
    d2l = adapter.d2l
    d2l.set_seed(0)
    fit_model = chapter.LeNetBN(lr=config.lr)

    def trainer_fit() -> float:
        trainer = d2l.Trainer(max_epochs=1, board=False, verbose=False)
        result = trainer.fit(fit_model, data)
        if result.diverged:
            raise RuntimeError(result.message)
        return data.num_train / result.examples_per_sec

    epoch_model = chapter.LeNetBN(lr=config.lr)
    steady = d2l.Trainer(max_epochs=1, board=False, verbose=False)
    steady.prepare(epoch_model, data)

    def trainer_epoch() -> float:
        _, seconds, message = steady._train_epoch(epoch_model, data, 0)
        if message:
            raise RuntimeError(message)
        return seconds

    sides = {"trainer_fit": trainer_fit,
             "raw": adapter.raw_epoch_side(chapter, data, config.lr, sync_every_step=False),
             "trainer_epoch": trainer_epoch,
             "raw_synced": adapter.raw_epoch_side(chapter, data, config.lr,
                                                  sync_every_step=True)}
    seconds = interleave(sides, config.trainer_repeats, config.warmup, progress)
    n = data.num_train
    ratio = paired_ratio(seconds["raw"], seconds["trainer_fit"])  # = throughput ratio
    one_time = statistics.median(seconds["trainer_fit"]) - statistics.median(
        seconds["trainer_epoch"])
    return {
        "examples": n, "steps": n // data.batch_size, "batch_size": data.batch_size,
        "lr": config.lr, "model": "LeNetBN",
        "sides": {name: {"examples_per_sec": rates(seconds[name], n, "examples/s"),
                         "seconds": summarize(seconds[name], "s"),
                         "what": TRAINER_SIDES[name]} for name in sides},
        "raw_loop": adapter.RAW_LOOP,
        "raw_synced_loop": adapter.RAW_SYNCED,
        "ratio": ratio,
        "ratio_steady": paired_ratio(seconds["raw"], seconds["trainer_epoch"]),
        "ratio_raw_synced": paired_ratio(seconds["raw"], seconds["raw_synced"]),
        "fit_minus_epoch_s": one_time,
        "ratio_definition": ("examples/sec of the first side / examples/sec of the raw "
                             "loop, per repeat (paired), median over repeats"),
        "target": config.trainer_target,
        "pass": ratio["median"] >= config.trainer_target,
    }


def bn_layer(adapter, chapter, config: Config, progress) -> list[dict]:
    rows = []
    for mode in adapter.MODES:
        for label, shape in (("2-D", config.bn_2d), ("4-D", config.bn_4d)):
            progress(f"BN layer {label} {mode}")
            sides = adapter.bn_layer_sides(chapter, shape, mode, config.layer_calls)
            seconds = interleave(sides, config.repeats, config.warmup)
            layout = "NC" if len(shape) == 2 else adapter.LAYOUT
            actual = shape if layout != "NHWC" else (shape[0], shape[2], shape[3], shape[1])
            rows.append({"input": label, "shape": list(actual), "layout": layout,
                         "mode": mode, "calls_per_sample": config.layer_calls,
                         "scratch": summarize(seconds["scratch"], "s/call"),
                         "builtin": summarize(seconds["builtin"], "s/call"),
                         "ratio": paired_ratio(seconds["scratch"], seconds["builtin"]),
                         "what": adapter.LAYER})
    return rows


def lenet_step(adapter, chapter, data, config: Config, progress) -> list[dict]:
    bs = config.batch_size
    X, y = data.train_X[:bs], data.train_y[:bs]
    rows = []
    for mode in adapter.MODES:
        progress(f"LeNet SGD step {mode}")
        sides = adapter.lenet_step_sides(chapter, X, y, config.lr, mode, config.lenet_steps)
        seconds = interleave(sides, config.repeats, config.warmup)
        rows.append({"mode": mode, "batch_size": bs, "steps_per_sample": config.lenet_steps,
                     "scratch": summarize(seconds["scratch"], "s/step"),
                     "builtin": summarize(seconds["builtin"], "s/step"),
                     "scratch_examples_per_sec": rates(seconds["scratch"], bs, "examples/s"),
                     "builtin_examples_per_sec": rates(seconds["builtin"], bs, "examples/s"),
                     "ratio": paired_ratio(seconds["scratch"], seconds["builtin"]),
                     "what": adapter.STEP})
    return rows


def broadcast(adapter, config: Config, progress) -> list[dict]:
    """What broadcasting costs: x - m with m of x's shape vs one value per channel."""
    rows = []
    for mode in adapter.MODES:
        progress(f"broadcast {mode}")
        sides = adapter.broadcast_sides(config.bn_4d, mode, config.layer_calls)
        seconds = interleave(sides, config.repeats, config.warmup)
        rows.append({"mode": mode, "shape": list(config.bn_4d), "layout": adapter.LAYOUT,
                     "same_shape": summarize(seconds["same_shape"], "s/call"),
                     "broadcast": summarize(seconds["broadcast"], "s/call"),
                     "ratio": paired_ratio(seconds["broadcast"], seconds["same_shape"])})
    return rows


def input_strides(adapter, chapter, data, config: Config, progress) -> dict:
    """Diagnostic of adapters that have ``input_strides_sides`` (PyTorch): X[idx] vs np.take."""
    progress("input strides")
    groups = adapter.input_strides_sides(chapter, data, config.lr, config.lenet_steps,
                                         config.layer_calls)
    result = {"what": adapter.STRIDES}
    for group, sides in groups.items():
        seconds = interleave(sides, config.repeats, config.warmup)
        result[group] = {"take": summarize(seconds["take"], "s/call"),
                         "fancy_index": summarize(seconds["fancy_index"], "s/call"),
                         "ratio": paired_ratio(seconds["fancy_index"], seconds["take"])}
    return result


def matmul(adapter, config: Config, progress) -> dict:
    from .machine import matmul_flops

    progress(f"matmul {config.matmul_n}")
    seconds = interleave({"matmul": adapter.matmul_side(config.matmul_n)},
                         config.repeats, config.warmup)["matmul"]
    result = rates(seconds, matmul_flops(config.matmul_n) / 1e9, "GFLOP/s")
    result.update(size=config.matmul_n, dtype="float32")
    return result


def run(framework: str, config: Config) -> dict:
    start = time.perf_counter()

    def progress(message: str) -> None:
        log(framework, message)

    progress("importing")
    adapter = importlib.import_module(ADAPTERS[framework])
    result: dict = {"framework": framework, "versions": adapter.versions(),
                    "threads": adapter.threads(), "layout": adapter.LAYOUT,
                    "modes": list(adapter.MODES), "errors": {}}
    chapter = load_definitions(framework)
    data = load_data(adapter.d2l, config)
    sections = {
        "matmul": lambda: matmul(adapter, config, progress),
        "bn_layer": lambda: bn_layer(adapter, chapter, config, progress),
        "broadcast": lambda: broadcast(adapter, config, progress),
        "lenet_step": lambda: lenet_step(adapter, chapter, data, config, progress),
        "input_strides": lambda: input_strides(adapter, chapter, data, config, progress),
        "trainer_overhead": lambda: trainer_overhead(
            adapter, chapter, data, config,
            lambda message: progress(f"Trainer overhead {message}")),
    }
    if not hasattr(adapter, "input_strides_sides"):  # a PyTorch-only diagnostic
        del sections["input_strides"]
    result["section_seconds"] = {"setup": time.perf_counter() - start}
    for name, section in sections.items():
        began = time.perf_counter()
        try:
            result[name] = section()
        except Exception:  # noqa: BLE001 (recorded, the other sections still run)
            result["errors"][name] = traceback.format_exc()
            progress(f"{name} FAILED:\n{result['errors'][name]}")
        result["section_seconds"][name] = time.perf_counter() - began
    result["seconds"] = time.perf_counter() - start
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worker")
    parser.add_argument("framework", choices=sorted(ADAPTERS))
    parser.add_argument("--config", required=True, help="Config as JSON")
    parser.add_argument("--out", required=True, help="where to write the result JSON")
    args = parser.parse_args(argv)
    config = Config.from_dict(json.loads(args.config))
    result = run(args.framework, config)
    with open(args.out, "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
