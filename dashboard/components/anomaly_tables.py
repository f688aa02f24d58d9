"""The Anomalies page's tables and sentences, written from the numbers they sit beside: the VAE and the baselines
on the same steps (test part and whole recording, each labelled), the events, point-adjusted F1 with its caveat."""
from __future__ import annotations

import numpy as np
import pandas as pd

from vae_core.anomaly import POINT_ADJUST_CAVEAT, labelled_spans
from vae_core.anomaly.workbench import METHOD_NAMES, Outcome, Scored

from .time_axis import TimeAxis

RANKED = {"vus_pr": "VUS-PR", "vus_roc": "VUS-ROC", "point_auc": "point ROC-AUC", "point_ap": "point AP"}
AT_THRESHOLD = {"event_precision": "event precision", "event_recall": "event recall", "event_f1": "event F1"}
HEADERS = {"vae": "VAE", "random": "random", "zscore": "z-score", "pca": "PCA", "iforest": "iForest"}  # narrow
HEADER_WORDS = ("VAE: this run's model; random: a seeded random score; z-score: a rolling z-score over one window; "
                "PCA: PCA reconstruction error; iForest: an Isolation Forest (both fitted on the training windows)")


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def part_title(scored: Scored, part: str) -> str:
    """'Test part: steps 1,200-7,500 (6,301 steps never trained on), 1 labelled event' and the like."""
    mask = scored.parts[part]
    labels = scored.scores.labels[mask]
    events = len(labelled_spans(labels))
    counted = f"{events} labelled event{'s' * (events != 1)}"
    if part == "all":
        return f"Whole recording: all {mask.sum():,} steps, {counted} (includes the steps the model trained on)"
    steps = np.flatnonzero(mask)
    return f"Test part: {len(steps):,} steps never trained on (from step {steps[0]:,}), {counted}"


def metrics_frame(scored: Scored, outcome: Outcome, part: str) -> pd.DataFrame:
    """One row per measure (the threshold-free ones first), one column per method (the VAE first): narrow enough
    for a 1024-px screen."""
    rows = []
    for key, label in RANKED.items():
        rows.append({"measure": label} | {HEADERS[m]: _num(scored.ranking.get(m, {}).get(part, {}).get(key))
                                          for m in scored.methods})
    alarms = {m: outcome.alarms.get(m, {}).get(part) for m in scored.methods}
    for key, label in AT_THRESHOLD.items():
        rows.append({"measure": label} | {HEADERS[m]: _num(a and a[key], 2) for m, a in alarms.items()})
    rows.append({"measure": "events found"} | {HEADERS[m]: f"{a['events_detected']} of {a['events_total']}" if a
                                               else "–" for m, a in alarms.items()})
    rows.append({"measure": "false alarms"} | {HEADERS[m]: str(a["false_alarms"]) if a else "–"
                                               for m, a in alarms.items()})
    return pd.DataFrame(rows)


def _best_baseline(scored: Scored, part: str, key: str) -> tuple[str, float] | None:
    found = [(m, scored.ranking[m][part][key]) for m in scored.methods
             if m not in ("vae", "random") and scored.ranking[m][part][key] is not None]
    return max(found, key=lambda mv: mv[1]) if found else None


def verdict(scored: Scored, outcome: Outcome, part: str) -> list[str]:
    """Sentences comparing the VAE with the baselines on one part, each quoting the numbers in the table."""
    name = "the test part" if part == "test" else "the whole recording"
    vae = scored.ranking["vae"][part]
    out = []
    if vae["vus_pr"] is None:
        out.append(f"VUS-PR is undefined on {name} (it needs normal and anomalous steps, and at most 300,000 steps).")
    else:
        best = _best_baseline(scored, part, "vus_pr")
        random = scored.ranking["random"][part]["vus_pr"]
        text = f"On {name} the VAE's VUS-PR is **{vae['vus_pr']:.3f}**"
        if best is not None:
            above = "above" if vae["vus_pr"] > best[1] else "below" if vae["vus_pr"] < best[1] else "level with"
            text += f", {above} the best baseline ({METHOD_NAMES[best[0]]}, {best[1]:.3f})"
        out.append(text + (f"; the random score gets {random:.3f}." if random is not None else "."))
    alarms = outcome.alarms.get("vae", {}).get(part)
    if alarms:
        f1 = "" if alarms["event_f1"] is None else f" (event F1 {alarms['event_f1']:.2f})"
        out.append(f"At this threshold the VAE raises {alarms['alarms']} alarm episode{'s' * (alarms['alarms'] != 1)} "
                   f"there and finds {alarms['events_detected']} of {alarms['events_total']} labelled events{f1}, "
                   f"with {alarms['false_alarms']} false alarm{'s' * (alarms['false_alarms'] != 1)}.")
    return out


def point_adjusted(scored: Scored, outcome: Outcome, part: str) -> tuple[pd.DataFrame, str]:
    """Point-adjusted F1 beside VUS-PR per method, and the caveat with the random score's own numbers."""
    rows = [{"method": HEADERS[m], "point-adjusted F1": _num(outcome.alarms[m][part]["point_adjusted_f1"], 2),
             "VUS-PR": _num(scored.ranking[m][part]["vus_pr"])} for m in scored.methods if m in outcome.alarms]
    random_pa = outcome.alarms.get("random", {}).get(part, {}).get("point_adjusted_f1")
    random_vus = scored.ranking.get("random", {}).get(part, {}).get("vus_pr")
    words = f"Caveat: {POINT_ADJUST_CAVEAT}."
    if random_pa is not None and random_vus is not None:
        words += (f" Here the random score's point-adjusted F1 is {random_pa:.2f} while its VUS-PR is "
                  f"{random_vus:.3f}.")
    return pd.DataFrame(rows), words


def events_frame(outcome: Outcome, axis: TimeAxis, labels: np.ndarray | None) -> pd.DataFrame:
    """One row per detected event: when it starts, ends and peaks, its top channels, and whether it is labelled."""
    labelled = labelled_spans(labels) if labels is not None else np.zeros((0, 2), np.int64)
    rows = []
    for k, e in enumerate(outcome.events):
        row = {"#": k + 1, "start": axis.text(e.start), "end": axis.text(e.end), "steps": e.length,
               "peak": axis.text(e.peak), "score": float(f"{e.peak_score:.4g}"),
               "top channels": ", ".join(f"{c} {share:.0%}" for c, share in e.top_channels)}
        if labels is not None:
            hits = np.flatnonzero((labelled[:, 0] <= e.end) & (labelled[:, 1] >= e.start))
            row["labelled"] = f"event {hits[0] + 1}" if len(hits) else "false alarm"
        rows.append(row)
    return pd.DataFrame(rows)
