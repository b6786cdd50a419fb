"""The framework-free skeleton of ``Trainer``: epochs, timing, curves, checks, summary.
``fit`` first checks the learning rate and that every label is in ``[0, K)`` for ``K``
outputs (MXNet's softmax cross-entropy would clip bad labels and train on)."""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass

import numpy as np

from .plots import ProgressBoard
from .settings import check_positive_int, smoke_mode, tally

POINTS_PER_EPOCH = 4  # how often the training-loss curve gets a point
DIVERGENCE_FACTOR = 10
"""A run has diverged when the mean training loss of a quarter epoch is not finite or
exceeds ``DIVERGENCE_FACTOR * ln K``, ten times a uniform guess's (23.0 for K = 10)."""


def split_prefix(evaluated_on: str) -> str:
    """The key prefix of an evaluation split: "valid" or "test"."""
    return "valid" if evaluated_on == "validation" else "test"


def _by_split(split: str, field: str) -> property:
    """``field`` of a FitResult, read by its split's name: refuses the other split."""
    def read(result) -> float:
        if result.evaluated_on != split:
            other = split_prefix(result.evaluated_on)
            raise ValueError(
                f"This run was evaluated on the {result.evaluated_on} images, not the "
                f"{split} images; read {other}_acc / {other}_loss, or train with "
                f"FashionMNIST(evaluate_on={split!r}).")
        return getattr(result, field)
    return property(read)


@dataclass
class FitResult:
    """The last finished epoch of one ``fit`` (0 and NaN if none); ``valid_acc`` or
    ``test_acc`` (and ``_loss``) refuse the other split; ``message`` says why it diverged."""

    epochs: int
    train_loss: float
    train_acc: float
    eval_loss: float
    eval_acc: float
    examples_per_sec: float
    device: str
    diverged: bool = False
    message: str = ""
    evaluated_on: str = "validation"

    valid_acc = _by_split("validation", "eval_acc")
    valid_loss = _by_split("validation", "eval_loss")
    test_acc = _by_split("test", "eval_acc")
    test_loss = _by_split("test", "eval_loss")

    def summary(self) -> str:
        """The one-line summary printed at the end of ``fit``."""
        name = split_prefix(self.evaluated_on)
        line = (f"epochs {self.epochs} | train loss {self.train_loss:.3f} | "
                f"train acc {self.train_acc:.3f} | {name} loss {self.eval_loss:.3f} | "
                f"{name} acc {self.eval_acc:.3f} | {self.examples_per_sec:,.0f} examples/sec "
                f"| {self.device}")
        return f"{line} | {self.message}" if self.diverged else line


@dataclass
class EpochStats:
    """One pass over the training data: examples, mean loss and accuracy, time in steps."""

    examples: int
    loss: float
    acc: float
    seconds: float
    diverged: str = ""  # why the epoch stopped early ('' when it did not)


def check_learning_rate(lr) -> None:
    """A ValueError unless ``lr`` is a positive, finite real number."""
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not (
            math.isfinite(lr) and lr > 0):
        raise ValueError(f"The learning rate (the model's lr) must be a positive, finite "
                         f"number, got {lr!r}. Pass it when creating the model, e.g. "
                         f"LeNetBN(lr=0.1).")


def check_labels(data, num_outputs: int) -> None:
    """A ValueError unless every label is an integer in [0, num_outputs)."""
    for split, labels in (("training", data.train_y), ("evaluation", data.val_y)):
        labels = np.asarray(labels)
        bad = labels[(labels < 0) | (labels >= num_outputs) | (labels != np.round(labels))]
        if bad.size:
            raise ValueError(
                f"The {split} labels must be class indices 0 to {num_outputs - 1}, one per "
                f"output of the model ({num_outputs} outputs), but {bad.size:,} are not "
                f"(e.g. {bad.ravel()[0]!r}). Give the model's last layer one output per "
                f"class, and labels counted from 0.")


class TrainerBase:
    """Minibatch SGD for ``max_epochs`` epochs (one in smoke mode). A backend implements
    ``build`` (weights, once; returns the outputs), ``prepare_steps``, ``train_step`` (SGD,
    **training mode**; adds loss and correct count to sums on the device, which
    ``pop_train_sums`` reads only where the loss curve gets a point: a read waits for the
    device), ``eval_step`` (**prediction mode**), ``set_prediction_mode``, ``device_name``."""

    def __init__(self, max_epochs: int, board: bool = True, verbose: bool = True):
        check_positive_int(max_epochs, "max_epochs")
        self.max_epochs = 1 if smoke_mode() else max_epochs
        self.use_board, self.verbose = board, verbose
        self.board: ProgressBoard | None = None
        self.history: list[dict] = []
        self.result: FitResult | None = None
        self.num_outputs = 0

    def prepare(self, model, data) -> None:
        """Build the model, check the labels, make the optimizer (before ``fit_epoch``)."""
        self.num_outputs = self.build(model, data)
        check_labels(data, self.num_outputs)
        self.prepare_steps(model, data)

    def fit(self, model, data) -> FitResult:
        """Train, evaluate every epoch, print a summary; ``result`` stays None if
        interrupted. ``history`` holds the finished epochs; ends in prediction mode."""
        self.history, self.result = [], None
        check_learning_rate(getattr(model, "lr", None))
        try:
            self.prepare(model, data)
            self.result = self._run(model, data)
        finally:
            self.set_prediction_mode(model)
        if self.verbose:
            print(self.result.summary())
        return self.result

    def _run(self, model, data) -> FitResult:
        self.board = ProgressBoard(title=type(model).__name__, xlim=(0, self.max_epochs)) \
            if self.use_board else None
        train_seconds, train_examples, message = 0.0, 0, ""
        split = getattr(data, "evaluate_on", "validation")
        name = split_prefix(split)
        for epoch in range(self.max_epochs):
            stats = self.fit_epoch(model, data, epoch)
            train_seconds += stats.seconds
            train_examples += stats.examples
            if stats.diverged:
                message = stats.diverged
                break
            eval_loss, eval_acc = self.evaluate(model, data)
            # "valid_acc" or "test_acc", and so on
            self.history.append({"epoch": epoch + 1, "train_loss": stats.loss,
                                 "train_acc": stats.acc, f"{name}_loss": eval_loss,
                                 f"{name}_acc": eval_acc})
            if self.board:
                self.board.draw(epoch + 1, eval_loss, f"{name}_loss", redraw=False)
                self.board.draw(epoch + 1, eval_acc, f"{name}_acc")
        tally(train_examples, train_seconds)  # for book execute's record, if asked
        last = self.history[-1] if self.history else {
            "epoch": 0, "train_loss": math.nan, "train_acc": math.nan,
            f"{name}_loss": math.nan, f"{name}_acc": math.nan}
        return FitResult(
            epochs=last["epoch"], train_loss=last["train_loss"], train_acc=last["train_acc"],
            eval_loss=last[f"{name}_loss"], eval_acc=last[f"{name}_acc"],
            examples_per_sec=train_examples / max(train_seconds, 1e-9),
            device=self.device_name(), diverged=bool(message), message=message,
            evaluated_on=split)

    def fit_epoch(self, model, data, epoch: int) -> EpochStats:
        """One pass over the training data, in training mode (call ``prepare`` first)."""
        n_batches = data.num_train_batches
        # Batch counts after which the sums are read: equal windows of batches, each a
        # point of the loss curve; the live plot is redrawn twice per epoch.
        marks = sorted({max(1, round(n_batches * k / POINTS_PER_EPOCH))
                        for k in range(1, POINTS_PER_EPOCH + 1)})
        redraw_at = set(marks[1::2])
        limit = DIVERGENCE_FACTOR * math.log(max(self.num_outputs, 2))
        total_loss = total_correct = seconds = 0.0
        n = window_n = first = 0
        self.pop_train_sums()  # start from zero
        start = time.perf_counter()
        for i, (X, y) in enumerate(data.train_dataloader()):
            self.train_step(model, X, y)
            window_n += int(y.shape[0])
            if i + 1 not in marks:
                continue
            loss_sum, correct = self.pop_train_sums()
            seconds += time.perf_counter() - start
            mean_loss = loss_sum / window_n
            if not mean_loss <= limit:  # also catches NaN
                return EpochStats(n + window_n, math.nan, math.nan, seconds, (
                    f"diverged: the mean training loss of epoch {epoch + 1}, batches "
                    f"{first + 1}-{i + 1}, was {mean_loss:.4g}, above {limit:.1f} "
                    f"({DIVERGENCE_FACTOR} x ln {self.num_outputs}, ten times the loss of a "
                    f"uniform guess); stopped this run (the learning rate is probably too "
                    f"large). History up to the last finished epoch is kept."))
            total_loss += loss_sum
            total_correct += correct
            n += window_n
            if self.board:
                self.board.draw(epoch + (i + 1) / n_batches, mean_loss,
                                "train_loss", redraw=i + 1 in redraw_at)
            window_n, first = 0, i + 1
            start = time.perf_counter()
        return EpochStats(n, total_loss / n, total_correct / n, seconds)

    def evaluate(self, model, data) -> tuple[float, float]:
        """(mean loss, accuracy) over the evaluation split, in prediction mode."""
        total_loss = total_correct = n = 0
        for X, y in data.val_dataloader():
            loss, correct = self.eval_step(model, X, y)
            total_loss += loss * int(y.shape[0])
            total_correct += correct
            n += int(y.shape[0])
        return total_loss / n, total_correct / n
