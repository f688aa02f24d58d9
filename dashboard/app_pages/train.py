"""Train: set the hyperparameters, press Train, watch the curves and the latent map form, stop any time."""
from __future__ import annotations

import time
from dataclasses import replace

import streamlit as st

from dashboard import state
from dashboard.components import charts, settings
from dashboard.components.sidebar import data_line
from dashboard.jobs import JobSnapshot, TrainJob
from dashboard.workspace import RunRecord, Workspace

POLL_SECONDS = 0.5
FINAL = {"finished": st.success, "early_stopped": st.success, "stopped": st.info, "diverged": st.error,
         "failed": st.error}

ws = state.workspace()
data = ws.data
job = ws.job
running = job is not None and job.active


def start(ws: Workspace, job: TrainJob) -> None:
    if ws.job is not None and ws.job.active:  # a second click, or a second tab: never two jobs at once
        return
    ws.job = job.start()


def continuable(run: RunRecord | None) -> bool:
    return run is not None and run.state is not None and run.data is data and run.status != "diverged"


st.title("Train")
left, right = st.columns([1, 2], gap="large")

with left:
    st.markdown(f"Data: {data_line(ws)}")
    st.page_link("app_pages/data.py", label="Choose other data", icon=":material/dataset:")
    configs = settings.show(data)
    b1, b2 = st.columns(2)
    if b1.button("Train", type="primary", disabled=running or configs is None, key="train_start", width="stretch",
                 help="Train a new model with these settings in the background."):
        start(ws, TrainJob(data, *configs, state.job_slots(), ws.job_finished))
        st.rerun()
    if b2.button("Stop", disabled=not running, key="train_stop", width="stretch",
                 help="Stop after the current step. The model keeps what it has learned."):
        job.stop()
        st.rerun()
    run = ws.current_run()
    if not running and continuable(run):
        with st.expander(f"Continue training {run.label}"):
            extra = st.slider("More epochs", 1, 200, 10, key="continue_epochs")
            if st.button("Continue training", key="train_continue"):
                cfg = replace(run.train_cfg, epochs=run.state.epoch + extra)
                start(ws, TrainJob(data, run.model.cfg, cfg, state.job_slots(), ws.job_finished, model=run.model,
                                   state=run.state, history=run.events, continues=run.id))
                st.rerun()


def progress_line(snap: JobSnapshot, epochs: int) -> None:
    steps = [e for e in snap.events if e.kind == "step"]
    if snap.status == "queued":
        st.info(f"Waiting for a free training slot: you are number {snap.queue_position or 1} in the queue. "
                f"Training starts by itself.", icon=":material/hourglass:")
        return
    if not steps:
        st.progress(0.0, text="Starting…")
        return
    last = steps[-1]
    fraction = min(1.0, last.step / max(last.total_steps, 1))
    left_s = last.seconds / max(last.step - steps[0].step + 1, 1) * (last.total_steps - last.step)
    eta = f" · about {left_s:.0f} s left" if snap.status == "running" else ""
    st.progress(fraction, text=f"Epoch {last.epoch}/{epochs} · step {last.step}/{last.total_steps}{eta}")
    cols = st.columns(3) + st.columns(3)
    cols[0].metric("Total loss", f"{last.loss:.1f}", help="Reconstruction + β × KL, nats per sample (this step).")
    cols[1].metric("Reconstruction", f"{last.recon:.1f}", help="-log p(x|z): how badly the input is rebuilt.")
    cols[2].metric("KL", f"{last.kl:.2f}", help="How far the codes are from the prior N(0, I), in nats.")
    cols[3].metric("β in force", f"{last.beta:.3g}", help="The KL weight right now (it ramps during warm-up).")
    cols[4].metric("Learning rate", f"{last.lr:.2g}")
    cols[5].metric("Samples/s", f"{last.samples_per_second:,.0f}")


def final_message(snap: JobSnapshot, job: TrainJob) -> None:
    show = FINAL.get(snap.status)
    if show is None:
        if snap.status == "evaluating":
            st.info("Training done; evaluating on the test part…", icon=":material/hourglass:")
        return
    text = {"finished": "Finished", "early_stopped": "Stopped early", "stopped": "Stopped",
            "diverged": "Training diverged", "failed": "Training could not run"}[snap.status]
    show(f"{text}: {snap.message}")
    run = ws.current_run()
    if run is not None and job.result is not None:
        s = run.summary
        st.markdown(f"**{run.label}**: test neg. ELBO **{s['test_neg_elbo']:.2f}** nats "
                    f"(reconstruction {s['recon']:.2f} + KL {s['kl']:.2f}), {s['active_units']} of "
                    f"{s['latent_dim']} latent units active.")
        if s.get("collapsed"):
            reason = s["collapse_reason"]
            st.warning(reason[:1].upper() + reason[1:], icon=":material/warning:")
        links = st.columns(4)
        links[0].page_link("app_pages/latent.py", label="Latent space", icon=":material/scatter_plot:")
        links[1].page_link("app_pages/generate.py", label="Reconstructions", icon=":material/auto_awesome:")
        links[2].page_link("app_pages/diagnostics.py", label="Diagnostics", icon=":material/monitor_heart:")
        links[3].page_link("app_pages/runs.py", label="All runs", icon=":material/table_chart:")


def first_steps(job: TrainJob, wait_seconds: float = 1.0) -> JobSnapshot:
    """The job's snapshot; right after the start, waits (up to a second) for its first step.

    The first step comes a fraction of a second after Train: waiting for it here puts the first curve
    point on screen in this run instead of the next poll, half a second later.
    """
    deadline = time.monotonic() + wait_seconds
    snap = job.snapshot()
    while snap.status in ("queued", "running") and snap.queue_position is None and not snap.events \
            and time.monotonic() < deadline:
        time.sleep(0.02)
        snap = job.snapshot()
    return snap


@st.fragment(run_every=POLL_SECONDS if running else None)
def live_panel() -> None:
    """Redraws while the job runs; one full rerun when it ends switches the polling off."""
    job = ws.job
    if job is None:
        st.info("Press **Train** to start. The curves and the latent map appear here while the model learns; "
                "the page stays usable and **Stop** keeps what was learned.", icon=":material/model_training:")
        # the empty chart shows where the curves will come, and has the browser load plotly before the first point
        st.plotly_chart(charts.loss_curves([]), key="live_curves", config=charts.PNG_CONFIG)
        return
    snap = first_steps(job)
    progress_line(snap, job.train_cfg.epochs)
    if snap.events:
        st.plotly_chart(charts.loss_curves(snap.events), key="live_curves", config=charts.PNG_CONFIG)
    if snap.live_map is not None:
        m = snap.live_map
        title = (f"Latent means after epoch {m.epoch}" if m.epoch else "Latent means before training") + \
                (" (the 2-D code itself)" if m.method == "z" else " (first two principal components)")
        st.plotly_chart(charts.latent_scatter(m.coords, m.labels, title, height=420), key="live_map",
                        config=charts.PNG_CONFIG)
    final_message(snap, job)
    if running and not job.active:
        st.rerun()  # full rerun: buttons re-enable, polling stops


with right:
    live_panel()
