"""Building blocks every member of the VAE family shares: the activation and normalisation a config names, and
the label input of a conditional model. Sizes come from the caller; nothing here draws random numbers."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import ModelConfig

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "tanh": nn.Tanh,
                                           "gelu": nn.GELU}


def activation(cfg: ModelConfig) -> nn.Module:
    """The nonlinearity `cfg.activation` names (PyTorch's defaults: LeakyReLU's slope is 0.01)."""
    return ACTIVATIONS[cfg.activation]()


class _SafeForOneSample:
    """Batch norm that normalises a batch of one sample with the running statistics instead of failing (a last
    batch of one is common: 1 in batch_size of all training-part sizes)."""

    def forward(self, x: Tensor) -> Tensor:
        if self.training and x.shape[0] == 1:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)
        return super().forward(x)


class BatchNorm1d(_SafeForOneSample, nn.BatchNorm1d):
    """nn.BatchNorm1d over (B, F) or (B, C, T) that accepts a batch of one."""


class BatchNorm2d(_SafeForOneSample, nn.BatchNorm2d):
    """nn.BatchNorm2d over (B, C, H, W) that accepts a batch of one."""


def norm(cfg: ModelConfig, size: int, spatial: int = 0) -> list[nn.Module]:
    """The normalisation `cfg.norm` names for `size` features (spatial 0) or channels of a 1-D or 2-D map.

    Layer norm on a map normalises each sample over its channels and positions (GroupNorm with one group), with a
    scale and shift per channel, as batch norm has. None: no layer at all (the model is what it was without it).
    """
    if cfg.norm == "batch":
        return [BatchNorm2d(size) if spatial == 2 else BatchNorm1d(size)]
    if cfg.norm == "layer":
        return [nn.LayerNorm(size) if spatial == 0 else nn.GroupNorm(1, size)]
    return []


def norm_parameters(cfg: ModelConfig, size: int) -> int:
    """Weights `norm(cfg, size, ...)` adds: a scale and a shift per feature or channel."""
    return 0 if cfg.norm == "none" else 2 * size


def with_label(h: Tensor, y: Tensor | None, classes: int) -> Tensor:
    """(B, F) features with the label appended as a one-hot (B, classes): (B, F + classes).

    y holds class indices (B,) or class weights (B, classes) (a blend of labels, e.g. on an interpolation path).
    Models that are not conditional (classes 0) get h back unchanged.
    """
    if not classes:
        return h
    if y is None:
        raise ValueError("this conditional model needs the label of each input (y)")
    y = y.to(h.device)
    label = F.one_hot(y.long(), classes).to(h.dtype) if y.dim() == 1 else y.to(h.dtype)
    return torch.cat([h, label], 1)
