"""Augmentation of sensor windows (Um et al. 2017): new training windows from old ones, for short recordings.

Applied to each training batch only (never to validation or test windows), every random draw taken from the
generator it is given (the run's data generator, training.RunRandom.data), so a run with augmentation repeats
bit for bit from its seed, and a run without it draws nothing and is unchanged. Sizes are in the scaled units
the model sees (z-scores for the bundled recordings).
"""
from __future__ import annotations

import torch
from torch import Tensor

from .config import AUGMENTATIONS

METHODS = AUGMENTATIONS  # declared with the setting (config.TrainConfig.augment)
JITTER_SD = 0.05  # noise, in scaled units (a z-scored channel has sd 1)
SCALE_SD = 0.1  # factor ~ N(1, 0.1) per window and channel
WARP_SD = 0.2  # local speed ~ N(1, 0.2) at WARP_KNOTS points, smoothly in between
WARP_KNOTS = 4
SHIFT_SHARE = 0.1  # at most this share of the window's length, either way


def augment(x: Tensor, methods: tuple[str, ...], generator: torch.Generator) -> Tensor:
    """Windows x (B, T, C) -> augmented copies (B, T, C), each method in METHODS order; draws only from `generator`."""
    if not methods:
        return x
    out = x
    for name in METHODS:
        if name in methods:
            out = _APPLY[name](out, generator)
    return out


def _draw(shape: tuple[int, ...], generator: torch.Generator, like: Tensor, normal: bool = True) -> Tensor:
    """Draws on the generator's device (the CPU), moved to the batch's device and dtype."""
    draw = torch.randn if normal else torch.rand
    return draw(shape, generator=generator, device=generator.device).to(device=like.device, dtype=like.dtype)


def _jitter(x: Tensor, g: torch.Generator) -> Tensor:
    return x + JITTER_SD * _draw(tuple(x.shape), g, x)


def _scale(x: Tensor, g: torch.Generator) -> Tensor:
    return x * (1.0 + SCALE_SD * _draw((x.shape[0], 1, x.shape[2]), g, x))


def _resample(x: Tensor, positions: Tensor) -> Tensor:
    """x (B, T, C) read at fractional time positions (B, T), linearly between steps."""
    t = x.shape[1]
    positions = positions.clamp(0, t - 1)
    left = positions.floor().long().clamp(max=t - 2) if t > 1 else positions.floor().long()
    right = (left + 1).clamp(max=t - 1)
    frac = (positions - left.to(positions.dtype)).unsqueeze(-1)
    index = lambda i: i.unsqueeze(-1).expand(-1, -1, x.shape[2])  # noqa: E731
    return x.gather(1, index(left)) * (1 - frac) + x.gather(1, index(right)) * frac


def _warp(x: Tensor, g: torch.Generator) -> Tensor:
    b, t, _ = x.shape
    if t < 2:
        return x
    knots = (1.0 + WARP_SD * _draw((b, 1, WARP_KNOTS), g, x)).clamp(min=0.2)  # speeds, kept positive
    speed = torch.nn.functional.interpolate(knots, size=t, mode="linear", align_corners=True)[:, 0]  # (B, T)
    clock = torch.cumsum(speed, dim=1) - speed[:, :1]
    positions = clock / clock[:, -1:].clamp(min=1e-6) * (t - 1)  # a monotone map of [0, T-1] onto itself
    return _resample(x, positions)


def _shift(x: Tensor, g: torch.Generator) -> Tensor:
    b, t, _ = x.shape
    most = int(SHIFT_SHARE * t)
    if most < 1:
        return x
    steps = (_draw((b, 1), g, x, normal=False) * (2 * most + 1)).floor() - most  # whole steps in [-most, most]
    positions = torch.arange(t, device=x.device, dtype=x.dtype).unsqueeze(0) + steps
    return _resample(x, positions)  # the edge value repeats where the shifted window runs out


_APPLY = {"jitter": _jitter, "scale": _scale, "warp": _warp, "shift": _shift}
