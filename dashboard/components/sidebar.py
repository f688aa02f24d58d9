"""The sidebar on every page: the data in use, the training job, and which run the pages explore."""
from __future__ import annotations

import streamlit as st

from ..workspace import Workspace
from . import compare, presenter


def data_line(ws: Workspace) -> str:
    """'mnist: 5,000 images of 28×28' and the like."""
    d = ws.data
    if d is None:
        return "no data"
    if d.kind == "image":
        return f"**{d.name}**: {len(d.x):,} images of {d.input_shape[1]}×{d.input_shape[2]}"
    what = "windows" if d.series is not None else "recordings"  # cut from one series, or separate recordings
    return f"**{d.name}**: {len(d.x):,} {what} of {d.input_shape[0]} steps × {d.input_shape[1]} channels"


def show(ws: Workspace) -> None:
    with st.sidebar:
        st.markdown(f"Data: {data_line(ws)}")
        job = ws.job
        if job is not None and job.active:
            snap = job.snapshot()
            if snap.queue_position:
                st.info(f"Training is queued: place {snap.queue_position} in line.", icon=":material/hourglass:")
            else:  # drawn once per page run, so no epoch count here: it would stand still while training goes on
                st.info(f"Training {job.train_cfg.epochs} epochs in the background; the Train page shows the progress.",
                        icon=":material/model_training:")
        if ws.runs:
            ids = [r.id for r in reversed(ws.runs)]
            labels = compare.run_labels(ws.runs)
            current = ws.current_run()
            chosen = st.selectbox("Run to explore", ids, index=ids.index(current.id) if current else 0,
                                  format_func=labels.get,
                                  key=f"sidebar_run_{len(ws.runs)}_{current.id if current else ''}",
                                  help="Every page shows this run: Latent space, Reconstructions, Diagnostics, "
                                       "Anomalies, and the Train page whenever no training job is running.")
            ws.selected_run = chosen
        presenter.toggle()
