"""Trainer, data loaders, modes and smoke mode, in every framework (real data, smoke subset)."""

from __future__ import annotations

import math

import numpy as np

from d2l_bn.board import ProgressBoard


def tiny_model(framework: str, d2l, lr: float, with_bn: bool):
    """A small MLP (optionally with a built-in BN layer); returns (model, moving-mean getter)."""
    if framework == "pytorch":
        from torch import nn
        layers = [nn.Flatten(), nn.Linear(784, 32)]
        bn = nn.BatchNorm1d(32)
        layers += [bn] if with_bn else []
        net = nn.Sequential(*layers, nn.ReLU(), nn.Linear(32, 10))
        get = lambda: bn.running_mean.detach().cpu().numpy().copy()
    elif framework == "tensorflow":
        import keras
        bn = keras.layers.BatchNormalization()
        net = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(32)]
                               + ([bn] if with_bn else [])
                               + [keras.layers.ReLU(), keras.layers.Dense(10)])
        get = lambda: bn.moving_mean.numpy().copy()
    else:
        from mxnet.gluon import nn
        bn = nn.BatchNorm()
        net = nn.Sequential()
        net.add(nn.Dense(32))
        if with_bn:
            net.add(bn)
        net.add(nn.Activation("relu"), nn.Dense(10))
        get = lambda: bn.running_mean.data().asnumpy().copy()

    class Tiny(d2l.Classifier):
        def __init__(self):
            super().__init__(lr)
            self.net = net

    return Tiny(), get


def as_numpy(tensor) -> np.ndarray:
    """A framework tensor as a numpy array (MXNet NDArrays need .asnumpy())."""
    return np.asarray(tensor.asnumpy() if hasattr(tensor, "asnumpy") else tensor)


def test_loaders_layout_types_and_shuffling(framework, d2l, smoke):
    data = d2l.FashionMNIST(batch_size=100)
    assert (data.num_train, data.num_val) == (1024, 512)
    X, y = next(iter(data.train_dataloader()))
    expected = (100, 28, 28, 1) if framework == "tensorflow" else (100, 1, 28, 28)
    assert tuple(X.shape) == expected and tuple(y.shape) == (100,)
    X = as_numpy(X)
    assert X.dtype == np.float32 and 0.0 <= X.min() and X.max() <= 1.0
    first = [as_numpy(y) for _, y in data.train_dataloader()]
    second = [as_numpy(y) for _, y in data.train_dataloader()]
    assert sum(len(b) for b in first) == 1024 and len(first[-1]) == 24
    assert not np.array_equal(np.concatenate(first), np.concatenate(second))
    val1 = [as_numpy(y) for _, y in data.val_dataloader()]
    assert sum(len(b) for b in val1) == 512
    assert data.text_labels([0, 9]) == ["t-shirt", "ankle boot"]


def test_pytorch_batches_are_not_mistaken_for_channels_last(smoke):
    """A (N, 1, H, W) batch from ``X[idx]`` has a channel stride of 1, which PyTorch reads
    as channels-last and answers with much slower batch-norm kernels (see d2l_bn.data.gather)."""
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


def test_resize_gives_requested_size(framework, d2l, smoke):
    data = d2l.FashionMNIST(batch_size=8, resize=(32, 32))
    X, _ = next(iter(data.val_dataloader()))
    assert tuple(X.shape) == ((8, 32, 32, 1) if framework == "tensorflow" else (8, 1, 32, 32))


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
    assert result.val_acc > 0.5 and not result.diverged
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
    X, y = next(iter(data.train_dataloader()))
    trainer.train_step(model, X, y)
    after_step = moving_mean()
    assert np.abs(after_step - before).max() > 1e-4
    trainer._validate(model, data)
    np.testing.assert_array_equal(moving_mean(), after_step)


def test_divergence_stops_the_run_cleanly(framework, d2l, smoke, capsys):
    d2l.set_seed(0)
    data = d2l.FashionMNIST(batch_size=64)
    model, _ = tiny_model(framework, d2l, lr=1e38, with_bn=False)
    result = d2l.Trainer(max_epochs=3).fit(model, data)
    assert result.diverged and "diverged" in result.message
    assert result.epochs == 0 and math.isnan(result.val_acc)
    assert "learning rate" in capsys.readouterr().out


def test_board_renders_headless(tmp_path):
    board = ProgressBoard(title="t", live=False)
    for x in range(1, 4):
        board.draw(x, 1 / x, "train_loss")
        board.draw(x, 0.5 + x / 10, "val_acc")
    path = tmp_path / "curves.png"
    board.save(path)
    assert path.stat().st_size > 5000


def weights(framework, model):
    if framework == "pytorch":
        return [t.detach().numpy().copy() for t in model.state_dict().values()]
    if framework == "tensorflow":
        return [v.numpy().copy() for v in model.variables]
    return [p.data().asnumpy().copy() for p in model.collect_params().values()]


def test_prepare_leaves_an_initialized_model_unchanged(framework, d2l, smoke):
    """prepare() may build, trace and warm up, but must not train (TensorFlow undoes its
    warm-up step), nor re-initialize a model that was already initialized."""
    d2l.set_seed(0)
    data = d2l.FashionMNIST(batch_size=64)
    model, _ = tiny_model(framework, d2l, lr=0.5, with_bn=True)
    d2l.Trainer(max_epochs=1).prepare(model, data)
    before = weights(framework, model)
    d2l.Trainer(max_epochs=1).prepare(model, data)
    for old, new in zip(before, weights(framework, model), strict=True):
        np.testing.assert_array_equal(old, new)
