"""Trainer, data loaders, modes, smoke mode and every fault, in every framework.

Real data (the smoke subset: 1,024 training and 512 evaluation images) and tiny models.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from d2l_bn import data as data_module
from d2l_bn import loop
from d2l_bn.plots import ProgressBoard


@functools.cache
def tiny_class(d2l):
    """The class of the tiny models of one backend. One class, not one per model: JAX
    compiles the trainer's steps once per model structure, and the class is part of it."""

    class Tiny(d2l.Classifier):
        def __init__(self, net, lr):
            super().__init__(lr)
            self.net = net

    return Tiny


def flatten(X):  # (N, 28, 28, 1) -> (N, 784), for Flax NNX: one function, one structure
    return X.reshape(X.shape[0], -1)


def tiny_model(framework: str, d2l, lr: float, with_bn: bool, outputs: int = 10):
    """A small MLP (optionally with a built-in BN layer); returns (model, moving-mean getter)."""
    if framework == "pytorch":
        from torch import nn
        layers = [nn.Flatten(), nn.Linear(784, 32)]
        bn = nn.BatchNorm1d(32)
        layers += [bn] if with_bn else []
        net = nn.Sequential(*layers, nn.ReLU(), nn.Linear(32, outputs))

        def get():
            return bn.running_mean.detach().cpu().numpy().copy()
    elif framework == "tensorflow":
        import keras
        bn = keras.layers.BatchNormalization()
        net = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(32)]
                               + ([bn] if with_bn else [])
                               + [keras.layers.ReLU(), keras.layers.Dense(outputs)])

        def get():
            return bn.moving_mean.numpy().copy()
    elif framework == "jax":
        from flax import nnx
        rngs = nnx.Rngs(d2l.next_key())
        bn = nnx.BatchNorm(32, rngs=rngs)
        net = nnx.Sequential(flatten, nnx.Linear(784, 32, rngs=rngs), *([bn] if with_bn else []),
                             nnx.relu, nnx.Linear(32, outputs, rngs=rngs))

        def get():
            return np.array(bn.mean[...])
    elif framework == "mxnet":
        from mxnet.gluon import nn
        bn = nn.BatchNorm()
        net = nn.Sequential()
        net.add(nn.Dense(32))
        if with_bn:
            net.add(bn)
        net.add(nn.Activation("relu"), nn.Dense(outputs))

        def get():
            return bn.running_mean.data().asnumpy().copy()
    else:
        raise LookupError(f"tests/test_trainer.py has no tiny model for {framework!r}")
    return tiny_class(d2l)(net, lr), get


CHANNELS_LAST = {"tensorflow", "jax"}  # NHWC images; the others NCHW


def as_numpy(tensor) -> np.ndarray:
    """A framework tensor as a numpy array (MXNet NDArrays need .asnumpy())."""
    return np.asarray(tensor.asnumpy() if hasattr(tensor, "asnumpy") else tensor)


def test_loaders_layout_types_and_shuffling(framework, d2l, smoke):
    data = d2l.FashionMNIST(batch_size=100)
    assert (data.num_train, data.num_val) == (1024, 512)
    X, y = next(iter(data.train_dataloader()))
    expected = (100, 28, 28, 1) if data.channels_last else (100, 1, 28, 28)
    assert data.channels_last == (framework in CHANNELS_LAST)
    assert tuple(X.shape) == expected and tuple(y.shape) == (100,)
    X = as_numpy(X)
    assert X.dtype == np.float32 and 0.0 <= X.min() and X.max() <= 1.0
    first = [as_numpy(y) for _, y in data.train_dataloader()]
    second = [as_numpy(y) for _, y in data.train_dataloader()]
    assert sum(len(b) for b in first) == 1024 and len(first[-1]) == 24
    assert not np.array_equal(np.concatenate(first), np.concatenate(second))
    val1 = [as_numpy(y) for _, y in data.val_dataloader()]
    assert sum(len(b) for b in val1) == 512


@pytest.mark.parametrize("framework", ["pytorch"])  # its environment's pass runs it
def test_pytorch_batches_are_not_mistaken_for_channels_last(framework, smoke):
    """A (N, 1, H, W) batch from ``X[idx]`` has a channel stride of 1, which PyTorch reads
    as channels-last and answers with much slower batch-norm kernels (see FashionMNISTBase._batches in d2l_bn.data)."""
    import torch

    from d2l_bn import torch as d2l

    data = d2l.FashionMNIST(batch_size=64)
    conv = torch.nn.Conv2d(1, 6, kernel_size=5)
    fancy = torch.from_numpy(data.train_X[np.arange(64)])
    assert not conv(fancy).is_contiguous()  # the trap: the output comes out channels-last
    for loader in (data.train_dataloader(), data.val_dataloader()):
        X, _ = next(loader)
        assert X.stride() == torch.empty(X.shape).stride()
        assert conv(X).is_contiguous()  # so the whole network stays in the default format


def test_smoke_mode_shrinks_the_run(d2l, smoke):
    assert d2l.smoke_mode()
    assert d2l.Trainer(max_epochs=10).max_epochs == 1
    data = d2l.FashionMNIST(batch_size=128)
    assert data.num_train == 1024 and data.num_val == 512


def test_full_mode_keeps_the_run(d2l, monkeypatch):
    monkeypatch.delenv("D2L_BN_SMOKE", raising=False)
    assert d2l.Trainer(max_epochs=10).max_epochs == 10


def test_training_lowers_the_loss(framework, d2l, smoke, capsys):
    d2l.set_seed(0)
    data = d2l.FashionMNIST(batch_size=64)
    model, _ = tiny_model(framework, d2l, lr=0.1, with_bn=False)
    trainer = d2l.Trainer(max_epochs=1)
    result = trainer.fit(model, data)
    _, losses = trainer.board.series["train_loss"]
    assert len(losses) >= 4 and losses[-1] < 0.75 * losses[0]
    assert result.test_acc > 0.5 and not result.diverged
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("epochs 1 | train loss") and "examples/sec" in line
    assert result.device in line


def test_bn_enters_training_mode_and_validation_does_not_touch_it(framework, d2l, smoke):
    """Guards against the old TensorFlow bug: BN layers never left inference mode."""
    d2l.set_seed(0)
    data = d2l.FashionMNIST(batch_size=64)
    model, moving_mean = tiny_model(framework, d2l, lr=0.1, with_bn=True)
    trainer = d2l.Trainer(max_epochs=1)
    trainer.prepare(model, data)
    before = moving_mean()
    if framework == "jax":
        # The jitted step works on the model's split arrays, which fit_epoch (public)
        # splits off and writes back: train_step alone is a hook of that loop.
        trainer.fit_epoch(model, data, 0)
    else:
        X, y = next(iter(data.train_dataloader()))
        trainer.train_step(model, X, y)
    after_step = moving_mean()
    assert np.abs(after_step - before).max() > 1e-4
    trainer.evaluate(model, data)
    np.testing.assert_array_equal(moving_mean(), after_step)


@pytest.mark.parametrize("lr", [1e38, 1e6])
def test_divergence_stops_the_run_cleanly(framework, d2l, smoke, capsys, lr):
    d2l.set_seed(0)
    data = d2l.FashionMNIST(batch_size=64)
    model, _ = tiny_model(framework, d2l, lr=lr, with_bn=False)
    result = d2l.Trainer(max_epochs=3).fit(model, data)
    assert result.diverged and "diverged" in result.message and "above 23.0" in result.message
    assert result.epochs == 0 and math.isnan(result.eval_acc)
    assert "learning rate" in capsys.readouterr().out


def test_board_renders_headless(tmp_path):
    board = ProgressBoard(title="t", live=False)
    for x in range(1, 4):
        board.draw(x, 1 / x, "train_loss")
        board.draw(x, 0.5 + x / 10, "valid_acc")
    path = tmp_path / "curves.png"
    board.save(path)
    assert path.stat().st_size > 5000


def weights(framework, model):
    if framework == "pytorch":
        return [t.detach().numpy().copy() for t in model.state_dict().values()]
    if framework == "tensorflow":
        return [v.numpy().copy() for v in model.variables]
    if framework == "jax":
        import jax
        from flax import nnx
        return [np.array(a) for a in jax.tree.leaves(nnx.state(model))]
    return [p.data().asnumpy().copy() for p in model.collect_params().values()]


def test_prepare_leaves_an_initialized_model_unchanged(framework, d2l, smoke):
    """prepare() may build and compile, but must not train, nor re-initialize a model
    that was already initialized."""
    d2l.set_seed(0)
    data = d2l.FashionMNIST(batch_size=64)
    model, _ = tiny_model(framework, d2l, lr=0.5, with_bn=True)
    d2l.Trainer(max_epochs=1).prepare(model, data)
    before = weights(framework, model)
    d2l.Trainer(max_epochs=1).prepare(model, data)
    for old, new in zip(before, weights(framework, model), strict=True):
        np.testing.assert_array_equal(old, new)


# --- faults ----------------------------------------------------------------------------

LABEL_MESSAGE = "labels must be class indices 0 to"


@pytest.mark.parametrize("bad_label", [10, -1, 255])
def test_labels_outside_the_model_outputs_are_refused(framework, d2l, smoke, bad_label):
    """Gluon's softmax cross-entropy clips such labels; every framework must refuse."""
    data = d2l.FashionMNIST(batch_size=64)
    data.train_y = data.train_y.copy()
    data.train_y[5] = bad_label
    model, _ = tiny_model(framework, d2l, lr=0.1, with_bn=False)
    trainer = d2l.Trainer(max_epochs=1)
    with pytest.raises(ValueError, match=LABEL_MESSAGE) as err:
        trainer.fit(model, data)
    assert "(10 outputs)" in str(err.value) and "training labels" in str(err.value)
    assert trainer.history == [] and trainer.result is None


def test_a_model_with_too_few_outputs_is_refused(framework, d2l, smoke):
    data = d2l.FashionMNIST(batch_size=64)
    model, _ = tiny_model(framework, d2l, lr=0.1, with_bn=False, outputs=1)
    with pytest.raises(ValueError, match=LABEL_MESSAGE) as err:
        d2l.Trainer(max_epochs=1).fit(model, data)
    assert "(1 outputs)" in str(err.value) and "one output per class" in str(err.value)


@pytest.mark.parametrize("lr", [math.nan, math.inf, 0.0, -0.1, "0.1", None, True])
def test_bad_learning_rates_are_refused(framework, d2l, smoke, lr):
    data = d2l.FashionMNIST(batch_size=64)
    model, _ = tiny_model(framework, d2l, lr=0.1, with_bn=False)
    model.lr = lr
    with pytest.raises(ValueError, match="learning rate .* must be a positive, finite number"):
        d2l.Trainer(max_epochs=1).fit(model, data)


@pytest.mark.parametrize("kwargs", [{"batch_size": 1.5}, {"batch_size": 0},
                                    {"batch_size": True}, {"batch_size": "64"},
                                    {"evaluate_on": "train"}])
def test_bad_data_arguments_fail_before_loading(d2l, monkeypatch, kwargs):
    def no_loading(*args, **kw):
        raise AssertionError("the data were loaded before the arguments were checked")
    monkeypatch.setattr(data_module, "load_arrays", no_loading)
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        d2l.FashionMNIST(**{"batch_size": 64, **kwargs})


@pytest.mark.parametrize("max_epochs", [None, 2.5, 0, "3", True])
def test_bad_max_epochs_is_refused(d2l, max_epochs):
    with pytest.raises(ValueError, match="max_epochs must be a positive integer"):
        d2l.Trainer(max_epochs=max_epochs)


@pytest.mark.parametrize("value, expected", [("1", True), ("yes", True), ("ON", True),
                                             ("0", False), ("off", False),
                                             ("disabled", False), ("", False)])
def test_smoke_mode_spellings(monkeypatch, value, expected):
    from d2l_bn.settings import smoke_mode
    monkeypatch.setenv("D2L_BN_SMOKE", value)
    assert smoke_mode() is expected


def test_unknown_smoke_value_is_an_error(d2l, monkeypatch):
    monkeypatch.setenv("D2L_BN_SMOKE", "maybe")
    with pytest.raises(ValueError, match="D2L_BN_SMOKE='maybe' is not understood"):
        d2l.Trainer(max_epochs=1)


def test_a_lone_last_training_example_joins_the_previous_batch(framework, d2l, smoke):
    """1,024 examples in batches of 1,023 would leave a batch of one, which batch norm
    cannot normalize in training mode; it joins the previous batch instead."""
    data = d2l.FashionMNIST(batch_size=1023)
    sizes = [int(y.shape[0]) for _, y in data.train_dataloader()]
    assert sizes == [1024] and data.num_train_batches == 1
    data = d2l.FashionMNIST(batch_size=511)  # remainder of two: kept as it is
    assert [int(y.shape[0]) for _, y in data.train_dataloader()] == [511, 511, 2]
    data = d2l.FashionMNIST(batch_size=1023)
    assert [int(y.shape[0]) for _, y in data.val_dataloader()] == [512]
    model, _ = tiny_model(framework, d2l, lr=0.1, with_bn=True)
    assert not d2l.Trainer(max_epochs=1, board=False, verbose=False).fit(model, data).diverged


def test_labels_are_int64_but_int32_in_jax(framework, d2l, smoke):
    """int64 labels everywhere but in JAX, which computes in 32 bits unless told otherwise
    (as CONTRIBUTING.md says); the data's own arrays stay int64."""
    data = d2l.FashionMNIST(batch_size=8)
    _, y = next(data.train_dataloader())
    assert as_numpy(y).dtype == (np.int32 if framework == "jax" else np.int64)
    assert data.train_y.dtype == np.int64


def test_validation_split_is_held_out_from_training(d2l, framework, monkeypatch):
    monkeypatch.delenv("D2L_BN_SMOKE", raising=False)
    data = d2l.FashionMNIST(batch_size=128, evaluate_on="validation")
    assert (data.num_train, data.num_val) == (50000, 10000)
    raw = data_module.load_arrays()
    squeeze = (lambda X: X[..., 0]) if framework in CHANNELS_LAST else (lambda X: X[:, 0])
    np.testing.assert_array_equal(squeeze(data.val_X),
                                  raw.train_images[50000:].astype(np.float32) / 255.0)
    np.testing.assert_array_equal(data.val_y, raw.train_labels[50000:])
    assert "validation=10000" in repr(data)


def test_summary_names_the_evaluation_split(framework, d2l, smoke, capsys):
    for split, name, other in [("validation", "valid", "test"), ("test", "test", "valid")]:
        d2l.set_seed(0)
        data = d2l.FashionMNIST(batch_size=256, evaluate_on=split)
        model, _ = tiny_model(framework, d2l, lr=0.1, with_bn=False)
        trainer = d2l.Trainer(max_epochs=1, board=False)
        result = trainer.fit(model, data)
        label = f"{name} acc"
        assert label in result.summary() and label in capsys.readouterr().out
        assert getattr(result, f"{name}_acc") == result.eval_acc
        assert trainer.history[-1][f"{name}_acc"] == result.eval_acc
        with pytest.raises(ValueError, match=f"evaluated on the {split} images"):
            getattr(result, f"{other}_acc")


def test_train_size_keeps_the_first_images(framework, d2l):
    data = d2l.FashionMNIST(batch_size=128, evaluate_on="validation", train_size=256)
    assert data.num_train == 256 and data.num_train_batches == 2
    with pytest.raises(ValueError, match="train_size=60,000 is more than the 50,000"):
        d2l.FashionMNIST(batch_size=128, evaluate_on="validation", train_size=60_000)


def in_training_mode(framework, model) -> bool | None:
    """Where the mode is kept on the model (PyTorch; JAX: the use_running_average of its
    BN layers), whether it is training mode."""
    if framework == "pytorch":
        return model.training
    if framework == "jax":
        from flax import nnx
        flags = {m.use_running_average for _, m in nnx.iter_graph(model)
                 if isinstance(m, nnx.BatchNorm)}
        assert len(flags) == 1  # every BN layer in the same mode
        return not flags.pop()
    return None


def test_interrupted_fit_leaves_prediction_mode_and_no_stale_result(framework, d2l, smoke):
    d2l.set_seed(0)
    data = d2l.FashionMNIST(batch_size=64)
    model, _ = tiny_model(framework, d2l, lr=0.1, with_bn=True)
    trainer = d2l.Trainer(max_epochs=1, board=False, verbose=False)
    assert trainer.fit(model, data) is trainer.result  # an earlier, finished run
    calls = 0
    real_step = trainer.train_step

    def interrupted_step(*args):
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt  # Ctrl-C in the middle of an epoch
        real_step(*args)

    trainer.train_step = interrupted_step
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(model, data)
    assert trainer.result is None and trainer.history == []
    assert in_training_mode(framework, model) in (False, None)


def test_after_fit_the_model_is_in_prediction_mode(framework, d2l, smoke):
    model, _ = tiny_model(framework, d2l, lr=0.1, with_bn=True)
    d2l.Trainer(max_epochs=1, board=False, verbose=False).fit(
        model, d2l.FashionMNIST(batch_size=128))
    assert in_training_mode(framework, model) in (False, None)


class ScriptedTrainer(loop.TrainerBase):
    """The loop alone, fed a scripted sequence of window losses (no framework)."""

    def __init__(self, losses):
        super().__init__(max_epochs=2, board=False, verbose=False)
        self.losses = iter(losses)

    def build(self, model, data):
        return 10

    def prepare_steps(self, model, data):
        pass

    def train_step(self, model, X, y):
        pass

    def pop_train_sums(self):
        return next(self.losses, 0.5) * 16, 8.0  # batches of 16 (see below)

    def eval_step(self, model, X, y):
        return 0.5, 1.0

    def set_prediction_mode(self, model):
        pass

    def device_name(self):
        return "nowhere"


class Model:
    lr = 0.1


def test_finite_exploding_loss_counts_as_divergence(smoke):
    data = data_module.FashionMNISTBase.__new__(data_module.FashionMNISTBase)
    data.batch_size = 16
    data.evaluate_on = "test"
    data.train_X, data.train_y = np.zeros((64, 1, 1, 1), np.float32), np.zeros(64, np.int64)
    data.val_X, data.val_y = data.train_X[:16], data.train_y[:16]
    data.to_tensor = lambda a: a
    # the first window is pop()ed once before the epoch starts (a reset), hence 0.0
    trainer = ScriptedTrainer([0.0, 2.0, 22.9, 3.0, 2.0])
    assert not trainer.fit(Model(), data).diverged  # 22.9 < 10 ln 10 = 23.03
    trainer = ScriptedTrainer([0.0, 2.0, 3e6])
    result = trainer.fit(Model(), data)
    assert result.diverged and "was 3e+06, above 23.0" in result.message
    assert result.epochs == 0 and trainer.history == []


@pytest.mark.parametrize("framework", ["jax"])  # its environment's pass runs it
def test_jax_learning_rate_is_passed_in_and_the_step_cache_is_bounded(framework, smoke):
    """Models that differ only in their learning rate share one compiled step, which
    takes the rate as an argument; the model keeps its own ``lr``; the cache of compiled
    steps (one entry per model structure) is bounded."""
    from d2l_bn import jax as d2l

    d2l._steps.cache_clear()
    data = d2l.FashionMNIST(batch_size=256)
    results = {}
    for lr in (0.1, 1e6):
        d2l.set_seed(0)
        model, _ = tiny_model(framework, d2l, lr=lr, with_bn=False)
        results[lr] = d2l.Trainer(max_epochs=1, board=False, verbose=False).fit(model, data)
        assert model.lr == lr and type(model.lr) is float
    assert d2l._steps.cache_info().currsize == 1
    assert not results[0.1].diverged and results[1e6].diverged
    assert d2l._steps.cache_info().maxsize is not None
