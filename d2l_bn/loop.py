"""The framework-free skeleton of ``Trainer``: epochs, timing, curves, divergence, summary.

A backend's ``Trainer`` implements three hooks:

* ``prepare(model, data)``: build the model on one batch, initialize, make the optimizer;
* ``train_step(model, X, y)``: one SGD step **in training mode**; it adds the batch's
  summed loss and number of correct predictions to running sums kept on the device;
* ``pop_train_sums()``: those two sums as Python numbers, then reset to zero;
* ``eval_step(model, X, y)``: (mean loss, number correct) **in prediction mode**, no update.

The loop reads the sums back only a few times per epoch (where the loss curve gets a
point), not after every step: a read waits for the device to finish, and frameworks that
run steps asynchronously (MXNet's engine, TensorFlow, any GPU) would lose that overlap.
Divergence is therefore noticed at the end of the window in which it happens.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from .board import ProgressBoard
from .data import smoke_mode

POINTS_PER_EPOCH = 4  # how often the training-loss curve gets a point


@dataclass
class FitResult:
    """What one ``Trainer.fit`` call achieved; ``diverged`` runs keep their history."""

    epochs: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    examples_per_sec: float
    device: str
    diverged: bool = False
    message: str = ""

    def summary(self) -> str:
        """The one-line summary printed at the end of ``fit``."""
        line = (f"epochs {self.epochs} | train loss {self.train_loss:.3f} | "
                f"train acc {self.train_acc:.3f} | val loss {self.val_loss:.3f} | "
                f"val acc {self.val_acc:.3f} | {self.examples_per_sec:,.0f} examples/sec "
                f"| {self.device}")
        return f"{line} | {self.message}" if self.diverged else line


class TrainerBase:
    """Minibatch SGD for ``max_epochs`` epochs (one epoch in smoke mode)."""

    def __init__(self, max_epochs: int, board: bool = True, verbose: bool = True):
        if max_epochs < 1:
            raise ValueError(f"max_epochs must be at least 1, got {max_epochs}.")
        self.max_epochs = 1 if smoke_mode() else max_epochs
        self.use_board, self.verbose = board, verbose
        self.board: ProgressBoard | None = None
        self.history: list[dict] = []
        self.result: FitResult | None = None

    # --- hooks implemented by each backend -------------------------------------------
    def prepare(self, model, data) -> None:
        raise NotImplementedError

    def train_step(self, model, X, y) -> None:
        raise NotImplementedError

    def pop_train_sums(self) -> tuple[float, float]:
        raise NotImplementedError

    def eval_step(self, model, X, y) -> tuple[float, float]:
        raise NotImplementedError

    def device_name(self) -> str:
        raise NotImplementedError

    # --- the loop ------------------------------------------------------------------------
    def fit(self, model, data) -> FitResult:
        """Train ``model`` on ``data``; validate after every epoch; print one summary line."""
        self.prepare(model, data)
        self.board = ProgressBoard(title=type(model).__name__) if self.use_board else None
        if self.board:
            self.board.xlim = (0, self.max_epochs)
        self.history = []
        train_seconds, train_examples = 0.0, 0
        message = ""
        for epoch in range(self.max_epochs):
            stats, seconds, message = self._train_epoch(model, data, epoch)
            train_seconds += seconds
            train_examples += stats["n"]
            if message:
                break
            val_loss, val_acc = self._validate(model, data)
            self.history.append({"epoch": epoch + 1, "train_loss": stats["loss"],
                                 "train_acc": stats["acc"], "val_loss": val_loss,
                                 "val_acc": val_acc})
            if self.board:
                self.board.draw(epoch + 1, val_loss, "val_loss", redraw=False)
                self.board.draw(epoch + 1, val_acc, "val_acc")
        last = self.history[-1] if self.history else {
            "epoch": 0, "train_loss": math.nan, "train_acc": math.nan,
            "val_loss": math.nan, "val_acc": math.nan}
        self.result = FitResult(
            epochs=last["epoch"], train_loss=last["train_loss"], train_acc=last["train_acc"],
            val_loss=last["val_loss"], val_acc=last["val_acc"],
            examples_per_sec=train_examples / max(train_seconds, 1e-9),
            device=self.device_name(), diverged=bool(message), message=message)
        if self.verbose:
            print(self.result.summary())
        return self.result

    def _train_epoch(self, model, data, epoch: int):
        """One pass over the training data; returns (stats, seconds in steps, message)."""
        n_batches = math.ceil(data.num_train / data.batch_size)
        # Batch counts after which the sums are read: equal windows of batches, each a
        # point of the loss curve.
        marks = sorted({max(1, round(n_batches * k / POINTS_PER_EPOCH))
                        for k in range(1, POINTS_PER_EPOCH + 1)})
        redraw_at = set(marks[1::2])  # redraw the live plot twice per epoch
        total_loss = total_correct = 0.0
        n = window_n = first = 0
        seconds = 0.0
        self.pop_train_sums()  # start from zero
        start = time.perf_counter()
        for i, (X, y) in enumerate(data.train_dataloader()):
            self.train_step(model, X, y)
            window_n += int(y.shape[0])
            if i + 1 not in marks:
                continue
            loss_sum, correct = self.pop_train_sums()
            seconds += time.perf_counter() - start
            if not math.isfinite(loss_sum):
                return {"n": n + window_n}, seconds, (
                    f"diverged: the training loss became {loss_sum / window_n} in epoch "
                    f"{epoch + 1}, batches {first + 1}-{i + 1}; stopped this run (the "
                    f"learning rate is probably too large). History up to the last "
                    f"finished epoch is kept.")
            total_loss += loss_sum
            total_correct += correct
            n += window_n
            if self.board:
                self.board.draw(epoch + (i + 1) / n_batches, loss_sum / window_n,
                                "train_loss", redraw=i + 1 in redraw_at)
            window_n, first = 0, i + 1
            start = time.perf_counter()
        return {"n": n, "loss": total_loss / n, "acc": total_correct / n}, seconds, ""

    def _validate(self, model, data) -> tuple[float, float]:
        total_loss = total_correct = 0.0
        n = 0
        for X, y in data.val_dataloader():
            loss, correct = self.eval_step(model, X, y)
            size = int(y.shape[0])
            total_loss += loss * size
            total_correct += correct
            n += size
        return total_loss / n, total_correct / n
