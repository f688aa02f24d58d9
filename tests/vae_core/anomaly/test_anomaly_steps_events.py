"""Window scores back to time steps, and events from a threshold: against hand-computed cases and brute force."""
from __future__ import annotations

import numpy as np
import pytest

from vae_core.anomaly import (
    alarm_spans,
    binned,
    channel_time_matrix,
    cover_starts,
    detect_events,
    merge_runs,
    overlap_average,
    runs,
    spans_mask,
    windows_to_steps,
)


def test_cover_starts_reach_the_end():
    assert cover_starts(10, 4, 3).tolist() == [0, 3, 6]
    assert cover_starts(11, 4, 3).tolist() == [0, 3, 6, 7]  # one more, flush with the end
    assert cover_starts(3, 4, 1).tolist() == []


def test_steps_are_the_mean_of_the_covering_windows_by_hand():
    steps = windows_to_steps(np.array([3.0, 6.0, 9.0]), np.array([0, 2, 3]), window=3, length=7)
    np.testing.assert_allclose(steps[:6], [3, 3, 4.5, 7.5, 7.5, 9])
    assert np.isnan(steps[6])  # no window covers the last step


def test_steps_match_a_loop_over_windows_per_channel():
    rng = np.random.default_rng(0)
    length, window = 500, 16
    starts = cover_starts(length, window, 3)
    scores = rng.random((len(starts), 4))
    sums, counts = np.zeros((length, 4)), np.zeros(length)
    for s, value in zip(starts, scores, strict=True):  # the definition, one window at a time
        sums[s:s + window] += value
        counts[s:s + window] += 1
    np.testing.assert_allclose(windows_to_steps(scores, starts, window, length), sums / counts[:, None], rtol=1e-10)
    order = rng.permutation(len(starts))  # starts in any order take the general (bincount) path: same steps
    np.testing.assert_allclose(windows_to_steps(scores[order], starts[order], window, length), sums / counts[:, None],
                               rtol=1e-10)


def test_overlap_average_of_reconstructions():
    # window 0 = [0, 1, 2] at step 0; window 1 = [3, 4, 5] at 1
    values = np.arange(2 * 3 * 1, dtype=float).reshape(2, 3, 1)
    np.testing.assert_allclose(overlap_average(values, np.array([0, 1]), 0, 4)[:, 0], [0, (1 + 3) / 2, (2 + 4) / 2, 5])
    np.testing.assert_allclose(overlap_average(values, np.array([0, 1]), 2, 4)[:, 0], [3, 5])


def test_binned_max_keeps_a_one_step_spike_and_the_heat_map_is_channels_by_bins():
    values = np.zeros((1000, 2))
    values[437, 1] = 9.0
    peaks, edges = binned(values, n_bins=10)
    assert peaks.shape == (10, 2) and peaks[4, 1] == 9.0 and edges.tolist() == list(range(0, 1000, 100))
    heat, _ = channel_time_matrix(values, n_bins=10)
    assert heat.shape == (2, 10) and heat[1, 4] == 9.0
    means, _ = binned(values[:, 1], n_bins=10, how="mean")
    assert means[4] == pytest.approx(0.09)


def test_runs_merge_and_minimum_length():
    mask = np.array([0, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 1], bool)
    assert runs(mask).tolist() == [[1, 2], [5, 5], [9, 11]]
    assert merge_runs(runs(mask), 2).tolist() == [[1, 5], [9, 11]]
    scores = mask * 2.0
    assert alarm_spans(scores, 1.0, min_length=3).tolist() == [[9, 11]]
    assert alarm_spans(scores, 1.0, min_length=3, merge_gap=2).tolist() == [[1, 5], [9, 11]]  # merged, then long enough
    np.testing.assert_array_equal(spans_mask(np.array([[1, 5], [9, 11]]), 12), [0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1])


def test_events_have_peak_and_top_channels():
    scores = np.array([0, 1, 5, 3, 0, 0, 4, 0], float)
    per_channel = np.array([[0, 0], [1, 0], [1, 4], [0, 3], [0, 0], [0, 0], [4, 0], [0, 0]], float)
    events = detect_events(scores, 0.5, channel_scores=per_channel, channels=("a", "b"))
    assert [(e.start, e.end, e.peak, e.peak_score) for e in events] == [(1, 3, 2, 5.0), (6, 6, 6, 4.0)]
    assert events[0].top_channels == (("b", pytest.approx(7 / 9)), ("a", pytest.approx(2 / 9)))
    assert events[1].top_channels[0] == ("a", 1.0) and events[0].length == 3
