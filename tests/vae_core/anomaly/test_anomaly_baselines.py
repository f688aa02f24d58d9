"""Baselines on generated recordings with known anomalies, and on the bundled InternalBleeding16."""
from __future__ import annotations

import numpy as np
import pytest

from vae_core.anomaly import (
    ThresholdRule,
    baseline_scores,
    isolation_forest_scores,
    pca_errors,
    random_scores,
    rolling_zscore,
    score_metrics,
    validation_scores,
)


def sines(length: int = 3000, channels: int = 3, seed: int = 0) -> np.ndarray:
    t = np.arange(length)[:, None]
    rng = np.random.default_rng(seed)
    return np.sin(t / np.array([7.0, 11.0, 17.0])[:channels]) + rng.normal(0, 0.05, (length, channels))


def test_random_scores_are_seeded():
    np.testing.assert_array_equal(random_scores(5, seed=3), random_scores(5, seed=3))
    assert not np.array_equal(random_scores(5, seed=3), random_scores(5, seed=4))


def test_rolling_zscore_by_hand_and_at_a_spike():
    x = np.array([[1.0], [3.0], [5.0], [3.0]])
    # step 3: the 2 steps before are 3 and 5 (mean 4, std 1) -> |3 - 4| / 1 = 1; step 2: 1 and 3 -> |5 - 2| / 1 = 3
    np.testing.assert_allclose(rolling_zscore(x, window=2)[2:], [3.0, 1.0])
    series = np.random.default_rng(0).normal(0, 1, (3000, 3))
    series[2000, 2] += 12.0
    z = rolling_zscore(series, window=64)
    assert int(np.argmax(z)) == 2000 and z[2000] > 10 and z[:8].max() == 0


@pytest.mark.parametrize("detector", ["pca", "iforest"])
def test_window_baselines_find_a_level_shift(detector):
    series = sines()
    series[2400:2500, 0] += 2.0
    train = np.arange(0, 1500 - 32, 4)
    make = pca_errors if detector == "pca" else isolation_forest_scores
    scores = make(series, train, 32, stride=2)
    assert scores.shape == (3000,) and np.isfinite(scores).all()
    assert scores[2420:2480].mean() > np.percentile(scores[:2300], 99)


def test_baselines_on_bleeding(bleeding):
    found = baseline_scores(bleeding, stride=4)
    assert set(found) == {"random", "zscore", "pca", "iforest"}
    labels, parts = bleeding.series_anomaly, bleeding.step_parts()
    rule = ThresholdRule()
    metrics = {}
    for name, scores in found.items():
        assert scores.shape == (7501,)
        threshold = rule.threshold(validation_scores(scores, parts, labels))
        metrics[name] = score_metrics(scores, labels, threshold, max_buffer=16)
    assert metrics["pca"]["events_detected"] == 1 and metrics["pca"]["point_auc"] > 0.99
    assert metrics["random"]["point_auc"] == pytest.approx(0.5, abs=0.1)
    assert metrics["pca"]["vus_pr"] > 10 * metrics["random"]["vus_pr"]
