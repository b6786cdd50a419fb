"""Slow end-to-end check: the chapter's LeNet-BN, one full epoch on the real data, per framework."""

from __future__ import annotations

import pytest

from book.definitions import load_definitions as load


@pytest.mark.slow
def test_lenet_bn_learns_in_one_epoch(framework, d2l, monkeypatch, record_property):
    monkeypatch.delenv("D2L_BN_SMOKE", raising=False)  # the real thing, whatever the caller set
    chapter = load(framework)
    d2l.set_seed(42)
    data = d2l.FashionMNIST(batch_size=128)
    assert data.num_train == 60000
    result = d2l.Trainer(max_epochs=1, board=False).fit(chapter.LeNetBN(lr=0.1), data)
    record_property("examples_per_sec", result.examples_per_sec)
    print(f"\n{framework}: {result.summary()}")
    assert not result.diverged
    assert result.test_acc > 0.75, result.summary()
