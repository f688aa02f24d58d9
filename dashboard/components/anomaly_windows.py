"""Anomaly scores of separate sensor samples (BasicMotions: one recording per sample, no time line to score):
each sample's reconstruction error by class, with a threshold from a validation percentile."""
from __future__ import annotations

import streamlit as st

from vae_core import analysis
from vae_core.run import Run

from . import compare
from .charts import PNG_CONFIG


def by_class(run: Run) -> None:
    data = run.data
    errors = compare.window_errors(run)
    reference = "val" if len(data.indices("val")) else "train"
    percentile = st.slider("Threshold: percentile of the validation samples' errors", 80.0, 100.0, 99.0, step=0.1,
                           format="%.1f", key="anomaly_sample_percentile",
                           help="A sample is flagged when it is rebuilt worse than this share of the "
                                f"{'validation' if reference == 'val' else 'training'} samples.")
    threshold = analysis.anomaly_threshold(errors[data.indices(reference)], percentile)
    held_out = data.indices(compare.eval_part(data))
    flagged = int((errors[held_out] > threshold).sum())
    st.metric(f"Flagged {compare.eval_part(data)} samples", f"{flagged} of {len(held_out)}",
              help=f"Threshold {threshold:.3g} nats.")
    if data.y is not None:
        labels = [data.label_text(i) for i in range(len(data.x))]
        st.plotly_chart(compare.errors_by_class(errors, labels, threshold), key="anomaly_by_class", config=PNG_CONFIG)
        st.caption("Each dot is one sample (all parts). Classes the model finds hard to rebuild sit higher.")
    st.info("These samples carry no anomaly labels, so the scores cannot be checked against the truth. A recording "
            "over time (a sensor CSV, or the bundled InternalBleeding16 with its labelled anomaly) gets the full "
            "workbench: every step scored, events, thresholds, baselines and a replay.", icon=":material/label_off:")
