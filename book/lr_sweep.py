"""The learning-rate sweep behind the chapter's choice, on the validation split.

    python -m book.lr_sweep pytorch                 # default grid, 5 epochs
    python -m book.lr_sweep mxnet --lrs 0.3 0.9 2.7

The chapter's LeNet with built-in batch normalization trains on the first 50,000
training images and is scored on the held-out last 10,000 (never on the test images),
with the chapter's seed and batch size, for 5 epochs (half the chapter's 10, to keep the
sweep affordable on a CPU). Validation accuracy of a BN network jitters from epoch to
epoch, so each learning rate is scored by its mean validation accuracy over the last
three epochs; the best score is the chapter's learning rate for that framework, and the
grid must extend past it on both sides. The number of threads changes only the order
of rounding, so a sweep may run on one core (``OMP_NUM_THREADS=1``) beside other work.

Each run appends one JSON line to ``chapters/lr_sweep/<framework>.jsonl`` (the raw
output, committed; the chapter reads the choice from it).
"""

from __future__ import annotations

import argparse
import importlib
import json
import time

from d2l_bn import BACKEND_MODULES, FRAMEWORKS

from . import CHAPTERS
from .definitions import load_definitions

SEED, EPOCHS, BATCH_SIZE = 42, 5, 128
GRID = (0.1, 0.3, 0.9, 2.7)
SCORED_EPOCHS = 3


def results_path(framework: str):
    return CHAPTERS / "lr_sweep" / f"{framework}.jsonl"


def sweep(framework: str, lrs, epochs: int = EPOCHS) -> list[dict]:
    """Train one LeNetBN per learning rate; return and record one row per run."""
    d2l = importlib.import_module(f"d2l_bn.{BACKEND_MODULES[framework]}")
    chapter = load_definitions(framework)
    data = d2l.FashionMNIST(batch_size=BATCH_SIZE, evaluate_on="validation")
    path = results_path(framework)
    path.parent.mkdir(exist_ok=True)
    rows = []
    for lr in lrs:
        d2l.set_seed(SEED)
        trainer = d2l.Trainer(max_epochs=epochs, board=False, verbose=False)
        start = time.perf_counter()
        result = trainer.fit(chapter.LeNetBN(lr=lr), data)
        accs = [h["valid_acc"] for h in trainer.history]
        rows.append({
            "framework": framework, "model": "LeNetBN", "lr": lr, "epochs": epochs,
            "batch_size": BATCH_SIZE, "seed": SEED, "train": data.num_train,
            "validation": data.num_val, "val_acc_per_epoch": [round(a, 4) for a in accs],
            "score": round(sum(accs[-SCORED_EPOCHS:]) / SCORED_EPOCHS, 4) if accs else None,
            "train_loss": round(result.train_loss, 4), "diverged": result.diverged,
            "seconds": round(time.perf_counter() - start, 1),
            "date": time.strftime("%Y-%m-%d")})
        with path.open("a") as out:
            out.write(json.dumps(rows[-1]) + "\n")
        print(json.dumps(rows[-1]), flush=True)
    return rows


def best(framework: str) -> dict:
    """The best-scoring learning rate recorded for ``framework`` (latest row per lr)."""
    rows = {}
    for line in results_path(framework).read_text().splitlines():
        row = json.loads(line)
        rows[row["lr"]] = row
    scored = [r for r in rows.values() if r["score"] is not None and not r["diverged"]]
    return max(scored, key=lambda row: row["score"])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m book.lr_sweep", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("frameworks", nargs="+", choices=FRAMEWORKS)
    parser.add_argument("--lrs", type=float, nargs="+", default=list(GRID))
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args()
    for framework in args.frameworks:
        sweep(framework, args.lrs, args.epochs)
        choice = best(framework)
        print(f"best learning rate for {framework}: {choice['lr']} "
              f"(score {choice['score']})", flush=True)


if __name__ == "__main__":
    main()
