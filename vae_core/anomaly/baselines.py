"""Simple detectors scored on the same steps as the VAE, to say whether the VAE earns its keep.

Each returns one score per time step (L,) of the scaled series (L, C); higher means more anomalous.
Window-based ones (PCA, Isolation Forest) learn from the model's own training windows (normal behaviour)
and map window scores to steps with the same rule as the VAE (steps.windows_to_steps).
"""
from __future__ import annotations

import numpy as np

from ..dataset import Dataset
from .steps import cover_starts, windows_to_steps

BASELINES = ("random", "zscore", "pca", "iforest")
BASELINE_NAMES = {"random": "random score (seeded)", "zscore": "rolling z-score", "pca": "PCA reconstruction error",
                  "iforest": "Isolation Forest"}
MAX_FIT_WINDOWS = 20_000  # PCA and Isolation Forest learn from at most this many training windows
_CHUNK = 8192


def random_scores(length: int, seed: int = 0) -> np.ndarray:
    """Uniform random scores (L,), seeded: what any detector must beat."""
    return np.random.default_rng(seed).random(length)


def rolling_zscore(series: np.ndarray, window: int) -> np.ndarray:
    """max over channels of |x_t - mean| / std of the `window` steps before t (trailing, causal): (L, C) -> (L,)."""
    x = np.asarray(series, dtype=np.float64)
    zeros = np.zeros((1, x.shape[1]))
    s1, s2 = np.concatenate([zeros, np.cumsum(x, 0)]), np.concatenate([zeros, np.cumsum(x * x, 0)])
    t = np.arange(len(x))
    begin = np.maximum(t - window, 0)
    n = np.maximum(t - begin, 1)[:, None]  # steps in the trailing window
    mean = (s1[t] - s1[begin]) / n
    var = np.maximum((s2[t] - s2[begin]) / n - mean ** 2, 0.0)
    floor = 1e-3 * np.maximum(x.std(0), 1e-12)  # a flat stretch must not divide by zero
    z = np.abs(x - mean) / np.maximum(np.sqrt(var), floor)
    z[:min(window, 8)] = 0.0  # too little history for a standard deviation
    return z.max(axis=1)


def _flat_windows(series: np.ndarray, starts: np.ndarray, window: int) -> np.ndarray:
    view = np.lib.stride_tricks.sliding_window_view(series, window, axis=0)  # (L-T+1, C, T)
    return view[starts].reshape(len(starts), -1).astype(np.float64)


def _fit_starts(train_starts: np.ndarray, seed: int) -> np.ndarray:
    if len(train_starts) <= MAX_FIT_WINDOWS:
        return train_starts
    return np.sort(np.random.default_rng(seed).choice(train_starts, MAX_FIT_WINDOWS, replace=False))


def pca_errors(series: np.ndarray, train_starts: np.ndarray, window: int, stride: int = 1,
               variance: float = 0.95, seed: int = 0) -> np.ndarray:
    """Squared error of each window's projection on the principal components (enough for `variance`) of the
    training windows, mapped to steps: (L, C) -> (L,)."""
    fit = _flat_windows(series, _fit_starts(train_starts, seed), window)
    mean = fit.mean(0)
    _, s, vt = np.linalg.svd(fit - mean, full_matrices=False)
    explained = np.cumsum(s ** 2) / max(float((s ** 2).sum()), 1e-12)
    basis = vt[:int(np.searchsorted(explained, variance) + 1)]  # (k, T*C)
    starts = cover_starts(len(series), window, stride)
    errors = np.empty(len(starts))
    for i in range(0, len(starts), _CHUNK):
        centred = _flat_windows(series, starts[i:i + _CHUNK], window) - mean
        errors[i:i + _CHUNK] = ((centred - (centred @ basis.T) @ basis) ** 2).sum(1)
    return windows_to_steps(errors, starts, window, len(series))


def isolation_forest_scores(series: np.ndarray, train_starts: np.ndarray, window: int, stride: int = 1,
                            seed: int = 0) -> np.ndarray:
    """Isolation Forest (scikit-learn, 100 trees, seeded) fitted on training windows; minus its score_samples,
    so higher = easier to isolate, mapped to steps: (L, C) -> (L,)."""
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(n_estimators=100, random_state=seed, n_jobs=1)
    forest.fit(_flat_windows(series, _fit_starts(train_starts, seed), window))
    starts = cover_starts(len(series), window, stride)
    scores = np.concatenate([-forest.score_samples(_flat_windows(series, starts[i:i + _CHUNK], window))
                             for i in range(0, len(starts), _CHUNK)])
    return windows_to_steps(scores, starts, window, len(series))


def baseline_scores(data: Dataset, stride: int = 1, seed: int = 0,
                    names: tuple[str, ...] = BASELINES) -> dict[str, np.ndarray]:
    """Step scores (L,) of each baseline on a sensor recording, with its window length, fitted on its training
    windows (normal behaviour only)."""
    window = int(data.input_shape[0])
    train_starts = data.window_starts[data.split == 0]
    makers = {
        "random": lambda: random_scores(len(data.series), seed),
        "zscore": lambda: rolling_zscore(data.series, window),
        "pca": lambda: pca_errors(data.series, train_starts, window, stride, seed=seed),
        "iforest": lambda: isolation_forest_scores(data.series, train_starts, window, stride, seed),
    }
    return {name: makers[name]() for name in names}
