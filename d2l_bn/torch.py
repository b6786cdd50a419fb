"""PyTorch backend: ``from d2l_bn import torch as d2l``."""

from __future__ import annotations

import random

import numpy as np

from . import framework_imports
from .data import DatasetError, FashionMNISTBase
from .loop import FitResult, TrainerBase
from .plots import ProgressBoard, show
from .settings import smoke_mode

with framework_imports("torch"):
    import torch
    from torch import nn
    from torch.nn import functional as F

__all__ = ["Classifier", "DatasetError", "FashionMNIST", "FitResult", "ProgressBoard",
           "Trainer", "init_cnn", "set_seed", "show", "smoke_mode", "try_gpu"]


def set_seed(seed: int) -> None:
    """Seed Python, numpy (which shuffles the data) and PyTorch."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def try_gpu(i: int = 0) -> torch.device:
    """GPU ``i`` if it exists, else the CPU."""
    return torch.device(f"cuda:{i}") if torch.cuda.device_count() > i else torch.device("cpu")


class FashionMNIST(FashionMNISTBase):
    """Fashion-MNIST minibatches as PyTorch tensors: images (N, 1, H, W), labels int64."""

    channels_last = False

    def to_tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(array)


def init_cnn(model: nn.Module) -> None:
    """Xavier-uniform weights and zero biases for every convolution and dense layer.

    Lazy layers get their weights on the first forward pass, so run one batch through
    the model first (``Trainer.fit`` does); before that this raises a ValueError.
    """
    if any(isinstance(p, nn.parameter.UninitializedParameter) for p in model.parameters()):
        raise ValueError("init_cnn: the model has lazy layers whose weights do not exist "
                         "yet; run one batch through it first (Trainer.fit does this).")
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)


class Classifier(nn.Module):
    """Base for classification models: subclasses set ``self.net`` (or override forward)."""

    def __init__(self, lr: float = 0.1):
        super().__init__()
        self.lr = lr

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.net(X)

    def cross_entropy(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The loss: mean softmax cross-entropy of logits ``y_hat`` against labels ``y``."""
        return F.cross_entropy(y_hat, y)

    def accuracy(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Fraction of rows whose largest logit is the true label."""
        return (y_hat.argmax(dim=1) == y).float().mean()

    def training_step(self, X: torch.Tensor, y: torch.Tensor):
        """(loss, accuracy) on a batch; the caller has put the model in training mode."""
        y_hat = self(X)
        return self.cross_entropy(y_hat, y), self.accuracy(y_hat, y)

    def validation_step(self, X: torch.Tensor, y: torch.Tensor):
        """(loss, accuracy) on a batch, without gradients; the caller has put the model
        in prediction mode (``model.eval()``)."""
        with torch.no_grad():
            return self.training_step(X, y)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.lr)


class Trainer(TrainerBase):
    """Plain minibatch SGD; ``model.train()`` for steps, ``model.eval()`` for validation."""

    def build(self, model: Classifier, data: FashionMNIST) -> int:
        self.device = try_gpu()
        model.to(self.device)
        X, _ = next(data.val_dataloader())
        model.eval()
        with torch.no_grad():  # creates the weights of lazy layers, changes nothing else
            outputs = model(X[:2].to(self.device)).shape[-1]
        if not getattr(model, "_d2l_initialized", False):
            init_cnn(model)
            model._d2l_initialized = True
        return int(outputs)

    def prepare_steps(self, model: Classifier, data: FashionMNIST) -> None:
        self.optimizer = model.configure_optimizers()
        self._sums = torch.zeros(2, device=self.device)  # summed loss, correct count

    def train_step(self, model, X, y):
        model.train()
        loss, acc = model.training_step(X.to(self.device), y.to(self.device))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        with torch.no_grad():  # stays on the device: no wait for the step to finish
            self._sums += torch.stack((loss.detach(), acc)) * len(y)

    def pop_train_sums(self):
        loss_sum, correct = self._sums.tolist()
        self._sums.zero_()
        return loss_sum, correct

    def eval_step(self, model, X, y):
        model.eval()
        loss, acc = model.validation_step(X.to(self.device), y.to(self.device))
        return loss.item(), acc.item() * len(y)

    def set_prediction_mode(self, model):
        model.eval()

    def device_name(self) -> str:
        return str(self.device)
