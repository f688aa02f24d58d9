"""Advice before training on a short sensor recording, in plain sentences with numbers.

A VAE trained on about a hundred windows, a few weight updates each epoch, tends to collapse (the decoder
learns the average window and ignores z). The advice says how many windows and updates the current
settings give, and which stride, window or epochs would give enough.
"""
from __future__ import annotations

import math

import numpy as np

from .analysis import MIN_STEPS
from .dataset import Dataset

# Heuristics, not measured limits: the bundled recordings stayed healthy down to ~60 windows, but users' short
# recordings collapsed near 100 windows (issue 12). Updates: as many as the collapse verdict needs to judge.
MIN_TRAIN_WINDOWS = 150  # fewer training windows than this: suggest a smaller stride or window
MIN_UPDATES = MIN_STEPS  # fewer weight updates in all than this: suggest more epochs or a smaller batch


def _windows(steps: int, window: int, stride: int) -> int:
    return max(0, (steps - window) // stride + 1)


def _stride_of(data: Dataset) -> int:
    starts = data.window_starts[data.split == 0]
    steps = np.diff(starts)
    return int(steps[steps > 0].min()) if (steps > 0).any() else 1


def short_recording_advice(data: Dataset, epochs: int, batch_size: int, min_windows: int = MIN_TRAIN_WINDOWS,
                           min_updates: int = MIN_UPDATES) -> list[str]:
    """Sentences of advice when a sensor recording gives too few training windows or updates ([] when fine)."""
    if data.kind != "sensor" or data.window_starts is None:
        return []
    advice = window_advice(data, min_windows)
    n_train = int((data.split == 0).sum())
    per_epoch = math.ceil(n_train / batch_size) if n_train else 0
    if per_epoch and epochs * per_epoch < min_updates:
        need = math.ceil(min_updates / per_epoch)
        advice.append(f"{epochs} epochs at batch size {batch_size} make {epochs * per_epoch} weight updates in all "
                      f"({per_epoch} per epoch); about {need} epochs, or a smaller batch size, give at least "
                      f"{min_updates}, so the model can learn more than the average window.")
    return advice


def window_advice(data: Dataset, min_windows: int = MIN_TRAIN_WINDOWS) -> list[str]:
    """Sentences when a sensor recording gives fewer than min_windows training windows, with the stride or window
    that would give enough ([] when it gives enough, or for other data)."""
    if data.kind != "sensor" or data.window_starts is None:
        return []
    n_train = int((data.split == 0).sum())
    window, stride = int(data.input_shape[0]), _stride_of(data)
    steps = int((data.step_parts() == 0).sum())
    advice = []
    if n_train < min_windows:
        advice.append(f"Only {n_train} training windows (a train part of {steps:,} steps cut into windows of {window} "
                      f"steps every {stride}): a VAE tends to collapse on fewer than {min_windows}.")
        better = next((s for s in range(stride - 1, 0, -1) if _windows(steps, window, s) >= min_windows), None)
        if better:
            advice.append(f"A stride of {better} gives {_windows(steps, window, better)} training windows "
                          "(overlapping windows are fine: each one is a new view of the signal).")
        elif stride > 1:
            advice.append(f"Even a stride of 1 gives only {_windows(steps, window, 1)} training windows.")
        smaller = max(8, window // 2)
        if smaller < window:
            s = better or 1
            advice.append(f"A window of {smaller} steps with stride {s} gives {_windows(steps, smaller, s)} training "
                          "windows, each seeing half the context.")
    return advice
