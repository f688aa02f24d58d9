"""Lesson 6: anomaly detection. Train on the normal first part of a real physiological recording, score every
window by how badly it is rebuilt, set a threshold on normal data, and read the ROC curve."""
from __future__ import annotations

import numpy as np

from vae_core import analysis
from vae_core.run import Run

from ..components import charts, compare
from ..lesson_titles import TITLES
from .common import Lesson, Plot, Row, Step, Text

PERCENTILE = 99.0
TARGET_RECALL = 0.9


def scores(run: Run) -> dict:
    """Errors, threshold, ROC metrics and the confusion counts at the threshold, on the test part."""
    def compute():
        data = run.data
        errors = compare.window_errors(run)
        ref = "val" if len(data.indices("val")) else "train"
        threshold = analysis.anomaly_threshold(errors[data.indices(ref)], PERCENTILE)
        test = data.indices(compare.eval_part(data))
        labels = data.y[test]
        metrics = analysis.anomaly_metrics(errors[test], labels)
        counts = compare.confusion(errors[test] > threshold, labels)
        return {"errors": errors, "ref": ref, "n_ref": len(data.indices(ref)), "threshold": threshold, "test": test,
                "labels": labels, "metrics": metrics, "counts": counts}
    return run.memo.get(("lesson", "anomaly_scores"), compute)


def story(runs: list[Run]) -> list:
    run = runs[0]
    data, s = run.data, run.summary
    sc = scores(run)
    labels, m, c = sc["labels"], sc["metrics"], sc["counts"]
    n_anom, n_norm = int(labels.sum()), int(len(labels) - labels.sum())
    steps = np.flatnonzero(data.series_anomaly) if data.series_anomaly is not None else np.array([])
    where = f" (steps {steps.min()}–{steps.max()})" if len(steps) else ""
    first_unseen = data.split_starts[0] if data.split_starts else None
    out = [Text(
        f"The model trained on the {len(data.indices('train'))} windows of the "
        + (f"first {first_unseen:,} steps" if first_unseen else "training part")
        + ", which hold no anomaly. Its reconstruction error is the anomaly score: the worse a window is rebuilt, "
          "the less it looks like what the model learned.")]
    out.append(Text(
        f"The threshold is the {PERCENTILE:g}th percentile of the {sc['n_ref']} "
        f"{'validation' if sc['ref'] == 'val' else 'training'} windows' errors: **{sc['threshold']:.3g} nats**. Of "
        f"the {len(labels)} test windows, {n_anom} hold the labelled anomaly{where}."))
    if m["auc"] is None:
        out.append(Text("The test part holds only one kind of window, so there is no ROC curve to read.", "info"))
        return out
    out.append(Text(
        f"**ROC-AUC {s['anomaly_auc']:.3f}**: a randomly picked anomalous window scores higher than a randomly picked "
        f"normal one {100 * s['anomaly_auc']:.1f}% of the time (0.5 is guessing, 1 is perfect). Average precision is "
        f"{s['anomaly_ap']:.3f}; guessing would get {n_anom / len(labels):.3f}, the share of anomalous windows."))
    flagged = (f"At the threshold, {c['tp']} of {n_anom} anomalous windows are flagged (recall {c['recall']:.2f}) and "
               f"{c['fp']} of {n_norm} normal windows raise false alarms")
    flagged += f" (precision {c['precision']:.2f})." if c["precision"] is not None else "."
    out.append(Text(flagged, "success" if c["tp"] and c["fp"] <= c["tp"] else "warning"))
    reach = np.flatnonzero(np.asarray(m["tpr"]) >= TARGET_RECALL)
    fpr = float(np.asarray(m["fpr"])[reach[0]])
    worst = int(sc["test"][np.argmax(sc["errors"][sc["test"]])])
    start = int(data.window_starts[worst]) if data.window_starts is not None else None
    at = f"starts at step {start} and" if start is not None else ""
    out.append(Text(
        f"Reading the ROC curve: to catch at least {TARGET_RECALL:.0%} of the anomalous windows you would have to "
        f"flag {fpr:.1%} of the normal ones. The worst-rebuilt test window {at} "
        f"{'holds' if data.y[worst] else 'does not hold'} the labelled anomaly."))
    return out


def figures(runs: list[Run]) -> list:
    run = runs[0]
    data = run.data
    sc = scores(run)
    blocks = []
    if data.series is not None and data.window_starts is not None:
        centres = data.window_starts + data.input_shape[0] / 2
        blocks.append(Plot(compare.error_timeline(centres, sc["errors"], sc["threshold"], data.input_shape[0],
                                                  data.series, data.channels, data.series_anomaly, data.split_starts),
                           "Each point is one window at its centre; red band: the labelled anomaly; dashed: the "
                           "threshold."))
    m, c = sc["metrics"], sc["counts"]
    row = []
    if m["auc"] is not None:
        point = (c["fpr"], c["recall"]) if c["fpr"] is not None and c["recall"] is not None else None
        row.append(Plot(compare.roc_figure(m["fpr"], m["tpr"], m["auc"], point),
                        "Every threshold is one point on this curve; the cross is the 99th-percentile one."))
    worst = int(sc["test"][np.argmax(sc["errors"][sc["test"]])])
    recon = run.memo.get(("lesson", "worst_recon"), lambda: analysis.reconstruct(run.model, data.x[[worst]])[0])
    row.append(Plot(charts.window_overlay(data.x[worst], recon, compare.channel_names(data),
                                          f"The worst-rebuilt test window ({data.label_text(worst) or 'unlabelled'})",
                                          height=380),
                    "Solid: the window; dashed: the model's reconstruction."))
    blocks.append(Row(row))
    return blocks


LESSON = Lesson(
    number=6, title=TITLES[6],
    summary="Train on normal windows of a real recording, score the labelled anomaly, read the ROC curve.",
    data="bleeding", base={"arch": "conv1d", "latent_dim": 8, "loss": "mse", "epochs": 30, "beta": 1.0},
    steps=(Step("trained on normal windows"),),
    look_for=(
        "The model only ever sees normal windows: the first 1,000 steps of the recording, which hold no anomaly.",
        "The error over time: flat where the signal looks like training, a peak where it does not.",
        "The threshold comes from validation windows (normal, unseen): a 99th percentile means about 1 in 100 "
        "normal windows raises a false alarm.",
        "The ROC curve shows every possible threshold at once: the higher and further left, the better.",
    ),
    story=story, figures=figures, minutes="about 15 seconds",
)
