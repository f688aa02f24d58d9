"""Figures for a run's summary: the VAE's anomaly metrics beside the baselines', for the whole recording and
for the test part, each labelled. Keys follow `vae-explorer evaluate --json` (anomaly_*)."""
from __future__ import annotations

import numpy as np

from ..dataset import Dataset
from ..models import VAE
from .baselines import BASELINES, baseline_scores
from .metrics import POINT_ADJUST_CAVEAT, score_metrics
from .scoring import RecordingScores, ThresholdRule, score_recording, validation_scores

SUMMARY_KEYS = ("point_auc", "point_ap", "vus_roc", "vus_pr", "event_f1", "events_detected", "events_total",
                "threshold")


def part_metrics(scores: np.ndarray, labels: np.ndarray, parts: np.ndarray, rule: ThresholdRule,
                 max_buffer: int, threshold: float | None = None) -> dict[str, dict]:
    """Metrics of step scores (L,) for the whole recording ('all') and for the test part ('test', its steps
    joined in time order), at a threshold set by `rule` on normal validation steps (or the one given)."""
    if threshold is None:
        threshold = rule.threshold(validation_scores(scores, parts, labels))
    test = parts == 2

    def metrics(mask: np.ndarray) -> dict:
        return score_metrics(scores[mask], labels[mask], threshold, rule.min_length, rule.merge_gap, max_buffer)

    return {"all": metrics(np.ones(len(scores), bool)), "test": metrics(test) if test.any() else {}}


def _short(metrics: dict) -> dict:
    return {k: metrics.get(k) for k in SUMMARY_KEYS}


def anomaly_summary(model: VAE, data: Dataset, rule: ThresholdRule | None = None, stride: int = 1,
                    baselines: tuple[str, ...] = BASELINES, seed: int = 0,
                    scores: RecordingScores | None = None) -> dict:
    """anomaly_* figures of a labelled sensor recording: whole recording at the top level, the test part under
    anomaly_test, and each baseline's (same keys, whole recording, its own test part under 'test')."""
    if rule is None:
        rule = ThresholdRule()
    scores = scores or score_recording(model, data, stride)
    if scores.labels is None:
        return {}
    window = int(data.input_shape[0])
    vae = part_metrics(scores.total, scores.labels, scores.parts, rule, window)
    out = {f"anomaly_{k}": v for k, v in _short(vae["all"]).items()}
    out |= {
        "anomaly_part": "all",
        "anomaly_test": _short(vae["test"]) if vae["test"] else None,
        "anomaly_event_precision": vae["all"]["event_precision"], "anomaly_event_recall": vae["all"]["event_recall"],
        "anomaly_detection_delays": vae["all"]["detection_delays"],
        "anomaly_point_adjusted_f1": vae["all"]["point_adjusted_f1"],
        "anomaly_point_adjust_caveat": POINT_ADJUST_CAVEAT,
        "anomaly_threshold_rule": rule.describe(), "anomaly_score_rule": scores.rule,
        "anomaly_vus_buffer": f"VUS over label buffers 0..{window} steps (one window)",
    }
    out["anomaly_baselines"] = {}
    for name, step_scores in baseline_scores(data, stride, seed, baselines).items():
        found = part_metrics(step_scores, scores.labels, scores.parts, rule, window)
        out["anomaly_baselines"][name] = _short(found["all"]) | {
            "test": _short(found["test"]) if found["test"] else None}
    return out
