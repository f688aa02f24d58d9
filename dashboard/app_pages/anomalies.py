"""Anomalies: windows the model rebuilds badly are unusual. Where are they, and do they match the labels?"""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.components import charts, compare
from dashboard.components.run_header import explored_run
from vae_core import analysis

ws = state.workspace()
st.title("Anomalies")
st.caption("A VAE trained on normal behaviour rebuilds normal windows well and unusual ones badly. So the "
           "reconstruction error of each window is an anomaly score: above a threshold, the window is flagged. "
           "The threshold is set from the validation part, which the model did not train on and which holds no "
           "labelled anomalies in the bundled recording.")

run = explored_run(ws, "the anomaly scores of a model trained on a sensor recording", ":material/warning:")
data = run.data
if data.kind != "sensor":
    st.info(f"This page is for sensor recordings, and {run.label} learned images. Load a recording on the Data page "
            "(the bundled **InternalBleeding16** has a labelled anomaly), train on it, and come back.",
            icon=":material/sensors:")
    st.page_link("app_pages/data.py", label="Choose sensor data", icon=":material/dataset:")
    st.stop()

errors = compare.window_errors(run)
ref_part = "val" if len(data.indices("val")) else "train"
if ref_part != "val":
    st.warning("This data has no validation part, so the threshold comes from the training part's errors, which "
               "are optimistic: expect more windows flagged.")
ref_errors = errors[data.indices(ref_part)]
test_part = compare.eval_part(data)
test_idx = data.indices(test_part)
test_errors = errors[test_idx]

c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
percentile = c1.slider("Threshold: percentile of the validation windows' errors", 90.0, 100.0, 99.0, step=0.1,
                       format="%.1f", key="anomaly_percentile",
                       help="99 means: flag a window when it is rebuilt worse than 99% of the validation windows "
                            "(normal data). Lower catches more anomalies but also raises more false alarms.")
log_y = c2.toggle("Log scale", key="anomaly_log",
                  help="A logarithmic error axis shows small and huge errors together.")
threshold = analysis.anomaly_threshold(ref_errors, percentile)
flags = test_errors > threshold

labelled = data.label_kind == "anomaly" and data.y is not None
metrics = run.anomaly_metrics(test_part) if labelled else None
part_name = "test" if test_part == "test" else "all"
m = st.columns(4)
m[0].metric("Threshold", f"{threshold:.3g} nats",
            help=f"The {percentile:g}th percentile of the reconstruction errors of the {len(ref_errors)} "
                 f"{'validation' if ref_part == 'val' else 'training'} windows.")
m[1].metric(f"Flagged {part_name} windows", f"{int(flags.sum())} of {len(flags)}",
            help="Windows of the part never seen in training whose error is above the threshold.")
if metrics is not None and metrics["auc"] is not None:
    m[2].metric("ROC-AUC", f"{metrics['auc']:.3f}",
                help="The chance that a random anomalous window scores higher than a random normal one "
                     "(1 = perfect, 0.5 = guessing). Independent of the threshold.")
    m[3].metric("Average precision", f"{metrics['ap']:.3f}",
                help="Area under the precision-recall curve. With few anomalies this is the harder, more honest "
                     "score; guessing gets about the share of anomalous windows.")

# ---- errors over time, or by class -----------------------------------------------------------------------
if data.series is not None and data.window_starts is not None:
    show_signal = st.toggle("Show the signal below", value=True, key="anomaly_signal",
                            help="Draws the recording itself under the errors, on the same time axis.")
    centres = data.window_starts + data.input_shape[0] / 2
    st.plotly_chart(compare.error_timeline(centres, errors, threshold, data.input_shape[0],
                                           data.series if show_signal else None,
                                           data.channels, data.series_anomaly, data.split_starts, log_y),
                    key="anomaly_timeline", config=charts.PNG_CONFIG)
    st.caption("Each point is one window, placed at its centre. Dark red: the labelled anomalous time steps; light "
               "red: the windows that contain them (these count as anomalous); red crosses: windows above the "
               "threshold; dotted lines: where the validation and test parts begin. Drag to zoom, double-click to "
               "zoom out.")
elif data.y is not None:
    labels = [data.label_text(i) for i in range(len(data.x))]
    st.plotly_chart(compare.errors_by_class(errors, labels, threshold, log_y), key="anomaly_by_class",
                    config=charts.PNG_CONFIG)
    st.caption("Each dot is one window (all parts). Classes the model finds hard to rebuild sit higher.")

if not labelled:
    st.info("This data has no anomaly labels, so the scores cannot be checked against the truth: the page shows "
            "where the error is high, not whether that is right. The bundled InternalBleeding16 recording has a "
            "labelled anomaly.", icon=":material/label_off:")
elif metrics is None or metrics["auc"] is None:
    st.info(f"The {part_name} part holds only one kind of window (all normal or all anomalous), so ROC-AUC and "
            "average precision are undefined.")
else:
    counts = compare.confusion(flags, data.y[test_idx])
    left, right = st.columns([3, 2], gap="large")
    with left:
        point = (counts["fpr"], counts["recall"]) if counts["fpr"] is not None and counts["recall"] is not None else None
        st.plotly_chart(compare.roc_figure(metrics["fpr"], metrics["tpr"], metrics["auc"], point),
                        key="anomaly_roc", config=charts.PNG_CONFIG)
    with right:
        st.markdown(f"**At the chosen threshold** ({percentile:g}th percentile, {threshold:.3g} nats)")
        p = st.columns(2)
        p[0].metric("Precision", "–" if counts["precision"] is None else f"{counts['precision']:.2f}",
                    help="Of the flagged windows, the share that really hold an anomaly.")
        p[1].metric("Recall", "–" if counts["recall"] is None else f"{counts['recall']:.2f}",
                    help="Of the windows that hold an anomaly, the share that was flagged.")
        st.dataframe(pd.DataFrame({"": ["flagged", "not flagged"],
                                   "anomalous": [counts["tp"], counts["fn"]],
                                   "normal": [counts["fp"], counts["tn"]]}), hide_index=True, key="anomaly_confusion")
        st.caption(f"Windows of the {part_name} part. A window counts as anomalous when any of its time steps is "
                   "labelled so.")

# ---- one window up close ---------------------------------------------------------------------------------
worst = [int(i) for i in test_idx[np.argsort(-test_errors, kind="stable")[:10]]]
starts = data.window_starts
st.subheader("The worst-rebuilt windows")
pick = st.selectbox("Window", worst, key=f"anomaly_window_{run.id[:8]}",
                    format_func=lambda i: f"window {i}" + (f" (from step {int(starts[i])})" if starts is not None else "")
                    + f", error {errors[i]:.3g}",
                    help=f"The ten {part_name}-part windows with the highest reconstruction error. Solid: the "
                         "window; dashed: the model's reconstruction.")
recon = analysis.reconstruct(run.model, data.x[[pick]])[0]
label = f" · {data.label_text(int(pick))}" if data.y is not None else ""
st.plotly_chart(charts.window_overlay(data.x[pick], recon, compare.channel_names(data),
                                      f"Window {pick}{label}: original (solid) and reconstruction (dashed)"),
                key="anomaly_window_plot", config=charts.PNG_CONFIG)
st.caption("Every chart has a camera button (top right, on hover) that saves it as a PNG.")
