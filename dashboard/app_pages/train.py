"""Train: set the hyperparameters, press Train, watch the curves and the latent map form, stop any time."""
from __future__ import annotations

import streamlit as st

from dashboard import state
from dashboard.components import checklist, live_controls, settings, training
from dashboard.components.sidebar import data_line

ws = state.workspace()
data = ws.data
job = ws.job
running = job is not None and job.active

st.title("Train")
left, right = st.columns([1, 2], gap="large")

with left:
    st.markdown(f"Data: {data_line(ws)}")
    st.page_link("app_pages/data.py", label="Choose other data", icon=":material/dataset:")
    configs = settings.show(data)
    checklist.show(data, configs)
    b1, b2 = st.columns(2)
    if b1.button("Train", type="primary", disabled=running or configs is None, key="train_start", width="stretch",
                 help="Train a new model with these settings in the background."):
        training.start_new(ws, configs)
        st.rerun()
    if b2.button("Stop", disabled=not running, key="train_stop", width="stretch",
                 help="Stop after the current step. The model keeps what it has learned."):
        job.stop_and_wait()
        st.rerun()
    if running and job.status in ("queued", "running"):
        live_controls.pause_buttons(job)
        live_controls.knobs(job)
    run = ws.current_run()
    if not running and training.continuable(ws, run):
        interrupted = run.status == "interrupted"
        with st.expander(f"Continue {'the interrupted ' if interrupted else 'training '}{run.label}",
                         expanded=interrupted):
            if interrupted:
                st.caption(f"It was {run.message}. It goes on from that checkpoint to epoch {run.train_cfg.epochs}.")
            extra = 0 if interrupted else st.slider("More epochs", 1, 200, 10, key="continue_epochs")
            if st.button("Continue training", key="train_continue",
                         help="Train this run further from the very step it stopped at (same optimiser state "
                              "and random draws as if it had never stopped)."):
                training.start_continue(ws, run, extra)
                st.rerun()

with right:
    training.live_panel(ws, running)
