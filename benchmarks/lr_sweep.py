"""Short learning-rate sweep for the chapter's LeNet with built-in BN, one framework.

    python -m benchmarks.lr_sweep pytorch --epochs 5 --lrs 0.1 0.3 0.9

The seed is fixed (42, as in the chapter) before any tuning. Validation accuracy of a BN
network jumps from epoch to epoch (the running statistics follow the last batches), so
each learning rate is scored by its mean validation accuracy over the last three epochs;
the best score picks the learning rate the chapter's cells use.
"""

from __future__ import annotations

import argparse
import importlib
import json

from book.definitions import load_definitions
from d2l_bn import BACKEND_MODULES, FRAMEWORKS

SEED = 42


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("framework", choices=FRAMEWORKS)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lrs", type=float, nargs="+", default=[0.1, 0.3, 0.9])
    args = parser.parse_args()
    d2l = importlib.import_module(f"d2l_bn.{BACKEND_MODULES[args.framework]}")
    chapter = load_definitions(args.framework)
    data = d2l.FashionMNIST(batch_size=128)
    rows = []
    for lr in args.lrs:
        d2l.set_seed(SEED)
        trainer = d2l.Trainer(max_epochs=args.epochs, board=False, verbose=False)
        result = trainer.fit(chapter.LeNetBN(lr=lr), data)
        rows.append({"framework": args.framework, "lr": lr, "epochs": args.epochs,
                     "val_acc_per_epoch": [round(h["val_acc"], 4) for h in trainer.history],
                     "score": round(sum(h["val_acc"] for h in trainer.history[-3:]) / 3, 4),
                     "train_loss": round(result.train_loss, 4), "diverged": result.diverged})
        print(json.dumps(rows[-1]), flush=True)
    best = max(rows, key=lambda row: row["score"])
    print(f"best learning rate for {args.framework}: {best['lr']} (score {best['score']})")


if __name__ == "__main__":
    main()
