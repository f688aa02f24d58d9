"""Anomaly detection on sensor recordings: every step scored, events, thresholds, honest metrics, baselines.

Pure functions on numpy arrays; nothing here plots or writes files. The usual path:

    scores = score_recording(model, data)                      # (L,) total and (L, C) per channel
    rule = ThresholdRule("percentile", percentile=99)
    threshold = rule.threshold(scores.validation())
    events = detect_events(scores.total, threshold, channel_scores=scores.channels, channels=scores.channel_names)
    summary = anomaly_summary(model, data, rule, scores=scores)   # anomaly_* keys, baselines included

The Anomalies page uses workbench.score_all (once per run, in the background) and workbench.apply_rule (at
every threshold change).
"""
from .baselines import (
    BASELINE_NAMES,
    BASELINES,
    baseline_scores,
    isolation_forest_scores,
    pca_errors,
    random_scores,
    rolling_zscore,
)
from .events import Event, alarm_spans, detect_events, labelled_spans, merge_runs, runs, spans_mask
from .metrics import (
    POINT_ADJUST_CAVEAT,
    alarm_metrics,
    event_metrics,
    point_adjusted_f1,
    point_metrics,
    ranking_metrics,
    score_metrics,
    vus_metrics,
)
from .model_errors import ScoringStopped, WindowErrors, reconstruct_span, window_channel_errors
from .replay import Alarm, Replay, replay
from .scoring import RecordingScores, ThresholdRule, score_recording, scores_frame, validation_scores
from .steps import STEP_RULE, binned, channel_time_matrix, cover_starts, overlap_average, windows_to_steps
from .summary import SUMMARY_KEYS, anomaly_summary, part_metrics
from .thresholds import THRESHOLD_METHODS, PotFit, budget_threshold, percentile_threshold, pot_threshold

__all__ = [
    "BASELINE_NAMES", "BASELINES", "baseline_scores", "isolation_forest_scores", "pca_errors", "random_scores",
    "rolling_zscore", "Event", "alarm_spans", "detect_events", "labelled_spans", "merge_runs", "runs", "spans_mask",
    "POINT_ADJUST_CAVEAT", "alarm_metrics", "ranking_metrics", "ScoringStopped",
    "event_metrics", "point_adjusted_f1", "point_metrics", "score_metrics", "vus_metrics",
    "WindowErrors", "reconstruct_span", "window_channel_errors", "Alarm", "Replay", "replay", "RecordingScores",
    "ThresholdRule", "score_recording", "scores_frame", "validation_scores", "STEP_RULE", "binned",
    "channel_time_matrix", "cover_starts", "overlap_average", "windows_to_steps", "SUMMARY_KEYS", "anomaly_summary",
    "part_metrics", "THRESHOLD_METHODS", "PotFit", "budget_threshold", "percentile_threshold", "pot_threshold",
]
