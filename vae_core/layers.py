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


# ---- convolutions computed the way the CPU runs them fastest (same weights, same state-dict keys) ------------
class Conv1d(nn.Conv1d):
    """nn.Conv1d run as a 2-D convolution over a (B, C, 1, T) channels-last view. Sensor windows are stored
    time-major (B, T, C), which is that layout already: oneDNN's channels-last kernel reads them in place instead
    of copying the transposed window, and its output stays time-major for the next layer (~1.5x per layer)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(_channels_last(x), self.weight.unsqueeze(2), self.bias, (1, self.stride[0]),
                        (0, self.padding[0]), (1, self.dilation[0]), self.groups).squeeze(2)


class ConvTranspose1d(nn.ConvTranspose1d):
    """nn.ConvTranspose1d run as a 2-D one over a (B, C, 1, T) channels-last view (see Conv1d)."""

    def forward(self, x: Tensor, output_size: list[int] | None = None) -> Tensor:
        return F.conv_transpose2d(_channels_last(x), self.weight.unsqueeze(2), self.bias, (1, self.stride[0]),
                                  (0, self.padding[0]), (0, self.output_padding[0]), self.groups,
                                  (1, self.dilation[0])).squeeze(2)


def _channels_last(x: Tensor) -> Tensor:
    """(B, C, T) -> (B, C, 1, T) in channels-last memory (no copy when x is a time-major window's transpose)."""
    return x.unsqueeze(2).contiguous(memory_format=torch.channels_last)


class Conv2dChannelsLast(nn.Conv2d):
    """nn.Conv2d that reads its input in channels-last memory: oneDNN runs an image's first layer (1 -> 32
    channels) ~2x faster so, and the next conv on its channels-last output ~7 % faster."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.contiguous(memory_format=torch.channels_last))


class ConvTranspose2dToFew(nn.ConvTranspose2d):
    """nn.ConvTranspose2d to an image's few channels (the decoder's last layer). On the CPU oneDNN takes ~2.4x
    longer for 32 -> 1 channels than PyTorch's im2col kernel, so that one runs it there (elsewhere: the default)."""

    def forward(self, x: Tensor, output_size: list[int] | None = None) -> Tensor:
        if not x.is_cpu or output_size is not None:
            return super().forward(x, output_size)
        return torch._C._nn.slow_conv_transpose2d(x.contiguous(), self.weight, self.kernel_size, self.bias,
                                                  self.stride, self.padding, self.output_padding, self.dilation)
