"""Metrics against a small case computed by hand, and VUS against aeon's own functions."""
from __future__ import annotations

import numpy as np
import pytest
from aeon.benchmarking.metrics.anomaly_detection import range_pr_vus_score, range_roc_vus_score
from sklearn.metrics import f1_score

from vae_core.anomaly import (
    POINT_ADJUST_CAVEAT,
    alarm_spans,
    event_metrics,
    point_adjusted_f1,
    point_metrics,
    score_metrics,
    spans_mask,
    vus_metrics,
)

LABELS = np.array([0, 0, 1, 1, 0, 0, 0, 1, 0, 0])
SCORES = np.array([0.1, 0.2, 0.9, 0.3, 0.4, 0.7, 0.05, 0.8, 0.6, 0.0])


def test_point_metrics_by_hand():
    # positives 0.9, 0.3, 0.8 against 7 negatives: 0.9 and 0.8 beat all 7, 0.3 beats 4 -> AUC 18/21
    # ranked: 0.9 P, 0.8 P, 0.7 N, 0.6 N, 0.4 N, 0.3 P -> precisions 1, 1, 3/6 at the positives -> AP 2.5/3
    found = point_metrics(SCORES, LABELS)
    assert found["point_auc"] == pytest.approx(18 / 21) and found["point_ap"] == pytest.approx(2.5 / 3)
    assert point_metrics(SCORES, np.zeros(10)) == {"point_auc": None, "point_ap": None}


def test_event_metrics_by_hand():
    alarms = alarm_spans(SCORES, 0.5)  # steps 2, 5, 7-8
    assert alarms.tolist() == [[2, 2], [5, 5], [7, 8]]
    found = event_metrics(alarms, LABELS)
    assert (found["events_total"], found["events_detected"], found["alarms"], found["false_alarms"]) == (2, 2, 3, 1)
    assert found["event_precision"] == pytest.approx(2 / 3) and found["event_recall"] == 1.0
    assert found["event_f1"] == pytest.approx(0.8) and found["detection_delays"] == [0, 0]


def test_detection_delay_tolerance_and_a_missed_event():
    labels = np.zeros(30, int)
    labels[5:10] = 1
    labels[20:22] = 1
    late = event_metrics(np.array([[8, 12]]), labels)
    assert (late["detection_delays"] == [3, None] and late["event_recall"] == 0.5
            and late["event_f1"] == pytest.approx(2 / 3))
    after = event_metrics(np.array([[23, 24]]), labels)
    assert after["events_detected"] == 0 and after["event_precision"] == 0.0 and after["event_f1"] == 0.0
    tolerant = event_metrics(np.array([[23, 24]]), labels, tolerance=2)
    assert tolerant["detection_delays"] == [None, 3] and tolerant["event_precision"] == 1.0
    assert event_metrics(np.zeros((0, 2), int), labels)["event_precision"] is None


def test_point_adjusted_f1_by_hand_and_its_trap():
    # step 2 flags event 2-3 whole: flagged 2, 3, 5, 7, 8 -> precision 3/5, recall 1 -> F1 0.75
    assert point_adjusted_f1(spans_mask(alarm_spans(SCORES, 0.5), 10), LABELS) == pytest.approx(0.75)
    labels = np.zeros(10_000, int)
    labels[2000:4000] = 1  # one long event
    random = np.random.default_rng(0).random(10_000)
    alarms = random > 0.999  # about ten random alarms, at least one inside the long event
    assert point_adjusted_f1(alarms, labels) > 0.99  # ten random alarms look nearly perfect once adjusted
    assert f1_score(labels, alarms) < 0.01  # what they are worth step by step
    assert "random" in POINT_ADJUST_CAVEAT


def test_vus_equals_aeons_own_scores():
    rng = np.random.default_rng(1)
    labels = np.zeros(600, int)
    labels[200:215] = 1
    labels[450:470] = 1
    scores = rng.random(600) + 1.5 * labels
    found = vus_metrics(scores, labels, max_buffer=20)
    assert found["vus_roc"] == pytest.approx(range_roc_vus_score(labels, scores, max_buffer_size=20))
    assert found["vus_pr"] == pytest.approx(range_pr_vus_score(labels, scores, max_buffer_size=20))
    assert vus_metrics(np.ones(600), labels) == {"vus_roc": None, "vus_pr": None}


def test_score_metrics_gathers_everything():
    found = score_metrics(SCORES, LABELS, threshold=0.5, max_buffer=2)
    assert found["threshold"] == 0.5 and found["steps"] == 10
    assert found["event_f1"] == pytest.approx(0.8) and found["point_adjusted_f1"] == pytest.approx(0.75)
    assert 0 < found["vus_pr"] <= 1 and 0 < found["vus_roc"] <= 1
