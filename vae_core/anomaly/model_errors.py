"""What the VAE gets wrong where: per-window, per-channel reconstruction errors over the whole recording.

Noise-free scoring: each window is encoded to its latent mean and decoded once (no sampling), in eval mode
without gradients, in batches. Windows are cut lazily from the scaled series (a strided view), so scoring
a million windows never holds them all in memory.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..analysis import inference
from ..dataset import DataError, Dataset
from ..losses import recon_nll, reconstruction_mean
from ..models import VAE
from .steps import cover_starts, overlap_average

Progress = Callable[[float], bool]  # progress(fraction done) -> True when the caller wants it to stop


class ScoringStopped(Exception):
    """The caller asked scoring to stop (its progress callback returned True)."""


@dataclass(frozen=True)
class WindowErrors:
    """Reconstruction error of each window, split by channel, in the model's loss units (nats)."""

    starts: np.ndarray  # (N,) first step of each window in the series
    errors: np.ndarray  # (N, C) -log p(x|z) of each channel, summed over the window's steps
    window: int  # steps per window

    @property
    def total(self) -> np.ndarray:
        """Whole-window error (N,): the sum over channels (what analysis.reconstruction_errors gives)."""
        return self.errors.sum(axis=1)


def _sensor_series(data: Dataset) -> np.ndarray:
    if data.kind != "sensor" or data.series is None:
        raise DataError(f"'{data.name}' is not one sensor recording (no series over time): anomaly scores over time "
                        "need a sensor CSV or a bundled recording such as 'bleeding'")
    return data.series


def _windows(view: np.ndarray, starts: np.ndarray, device: torch.device) -> torch.Tensor:
    """Windows (B, T, C) from a strided view (L-T+1, C, T) of the series."""
    return torch.from_numpy(np.ascontiguousarray(view[starts].transpose(0, 2, 1))).to(device)


def window_channel_errors(model: VAE, data: Dataset, stride: int = 1, batch_size: int = 1024,
                          bfloat16: bool = False, progress: Progress | None = None) -> WindowErrors:
    """Errors (N, C) of windows every `stride` steps over the whole scaled series (L, C), at the latent mean.

    bfloat16=True runs the network under bfloat16 autocast (about 2x faster on CPUs with AMX/AVX-512 BF16;
    reconstructions differ by ~1e-3 in scaled units); the errors themselves are summed in float32.
    progress(fraction) is called after each batch; ScoringStopped is raised when it returns True.
    """
    series = _sensor_series(data)
    window = int(model.cfg.input_shape[0])
    starts = cover_starts(len(series), window, stride)
    view = np.lib.stride_tricks.sliding_window_view(series, window, axis=0)
    errors = np.empty((len(starts), series.shape[1]), dtype=np.float64)
    loss, delta = model.cfg.loss, model.cfg.huber_delta
    with inference(model) as device:
        for i in range(0, len(starts), batch_size):
            x = _windows(view, starts[i:i + batch_size], device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bfloat16):
                params = model.decode(model.encode(x)[0], x=x).float()  # an autoregressive decoder: teacher-forced
            b, t, c = x.shape
            # every loss is elementwise, so summing one channel's steps gives that channel's share
            per_channel = recon_nll(params.transpose(1, 2).reshape(b * c, t), x.transpose(1, 2).reshape(b * c, t),
                                    loss, delta)
            errors[i:i + b] = per_channel.reshape(b, c).cpu().numpy()
            if progress is not None and progress((i + b) / len(starts)):
                raise ScoringStopped("scoring was stopped")
    return WindowErrors(starts, errors, window)


def reconstruct_span(model: VAE, data: Dataset, first: int, stop: int, stride: int = 1) -> np.ndarray:
    """The model's reconstruction of steps first..stop-1 (stop - first, C), scaled units: each step's mean over
    the windows (every `stride`) that hold it. Undo the scaling with data.scaling.undo for raw units."""
    series = _sensor_series(data)
    window = int(model.cfg.input_shape[0])
    first, stop = max(0, int(first)), min(len(series), int(stop))
    starts = cover_starts(len(series), window, stride)
    starts = starts[(starts + window > first) & (starts < stop)]
    view = np.lib.stride_tricks.sliding_window_view(series, window, axis=0)
    with inference(model) as device:
        x = _windows(view, starts, device)
        recon = reconstruction_mean(model.decode(model.encode(x)[0], x=x), model.cfg.loss).cpu().numpy()  # as scored
    return overlap_average(recon, starts, first, stop)
