"""From windows back to time steps: every step of the recording gets a score.

The rule: a step's score is the mean of the scores of all windows that cover it (a window starting at s
covers steps s .. s + window - 1). Sums are built with one weighted bincount over the window starts and
ends and a cumulative sum, so the cost is O(windows + steps) whatever the stride; no loop per window.
"""
from __future__ import annotations

import numpy as np

STEP_RULE = ("each time step's score is the mean of the errors of all windows that cover it "
             "(windows of {window} steps starting {every}, plus one flush with the end)")


def step_rule(window: int, stride: int) -> str:
    """STEP_RULE in words for one window length and stride ('at every step' or 'every 4 steps')."""
    return STEP_RULE.format(window=window, every="at every step" if stride == 1 else f"every {stride} steps")


def cover_starts(length: int, window: int, stride: int = 1) -> np.ndarray:
    """Window starts (N,) every `stride` steps plus one flush with the end, so every step is covered."""
    if length < window:
        return np.zeros(0, dtype=np.int64)
    starts = np.arange(0, length - window + 1, stride, dtype=np.int64)
    return starts if starts[-1] == length - window else np.append(starts, length - window)


def _covering_sums(weights: np.ndarray, starts: np.ndarray, window: int, length: int) -> np.ndarray:
    """Sum over the windows covering each step: +w at the start, -w one past the end, then a running sum."""
    at = np.concatenate([starts, starts + window])
    both = np.concatenate([weights, -weights])
    return np.cumsum(np.bincount(at, weights=both, minlength=length + 1)[:length])


def _covering_sums_sorted(weights: np.ndarray, starts: np.ndarray, window: int, length: int) -> np.ndarray:
    """The same for strictly increasing starts, all channels at once: each index is hit once, so plain
    indexing adds (no bincount per channel); (N, C) -> (L, C)."""
    delta = np.zeros((length + 1, weights.shape[1]))
    delta[starts] += weights
    delta[starts + window] -= weights
    return np.cumsum(delta[:length], axis=0)


def windows_to_steps(window_scores: np.ndarray, starts: np.ndarray, window: int, length: int) -> np.ndarray:
    """Window scores (N,) or (N, C) -> step scores (L,) or (L, C): mean of the covering windows, NaN if none."""
    scores = np.asarray(window_scores, dtype=np.float64)
    starts = np.asarray(starts, dtype=np.int64)
    counts = _covering_sums(np.ones(len(starts)), starts, window, length)
    with np.errstate(invalid="ignore", divide="ignore"):
        if scores.ndim == 1:
            return np.where(counts > 0, _covering_sums(scores, starts, window, length) / counts, np.nan)
        if len(starts) and (np.diff(starts) > 0).all():
            out = _covering_sums_sorted(scores, starts, window, length) / counts[:, None]
        else:
            out = np.column_stack([_covering_sums(scores[:, c], starts, window, length) / counts
                                   for c in range(scores.shape[1])])
        out[counts == 0] = np.nan
        return out


def overlap_average(window_values: np.ndarray, starts: np.ndarray, first: int, stop: int) -> np.ndarray:
    """Per-position window values (N, T, C) -> each step's mean over the windows holding it: (stop - first, C)."""
    n, window, channels = window_values.shape
    steps = (np.asarray(starts)[:, None] + np.arange(window)[None, :]).ravel() - first  # (N*T,)
    inside = (steps >= 0) & (steps < stop - first)
    sums = np.zeros((stop - first, channels))
    np.add.at(sums, steps[inside], window_values.reshape(n * window, channels)[inside])
    counts = np.bincount(steps[inside], minlength=stop - first)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def binned(step_values: np.ndarray, n_bins: int = 1000, how: str = "max") -> tuple[np.ndarray, np.ndarray]:
    """Step values (L,) or (L, C) -> per-bin max or mean (B,) or (B, C), and each bin's first step (B,).

    For a channel x time heat map of a long recording: a screen shows ~1,000 columns, and max keeps short spikes.
    """
    values = np.asarray(step_values, dtype=np.float64)
    length = len(values)
    edges = np.unique(np.linspace(0, length, min(n_bins, length) + 1).astype(np.int64))[:-1]
    if how == "max":
        return np.maximum.reduceat(values, edges, axis=0), edges
    sums = np.add.reduceat(values, edges, axis=0)
    sizes = np.diff(np.append(edges, length)).reshape(-1, *([1] * (values.ndim - 1)))
    return sums / sizes, edges


def channel_time_matrix(step_channel_scores: np.ndarray, n_bins: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Per-step per-channel errors (L, C) -> heat map (C, B) of each bin's max, and the bins' first steps (B,)."""
    values, edges = binned(step_channel_scores, n_bins, "max")
    return values.T, edges
