"""Thresholds from validation scores (percentile, peaks over threshold, alarm budget) and the streaming replay."""
from __future__ import annotations

import math

import numpy as np
import pytest

from vae_core.anomaly import ThresholdRule, alarm_spans, budget_threshold, percentile_threshold, pot_threshold, replay


def test_percentile_threshold_is_numpys_percentile():
    scores = np.random.default_rng(0).random(1000)
    assert percentile_threshold(scores, 99) == pytest.approx(np.percentile(scores, 99))
    assert percentile_threshold(np.r_[scores, np.nan], 99) == pytest.approx(np.percentile(scores, 99))
    with pytest.raises(ValueError, match="percentile must be in"):
        percentile_threshold(scores, 0)


def test_peaks_over_threshold_recovers_an_exponential_tail():
    # Exp(1): P(X > z) = exp(-z), so the score exceeded with probability 1e-4 is ln(1e4) = 9.21
    scores = np.random.default_rng(0).exponential(size=200_000)
    fit = pot_threshold(scores, risk=1e-4)
    assert fit.threshold == pytest.approx(math.log(1e4), rel=0.05)
    assert abs(fit.shape) < 0.1 and fit.scale == pytest.approx(1.0, rel=0.15) and fit.peaks == 4000
    assert (scores > fit.threshold).mean() == pytest.approx(1e-4, rel=0.5)


def test_a_short_validation_part_lowers_the_initial_quantile_to_keep_ten_peaks():
    # 200 validation steps (InternalBleeding16's): the 98% quantile leaves 4 peaks, the 95% one 10
    scores = np.random.default_rng(1).exponential(size=200)
    fit = pot_threshold(scores, risk=1e-3)
    assert fit.peaks == 10 and fit.initial == pytest.approx(np.quantile(scores, 0.95))
    assert pot_threshold(scores, risk=1e-3, initial_quantile=0.95) == fit
    with pytest.raises(ValueError, match="only 4 validation scores lie above the 98% quantile"):
        pot_threshold(scores, initial_quantile=0.98)


def test_peaks_over_threshold_explains_bad_requests():
    with pytest.raises(ValueError, match=r"only 5 validation scores lie above the 90% quantile: too few to fit a tail"):
        pot_threshold(np.arange(50.0))
    with pytest.raises(ValueError, match=r"risk must be between 0 and 0.02"):
        pot_threshold(np.random.default_rng(0).random(1000), risk=0.1)


def test_alarm_budget_picks_the_lowest_threshold_within_budget():
    scores = np.zeros(10_000)
    for k, height in enumerate([5.0, 4.0, 3.0, 2.0, 1.0]):
        scores[1000 * (k + 1):1000 * (k + 1) + 3] = height
    threshold = budget_threshold(scores, alarms_per_1000=0.2)  # 10,000 steps: at most 2 alarms
    assert 3.0 <= threshold < 4.0 and len(alarm_spans(scores, threshold)) == 2
    assert budget_threshold(scores, alarms_per_1000=10) < 1.0  # room for all five bursts


def test_threshold_rule_methods_and_words():
    scores = np.random.default_rng(0).exponential(size=20_000)
    assert ThresholdRule().threshold(scores) == pytest.approx(np.percentile(scores, 99))
    assert ThresholdRule("pot", risk=1e-3).threshold(scores) == pytest.approx(math.log(1e3), rel=0.1)
    assert ThresholdRule().describe() == "99th percentile of validation step scores"
    assert "1 alarms per 1,000" in ThresholdRule("budget").describe()
    with pytest.raises(ValueError, match="threshold must be one of percentile, pot, budget"):
        ThresholdRule("magic")


def test_replay_fires_in_streaming_order_with_delays():
    scores = np.zeros(100)
    scores[10:20] = 5  # event 1, labelled 12-19: the alarm begins before the label
    scores[50:53] = 5  # a false alarm
    scores[70:80] = 5  # event 2, labelled 65-79
    labels = np.zeros(100, int)
    labels[12:20] = 1
    labels[65:80] = 1
    result = replay(scores, 1.0, labels, min_length=3, latency=4)
    fired = [(a.fired_at, a.start, a.event, a.delay) for a in result.alarms]
    # min_length 3: an episode starting at s fires at s + 2, plus a latency of 4 steps
    assert fired == [(16, 10, 0, 4), (56, 50, None, None), (76, 70, 1, 11)]
    assert result.event_delays == (4, 11)
    missed = replay(scores, 6.0, labels)
    assert missed.alarms == () and missed.event_delays == (None, None)
