"""The workbench: a recording scored once (VAE and baselines, threshold-free metrics per part), then threshold rules
applied without scoring again; the figures equal the metric functions' on the same steps."""
from __future__ import annotations

import numpy as np
import pytest

from vae_core import anomaly as A
from vae_core.anomaly.workbench import apply_rule, part_masks, score_all
from vae_core.config import default_model_config
from vae_core.data import SensorOptions, load_bundled
from vae_core.runs import new_model


@pytest.fixture(scope="module")
def scored(bleeding):
    model = new_model(default_model_config(bleeding.kind, bleeding.input_shape))
    return bleeding, model, score_all(model, bleeding, stride=4)


def test_scored_once_with_every_method_on_the_same_steps(scored):
    data, model, s = scored
    assert list(s.methods) == ["vae", *A.BASELINES] and all(v.shape == (7501,) for v in s.methods.values())
    np.testing.assert_allclose(s.methods["vae"], A.score_recording(model, data, stride=4).total)
    np.testing.assert_allclose(s.methods["pca"], A.baseline_scores(data, stride=4, names=("pca",))["pca"])
    test = data.step_parts() == 2
    for method, values in s.methods.items():
        assert s.ranking[method]["all"] == A.ranking_metrics(values, data.series_anomaly, 64)
        assert s.ranking[method]["test"] == A.ranking_metrics(values[test], data.series_anomaly[test], 64)


def test_a_rule_gives_each_method_its_own_threshold_and_the_metrics_of_it(scored):
    data, _, s = scored
    rule = A.ThresholdRule("percentile", percentile=98.0, min_length=2, merge_gap=5)
    outcome = apply_rule(s, rule)
    parts, labels = data.step_parts(), data.series_anomaly
    for method, values in s.methods.items():
        threshold = rule.threshold(A.validation_scores(values, parts, labels))
        assert outcome.thresholds[method] == threshold
        want = A.alarm_metrics(values, labels, threshold, 2, 5)
        assert outcome.alarms[method]["all"] == want
        assert outcome.alarms[method]["all"]["alarms"] == len(A.alarm_spans(values, threshold, 2, 5))
    events = A.detect_events(s.scores.total, outcome.thresholds["vae"], 2, 5, s.scores.channels, ("value",))
    assert list(outcome.events) == events
    assert len(outcome.replay.alarms) == len(events) and outcome.replay.latency == 63
    lower = apply_rule(s, A.ThresholdRule("percentile", percentile=90.0))
    assert lower.thresholds["vae"] < outcome.thresholds["vae"] and len(lower.events) >= len(outcome.events)


def test_peaks_over_threshold_fits_the_200_validation_steps_of_bleeding(scored):
    _, _, s = scored
    outcome = apply_rule(s, A.ThresholdRule("pot", risk=1e-3))
    assert not outcome.problems and all(t is not None for t in outcome.thresholds.values())
    too_risky = apply_rule(s, A.ThresholdRule("pot", risk=0.5))
    assert "risk must be between 0 and" in too_risky.problems["vae"] and too_risky.replay is None


def test_asking_to_stop_returns_nothing(bleeding):
    model = new_model(default_model_config(bleeding.kind, bleeding.input_shape))
    seen = []
    assert score_all(model, bleeding, stride=8, progress=lambda f: seen.append(f) or f > 0.2) is None
    assert seen and seen[-1] <= 0.5  # stopped while the model scored, before any baseline


def test_unlabelled_recordings_get_scores_and_events_but_no_metrics():
    daphnet = load_bundled("daphnet", SensorOptions(window=32, stride=64))
    model = new_model(default_model_config(daphnet.kind, daphnet.input_shape))
    s = score_all(model, daphnet, stride=32, baselines=("zscore",))
    assert not s.labelled and s.ranking == {} and list(s.methods) == ["vae", "zscore"]
    outcome = apply_rule(s, A.ThresholdRule(percentile=80.0))
    assert outcome.alarms == {} and outcome.events and outcome.events[0].top_channels


def test_part_masks_name_the_test_part_first_and_only_when_there_is_one():
    masks = part_masks(np.array([0, 0, 1, 2, 2]))
    assert list(masks) == ["test", "all"] and masks["test"].tolist() == [False, False, False, True, True]
    assert list(part_masks(np.array([0, 1]))) == ["all"]
