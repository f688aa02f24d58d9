"""Anomalies: every time step of the recording scored by the model, events and the channels behind them, thresholds
without retraining, honest metrics beside simple baselines, and a replay as if the data streamed in live."""
from __future__ import annotations

import streamlit as st

from dashboard import state
from dashboard.components import anomaly_charts, anomaly_controls, anomaly_events, anomaly_replay, anomaly_tables
from dashboard.components.anomaly_tables import HEADER_WORDS
from dashboard.components.anomaly_task import scored as scored_recording
from dashboard.components.anomaly_windows import by_class
from dashboard.components.charts import PNG_CONFIG
from dashboard.components.run_header import explored_run
from dashboard.components.time_axis import DRAWN_POINTS, time_axis
from vae_core.anomaly.workbench import PART_NAMES, apply_rule

ws = state.workspace()
st.title("Anomalies")
st.caption("A VAE trained on normal behaviour rebuilds normal stretches well and unusual ones badly, so its "
           "reconstruction error is an anomaly score. Here every time step of the recording gets one, and simple "
           "baselines score the same steps, so you can see whether the VAE earns its keep.")

run = explored_run(ws, "the anomaly scores of a model trained on a sensor recording", ":material/warning:")
data = run.data
if data.kind != "sensor":
    st.info(f"This page is for sensor recordings, and {run.label} learned images. Load a recording on the Data page "
            "(the bundled **InternalBleeding16** has a labelled anomaly), train on it, and come back.",
            icon=":material/sensors:")
    st.page_link("app_pages/data.py", label="Choose sensor data", icon=":material/dataset:")
    st.stop()
if data.series is None:
    by_class(run)
    st.stop()

scored = scored_recording(ws, run)
if scored is None:
    st.stop()
s = scored.scores
axis = time_axis(data)

# ---- threshold ------------------------------------------------------------------------------------------
st.subheader("Threshold")
rule = anomaly_controls.rule_controls(axis)
outcome = run.memo.get(("anomaly_outcome", id(data.series), rule), lambda: apply_rule(scored, rule))
threshold = outcome.thresholds["vae"]
if threshold is None:
    st.warning(f"{rule.describe().capitalize()} cannot be set here: {outcome.problems['vae']}.")
m = st.columns(4)
m[0].metric("Threshold", "–" if threshold is None else f"{threshold:.3g} nats",
            help=f"{rule.describe().capitalize()}: set on the {'validation' if (s.parts == 1).any() else 'training'} "
                 "part's normal steps, which the model did not train on" + ("" if (s.parts == 1).any() else
                                                                             " (there is no validation part)") + ".")
m[1].metric("Events (whole recording)", f"{len(outcome.events)}",
            help="Runs of steps above the threshold, after merging and the minimum length.")
m[2].metric("Steps above the threshold",
            "–" if threshold is None else f"{int((s.total > threshold).sum()):,} of {len(s.total):,}")
m[3].metric("Labelled anomalous steps", "none (unlabelled)" if s.labels is None else f"{int(s.labels.sum()):,}")

# ---- the whole recording ----------------------------------------------------------------------------------
log_y = st.toggle("Log scale", key="anomaly_log", help="A logarithmic score axis shows small and huge scores together.")
st.plotly_chart(anomaly_charts.score_timeline(data, axis, s.total, threshold, outcome.events, log_y),
                key="anomaly_timeline", config=PNG_CONFIG)
st.caption(f"Every time step of the recording, scored: {s.rule}. Shaded: the train, validation and test parts; red: "
           "labelled anomalies; orange: the events detected at this threshold. Drag to zoom, double-click to zoom out."
           + (f" The {len(s.total):,} steps are drawn as {DRAWN_POINTS:,} columns, each at its highest score."
              if len(s.total) > DRAWN_POINTS else ""))
if len(s.channel_names) > 1:
    st.plotly_chart(anomaly_charts.channel_heatmap(axis, s.channels, s.channel_names), key="anomaly_heatmap",
                    config=PNG_CONFIG)
    st.caption("Each channel's share of the score: darker red where the model rebuilds that channel badly. A fault in "
               "one sensor lights up one row; a change in the whole process lights up all of them.")

st.subheader("Events")
anomaly_events.events_section(run, outcome, axis)

# ---- how good is it? ----------------------------------------------------------------------------------
st.subheader("How good is it, beside simple baselines?")
if not scored.labelled:
    st.info("This recording has no anomaly labels, so no score can be checked against the truth: the page shows "
            "where the model is surprised, not whether it is right. Load a recording with a 0/1 label column (the "
            "bundled InternalBleeding16 has one) to compare the VAE with the baselines.", icon=":material/label_off:")
else:
    st.caption("Every method scores the same time steps. VUS-PR and VUS-ROC (range-aware, Paparrizos et al. 2022) "
               "and the point-wise ROC-AUC and AP need no threshold; the event rows use each method's own threshold "
               f"under the rule above. A labelled event is found when an alarm overlaps it. {HEADER_WORDS}.")
    for part in scored.parts:
        st.markdown(f"**{anomaly_tables.part_title(scored, part)}**")
        st.dataframe(anomaly_tables.metrics_frame(scored, outcome, part), hide_index=True,
                     key=f"anomaly_metrics_{part}")
        for sentence in anomaly_tables.verdict(scored, outcome, part):
            st.markdown(sentence)
    first = next(iter(scored.parts))
    with st.expander(f"Point-adjusted F1 ({PART_NAMES[first]}): read its caveat first"):
        table, caveat = anomaly_tables.point_adjusted(scored, outcome, first)
        st.warning(caveat)
        st.dataframe(table, hide_index=True, key="anomaly_point_adjusted")

st.subheader("Replay")
st.caption("The recording played through the model as if it arrived live: the rolling score, the threshold, each "
           "alarm at the moment it would have fired, and how long after each labelled event began.")
anomaly_replay.replay_section(axis, s.total, s.labels, outcome)
