"""How good step scores are against 0/1 step labels: point-wise, range-aware, and per labelled event.

- point-wise ROC-AUC and average precision (scikit-learn): every step counts alike, long events weigh most.
- VUS-ROC and VUS-PR (Paparrizos et al. 2022, "Volume Under the Surface", PVLDB 15(11)), from aeon's
  maintained implementation: range-based ROC/PR areas averaged over label buffers 0..max_buffer steps, so
  a detection just beside a labelled range still earns credit and no single threshold is chosen.
- event-wise precision, recall and F1 at a threshold: a labelled event is detected when an alarm episode
  overlaps it (or starts within `tolerance` steps after it); an alarm episode is a true alarm when it
  overlaps a labelled event. Detection delay = first alarmed step inside the event - its first step.
- point-adjusted F1 only with its caveat (see POINT_ADJUST_CAVEAT).
"""
from __future__ import annotations

import numpy as np

from .events import alarm_spans, labelled_spans, spans_mask

POINT_ADJUST_CAVEAT = ("point-adjusted F1 counts a whole labelled event as found when any one of its steps is "
                       "flagged, so on long events even a random score reaches a high value (Kim et al. 2022, "
                       "'Towards a Rigorous Evaluation of Time-Series Anomaly Detection', AAAI): compare it with "
                       "the random baseline, never on its own")
VUS_MAX_STEPS = 300_000  # aeon's VUS loops over 250 thresholds per buffer size: longer recordings take minutes


def _both_classes(labels: np.ndarray) -> bool:
    return labels.min() != labels.max()


def point_metrics(scores: np.ndarray, labels: np.ndarray) -> dict[str, float | None]:
    """Point-wise ROC-AUC and AP of step scores (L,) against 0/1 labels (L,); None when one class only."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    labels = np.asarray(labels).astype(np.int64)
    if not _both_classes(labels):
        return {"point_auc": None, "point_ap": None}
    scores = np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=np.nanmin(scores))
    return {"point_auc": float(roc_auc_score(labels, scores)),
            "point_ap": float(average_precision_score(labels, scores))}


def vus_metrics(scores: np.ndarray, labels: np.ndarray, max_buffer: int = 64) -> dict[str, float | None]:
    """VUS-ROC and VUS-PR of step scores (L,) against 0/1 labels (L,) over buffers 0..max_buffer (aeon)."""
    from aeon.benchmarking.metrics.anomaly_detection import range_pr_roc_auc_support

    labels = np.asarray(labels).astype(np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    if not _both_classes(labels) or len(labels) > VUS_MAX_STEPS or np.ptp(scores) == 0:
        return {"vus_roc": None, "vus_pr": None}
    # aeon's range_*_vus_score each run this loop; one pass gives both (their sum / (max_buffer + 1))
    areas = np.array([range_pr_roc_auc_support(labels, scores, buffer_size=b, skip_check=True)
                      for b in range(max_buffer + 1)])
    return {"vus_pr": float(areas[:, 0].mean()), "vus_roc": float(areas[:, 1].mean())}


def event_metrics(alarms: np.ndarray, labels: np.ndarray, tolerance: int = 0) -> dict:
    """Event-wise precision, recall, F1 and detection delay per labelled event.

    alarms: alarm episodes (K, 2) [start, end] inclusive; labels: 0/1 per step (L,).
    """
    events = labelled_spans(labels)
    alarmed = spans_mask(alarms, len(labels))
    delays: list[int | None] = []
    for start, end in events:
        hit = np.flatnonzero(alarmed[start:min(end + tolerance, len(labels) - 1) + 1])
        delays.append(int(hit[0]) if len(hit) else None)
    reach = np.column_stack([events[:, 0], np.minimum(events[:, 1] + tolerance, len(labels) - 1)])
    labelled = spans_mask(reach, len(labels))
    true_alarms = sum(bool(labelled[s:e + 1].any()) for s, e in alarms) if len(events) else 0
    detected = sum(d is not None for d in delays)
    precision = true_alarms / len(alarms) if len(alarms) else None
    recall = detected / len(events) if len(events) else None
    f1 = (2 * precision * recall / (precision + recall) if precision and recall else 0.0) \
        if recall is not None else None
    return {"event_precision": precision, "event_recall": recall, "event_f1": f1, "events_detected": detected,
            "events_total": int(len(events)), "alarms": int(len(alarms)),
            "false_alarms": int(len(alarms) - true_alarms),
            "detection_delays": delays}


def point_adjusted_f1(alarm_mask: np.ndarray, labels: np.ndarray) -> float | None:
    """Point-adjusted F1 of an alarm mask (L,): any flagged step marks its whole labelled event. See the caveat."""
    labels = np.asarray(labels) > 0
    if not labels.any():
        return None
    adjusted = np.asarray(alarm_mask, dtype=bool).copy()
    for start, end in labelled_spans(labels):
        if adjusted[start:end + 1].any():
            adjusted[start:end + 1] = True
    tp = int((adjusted & labels).sum())
    precision = tp / max(int(adjusted.sum()), 1)
    recall = tp / int(labels.sum())
    return 2 * precision * recall / (precision + recall) if tp else 0.0


def ranking_metrics(scores: np.ndarray, labels: np.ndarray, max_buffer: int = 64) -> dict:
    """The metrics that need no threshold (point-wise AUC/AP, VUS-ROC/PR) of step scores (L,) against labels (L,)."""
    return point_metrics(scores, labels) | vus_metrics(scores, labels, max_buffer)


def alarm_metrics(scores: np.ndarray, labels: np.ndarray, threshold: float, min_length: int = 1, merge_gap: int = 0,
                  tolerance: int = 0) -> dict:
    """The metrics at one threshold (event-wise, detection delays, point-adjusted F1) of step scores (L,)."""
    scores = np.asarray(scores, dtype=np.float64)
    alarms = alarm_spans(scores, threshold, min_length, merge_gap)
    out = {"threshold": float(threshold), "steps": int(len(scores))}
    out |= event_metrics(alarms, labels, tolerance)
    out["point_adjusted_f1"] = point_adjusted_f1(spans_mask(alarms, len(scores)), labels)
    return out


def score_metrics(scores: np.ndarray, labels: np.ndarray, threshold: float, min_length: int = 1, merge_gap: int = 0,
                  max_buffer: int = 64, tolerance: int = 0) -> dict:
    """Every metric of step scores (L,) against 0/1 labels (L,) at one threshold, as one flat dict."""
    return alarm_metrics(scores, labels, threshold, min_length, merge_gap, tolerance) \
        | ranking_metrics(scores, labels, max_buffer)
