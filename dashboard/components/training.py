"""The Train page's moving parts: starting and continuing jobs, and the live panel that polls the job."""
from __future__ import annotations

import time

import streamlit as st

from vae_core.dataset import DataError
from vae_core.run import ACTIVE, STATUS_WORDS, Run

from .. import state
from ..jobs import JobSnapshot, TrainJob
from ..workspace import Workspace
from . import charts, compare, map_replay, step_view

POLL_SECONDS = 0.5
FINAL = {"finished": st.success, "early_stopped": st.success, "stopped": st.info, "diverged": st.error,
         "failed": st.error}


def start(ws: Workspace, job: TrainJob) -> None:
    """Make `job` the workspace's job and start it, unless one is already training (a second click or tab)."""
    with ws.lock:
        if ws.job is not None and ws.job.active:
            return
        ws.job = job.start()


def start_new(ws: Workspace, configs) -> None:
    """Train a new run with these configs on the data in use; a misfit is said on the next page run."""
    try:
        start(ws, ws.new_job(*configs, state.job_slots()))
    except DataError as exc:
        state.flash(f"Training could not start: {exc}", "error")


def continuable(ws: Workspace, run: Run | None) -> bool:
    """A run can train further when it kept its training state and its data is loaded, and it did not diverge."""
    return run is not None and run.state is not None and run.data is not None and run.status != "diverged"


def start_continue(ws: Workspace, run: Run, extra_epochs: int) -> None:
    """Train a run further: an interrupted one to the epochs it was started with, any other `extra_epochs` more."""
    epochs = run.train_cfg.epochs if run.status == "interrupted" else run.state.epoch + extra_epochs
    start(ws, ws.continue_job(run, epochs, state.job_slots()))


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
    with st.container(horizontal=True, gap="large"):  # as many to a line as fit: a narrow column gets fewer
        for label, value, explained in (
                ("Total loss", f"{last.loss:.1f}", "Reconstruction + β × KL, nats per sample (this step)."),
                ("Reconstruction", f"{last.recon:.1f}", "-log p(x|z): how badly the input is rebuilt."),
                ("KL", f"{last.kl:.2f}", "How far the codes are from the prior N(0, I), in nats."),
                ("β in force", f"{last.beta:.3g}", "The KL weight right now (it ramps during warm-up)."),
                ("Learning rate", f"{last.lr:.2g}", None), ("Samples/s", f"{last.samples_per_second:,.0f}", None)):
            st.metric(label, value, help=explained, width="content")


def final_message(status: str, message: str, run: Run) -> None:
    """How the run ended (in a coloured box), its held-out figures and links to the pages that explore it."""
    show = FINAL.get(status)
    if show is None:
        if status == "evaluating":
            st.info("Training done; evaluating on the test part…", icon=":material/hourglass:")
        return
    show(f"{STATUS_WORDS[status][:1].upper()}{STATUS_WORDS[status][1:]}: {message}" if message else
         f"{STATUS_WORDS[status][:1].upper()}{STATUS_WORDS[status][1:]}.")
    if status != "failed" and run.summary:
        s = run.summary
        st.markdown(f"**{run.label}**: test neg. ELBO **{s['test_neg_elbo']:.2f}** nats "
                    f"(reconstruction {s['recon']:.2f} + KL {s['kl']:.2f}), {s['active_units']} of "
                    f"{s['latent_dim']} latent units active.")
        if s.get("collapsed"):
            reason = s["collapse_reason"]
            st.warning(reason[:1].upper() + reason[1:], icon=":material/warning:")
        with st.container(horizontal=True, gap="medium"):  # the links flow onto a second line rather than squeeze
            st.page_link("app_pages/latent.py", label="Latent space", icon=":material/scatter_plot:", width="content")
            st.page_link("app_pages/generate.py", label="Reconstructions", icon=":material/auto_awesome:",
                         width="content")
            st.page_link("app_pages/diagnostics.py", label="Diagnostics", icon=":material/monitor_heart:",
                         width="content")
            st.page_link("app_pages/runs.py", label="All runs", icon=":material/table_chart:", width="content")


def first_steps(job: TrainJob, wait_seconds: float = 1.0) -> JobSnapshot:
    """The job's snapshot; right after the start, waits (up to a second) for its first step.

    The first step comes a fraction of a second after Train: waiting for it here puts the first curve
    point on screen in this run instead of the next poll, half a second later.
    """
    deadline = time.monotonic() + wait_seconds
    snap = job.snapshot()
    while snap.status in ("queued", "running") and snap.queue_position is None and \
            not any(e.kind == "step" for e in snap.events) and time.monotonic() < deadline:
        time.sleep(0.02)
        snap = job.snapshot()
    return snap


def shown(ws: Workspace) -> tuple[TrainJob | None, Run | None]:
    """What the Train page's right side shows: (the job, None) while it trains or when its run is the one chosen in
    the sidebar; else (None, the sidebar's run), which may be None when there is neither."""
    job, run = ws.job, ws.current_run()
    if job is not None and (job.active or run is None or job.run.id == run.id):
        return job, None
    return None, run


def job_panel(job: TrainJob, running: bool) -> None:
    """The job's progress, curves, live latent map and outcome."""
    snap = first_steps(job)
    if snap.status in ACTIVE:
        st.caption(f"Training **{job.run.label}** in the background; the pages that explore a run show the run "
                   "chosen in the sidebar.")
    else:
        st.caption(f"Showing **{job.run.label}**, the run chosen in the sidebar.")
    progress_line(snap, job.train_cfg.epochs)
    if snap.events:
        st.plotly_chart(charts.loss_curves(snap.events), key="live_curves", config=charts.PNG_CONFIG)
    if snap.paused and snap.status == "running":
        st.info(f"Paused after step {job.run.state.step}" + ("" if snap.held else " (holding after this step…)") +
                ". **Step** takes one optimiser step; **Resume** goes on.", icon=":material/pause:")
        step_view.panel(job, snap)
    if snap.status in ACTIVE and snap.live_map is not None:
        m = snap.live_map
        st.plotly_chart(charts.latent_scatter(m.coords, m.labels, map_replay.title(m.method, m.epoch), height=420,
                                              axis_names=charts.map_axes(m.method), extent=m.extent),
                        key="live_map", config=charts.PNG_CONFIG)
    elif snap.status not in ACTIVE:
        map_replay.show(job.history, f"job_{job.id[:8]}")
    final_message(snap.status, snap.message, job.run)
    if snap.evaluating and snap.status != "evaluating":
        st.info("Now scoring it on the test part in the background; its figures appear here when that is done.",
                icon=":material/hourglass:")
    if running and not job.active:
        st.rerun()  # full rerun: buttons re-enable, polling stops


def run_panel(ws: Workspace, run: Run) -> None:
    """A run chosen in the sidebar that no job here trained: its curves, outcome and latent map, from the run."""
    job = ws.job
    if job is not None and job.status == "failed":  # a failed job leaves no run: say so above the one shown
        st.error(f"The last training could not run: {job.message}", icon=":material/error:")
    st.caption(f"Showing **{run.label}**, the run chosen in the sidebar.")
    if run.events:
        st.plotly_chart(charts.loss_curves(run.events), key=f"run_curves_{run.id[:8]}", config=charts.PNG_CONFIG)
    else:
        st.caption("This run carries no training history to draw.")
    history = map_replay.saved(ws, run)
    if history is not None and len(history.frames) > 1:
        map_replay.show(history, f"run_{run.id[:8]}")
    elif run.data is not None:
        coords, labels, method = compare.latent_map(run)
        title = f"Latent means, {compare.eval_part(run.data)} part" + (" (2-D code)" if method == "z" else " (PCA)")
        st.plotly_chart(charts.latent_scatter(coords, labels, title, axis_names=charts.map_axes(method), height=420),
                        key=f"run_map_{run.id[:8]}", config=charts.PNG_CONFIG)
    else:
        st.caption("Its latent map needs the data it was trained on: load that data on the Data page.")
    final_message(run.status, run.message, run)


def live_panel(ws: Workspace, running: bool) -> None:
    """The job while it trains, else the run chosen in the sidebar; redrawn every POLL_SECONDS while a job runs."""

    @st.fragment(run_every=POLL_SECONDS if running else None)
    def panel() -> None:
        job, run = shown(ws)
        if job is not None:
            job_panel(job, running)
        elif run is not None:
            run_panel(ws, run)
        else:
            st.info("Press **Train** to start. The curves and the latent map appear here while the model learns; "
                    "the page stays usable and **Stop** keeps what was learned.", icon=":material/model_training:")
            # the empty chart shows where the curves will come, and has the browser load plotly before the first point
            st.plotly_chart(charts.loss_curves([]), key="live_curves", config=charts.PNG_CONFIG)

    panel()
