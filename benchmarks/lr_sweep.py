"""Short learning-rate sweep for the chapter's LeNet with built-in BN, one framework.

    python benchmarks/lr_sweep.py pytorch --epochs 3 --lrs 0.1 0.3 0.9

The seed is fixed (42, as in the chapter) before any tuning; the learning rate with the
best validation accuracy after a few epochs is the one the chapter's cells use.
"""

from __future__ import annotations

import argparse
import importlib
import json

from d2l_bn import BACKEND_MODULES
from d2l_bn.notebooks import load_definitions as load

SEED = 42


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("framework", choices=sorted(BACKEND_MODULES))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lrs", type=float, nargs="+", default=[0.1, 0.3, 0.9])
    args = parser.parse_args()
    d2l = importlib.import_module(f"d2l_bn.{BACKEND_MODULES[args.framework]}")
    chapter = load(args.framework)
    data = d2l.FashionMNIST(batch_size=128)
    rows = []
    for lr in args.lrs:
        d2l.set_seed(SEED)
        trainer = d2l.Trainer(max_epochs=args.epochs, board=False, verbose=False)
        result = trainer.fit(chapter.LeNetBN(lr=lr), data)
        rows.append({"framework": args.framework, "lr": lr, "epochs": args.epochs,
                     "val_acc": round(result.val_acc, 4), "train_loss": round(result.train_loss, 4),
                     "diverged": result.diverged})
        print(json.dumps(rows[-1]), flush=True)


if __name__ == "__main__":
    main()
