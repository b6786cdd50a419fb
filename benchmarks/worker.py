"""One framework's measurements in a fresh process (no other framework's thread pools); a
failed section keeps its traceback, the others run. Adapters ``fw_<d2l_bn module>`` define
``d2l``, ``LAYOUT``, ``MODES``, ``LOOP_MODE``, ``RAW_LOOP``, ``to_tensor``, ``sync``,
``build``, ``sgd_step``, ``builtin_bn`` and ``forward_backward``."""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from book.definitions import load_definitions
from d2l_bn import BACKEND_MODULES, FRAMEWORKS

from .config import Config
from .timing import interleave, paired_ratio, per_call, rates, summarize


def log(framework: str, message: str) -> None:
    print(f"[{framework}] {message}", file=sys.stderr, flush=True)


def load_data(d2l, config: Config):
    """The backend's FashionMNIST, sliced to the benchmark subset."""
    data = d2l.FashionMNIST(batch_size=config.batch_size, train_size=config.train_examples)
    if data.num_train < config.train_examples or data.num_val < config.val_examples:
        raise RuntimeError(f"need {config.train_examples} training and {config.val_examples} "
                           f"evaluation examples, the data set has {data.num_train} and "
                           f"{data.num_val} (is D2L_BN_SMOKE set?)")
    data.val_X, data.val_y = data.val_X[:config.val_examples], data.val_y[:config.val_examples]
    return data


def raw_loop_side(adapter, chapter, data, lr: float):
    """One epoch of a minimal hand-written training loop of LeNetBN (its seconds)."""
    model = adapter.build(chapter.LeNetBN(lr=lr), data.train_X)
    step = adapter.sgd_step(model, lr, adapter.LOOP_MODE)
    X, y, batch_size, tensor = data.train_X, data.train_y, data.batch_size, adapter.to_tensor

    def epoch() -> float:
        start = time.perf_counter()
        order = np.random.permutation(len(y))
        for i in range(0, len(y), batch_size):
            idx = order[i:i + batch_size]
            loss = step(tensor(np.take(X, idx, axis=0)), tensor(np.take(y, idx, axis=0)))
        adapter.sync(loss)
        return time.perf_counter() - start

    return epoch


def trainer_overhead(adapter, chapter, data, config: Config, progress) -> dict:
    """Trainer.fit against the raw loop, examples/sec; target: Trainer/raw >= 0.95."""
    d2l = adapter.d2l
    trainer_class = getattr(adapter, "Trainer", d2l.Trainer)  # TensorFlow's warms up first
    d2l.set_seed(0)
    model = chapter.LeNetBN(lr=config.lr)

    def trainer_fit() -> float:
        result = trainer_class(max_epochs=1, board=False, verbose=False).fit(model, data)
        if result.diverged:
            raise RuntimeError(result.message)
        return data.num_train / result.examples_per_sec

    sides = {"trainer_fit": trainer_fit, "raw": raw_loop_side(adapter, chapter, data, config.lr)}
    seconds = interleave(sides, config.trainer_repeats, config.warmup, progress)
    n, ratio = data.num_train, paired_ratio(seconds["raw"], seconds["trainer_fit"])  # throughput
    return {"examples": n, "steps": data.num_train_batches, "batch_size": data.batch_size,
            "lr": config.lr, "model": "LeNetBN",
            "trainer_fit": rates(seconds["trainer_fit"], n, "examples/s"),
            "raw": rates(seconds["raw"], n, "examples/s"),
            "raw_loop": adapter.RAW_LOOP, "ratio": ratio,
            "target": config.trainer_target, "pass": ratio["median"] >= config.trainer_target}


def scratch_vs_builtin(sides: dict, config: Config, unit: str) -> dict:
    """Interleaved repeats of the two sides; ratio = scratch time / built-in time."""
    seconds = interleave(sides, config.repeats, config.warmup)
    return {"scratch": summarize(seconds["scratch"], unit),
            "builtin": summarize(seconds["builtin"], unit),
            "ratio": paired_ratio(seconds["scratch"], seconds["builtin"])}


def bn_layer(adapter, chapter, config: Config, progress) -> list[dict]:
    """The chapter's BatchNorm against the framework's own layer: forward+backward."""
    rows = []
    rng = np.random.default_rng(0)
    for mode in adapter.MODES:
        for label, shape in (("2-D", config.bn_2d), ("4-D", config.bn_4d)):
            progress(f"BN layer {label} {mode}")
            if len(shape) == 4 and adapter.LAYOUT == "NHWC":
                shape = (shape[0], shape[2], shape[3], shape[1])
            channels = shape[-1] if adapter.LAYOUT == "NHWC" else shape[1]
            x, upstream = (rng.standard_normal(shape, dtype=np.float32) for _ in range(2))
            layers = {"scratch": chapter.BatchNorm(channels, num_dims=len(shape)),
                      "builtin": adapter.builtin_bn(channels, len(shape))}
            sides = {name: per_call(adapter.forward_backward(layer, x, upstream, mode),
                                    config.layer_calls, sync=adapter.sync)
                     for name, layer in layers.items()}
            rows.append({"input": label, "shape": list(shape), "mode": mode,
                         **scratch_vs_builtin(sides, config, "s/call")})
    return rows


def lenet_step(adapter, chapter, data, config: Config, progress) -> list[dict]:
    """One SGD step on a fixed batch: LeNetBNScratch against LeNetBN."""
    bs = config.batch_size
    X_np = data.train_X[:bs]
    X, y = adapter.to_tensor(X_np), adapter.to_tensor(data.train_y[:bs])
    rows = []
    for mode in adapter.MODES:
        progress(f"LeNet SGD step {mode}")
        sides = {}
        for name, cls in (("scratch", chapter.LeNetBNScratch), ("builtin", chapter.LeNetBN)):
            step = adapter.sgd_step(adapter.build(cls(lr=config.lr), X_np), config.lr, mode)
            sides[name] = per_call(functools.partial(step, X, y), config.lenet_steps,
                                   sync=adapter.sync)
        row = {"mode": mode, "batch_size": bs, **scratch_vs_builtin(sides, config, "s/step")}
        row["builtin_examples_per_sec"] = rates(row["builtin"]["samples"], bs, "examples/s")
        rows.append(row)
    return rows


def run(framework: str, config: Config) -> dict:
    start = time.perf_counter()
    progress = functools.partial(log, framework)
    progress("importing")
    adapter = importlib.import_module(f"benchmarks.fw_{BACKEND_MODULES[framework]}")
    chapter = load_definitions(framework)
    data = load_data(adapter.d2l, config)
    sections = {
        "bn_layer": lambda: bn_layer(adapter, chapter, config, progress),
        "lenet_step": lambda: lenet_step(adapter, chapter, data, config, progress),
        "trainer_overhead": lambda: trainer_overhead(
            adapter, chapter, data, config,
            lambda message: progress(f"Trainer overhead {message}")),
    }
    result: dict = {"framework": framework, "layout": adapter.LAYOUT,
                    "modes": list(adapter.MODES), "loop_mode": adapter.LOOP_MODE,
                    "errors": {}, "section_seconds": {"setup": time.perf_counter() - start}}
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
    parser.add_argument("framework", choices=FRAMEWORKS)
    parser.add_argument("--config", required=True, help="Config as JSON")
    parser.add_argument("--out", required=True, help="where to write the result JSON")
    args = parser.parse_args(argv)
    Path(args.out).write_text(json.dumps(run(args.framework, Config(**json.loads(args.config)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
