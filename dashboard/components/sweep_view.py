"""The Sweep page's moving parts: the Train page's settings a sweep keeps, the live table and heat maps, and
opening a trial as a run."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from vae_core.dataset import Dataset
from vae_core.settings import parse_sizes
from vae_core.store import StoreError
from vae_core.sweep.background import SweepSnapshot, SweepTask

from .. import state
from ..links import defaults
from ..workspace import Workspace
from . import charts, heatmap, rate_distortion_view

POLL_SECONDS = 1.0
SWEEP = "sweep"  # key of this workspace's sweep in ws.background
OPENED = "sweep_opened"  # session_state: trial key -> workspace run id, so a trial is added once
LAST_CLICK = "sweep_last_click"


def other_settings(data: Dataset) -> dict:
    """The Train page's architecture, layer sizes, learning rate, batch size and seed (when for this data kind)."""
    s = state.settings() if state.settings().get("kind") == data.kind else {}
    base = defaults(data.kind, s.get("arch"))
    fixed = {name: s.get(name, base[name]) for name in ("arch", "lr", "batch_size")}
    hidden = s.get("hidden", base["hidden"])
    fixed["hidden"] = parse_sizes(hidden) if isinstance(hidden, str) else hidden
    if fixed["hidden"] is None:
        del fixed["hidden"]  # the Train page shows the problem; the sweep takes the recommended sizes
    return {"fixed": fixed, "seed": int(s.get("seed", 0))}



def open_trial(ws: Workspace, sweep: SweepTask, key: str) -> None:
    """Add the trial's run to the workspace (once) and make it the run the other pages show."""
    opened = st.session_state.setdefault(OPENED, {})
    record = ws.run(opened.get(key))
    if record is None:
        run = sweep.run_of(key)
        if run is None:
            st.warning("That trial's model is not available (it failed, or the sweep was restarted).")
            return
        row = next(r for r in sweep.snapshot().rows if r["key"] == key)
        run.data, run.message = sweep.data, f"sweep trial {row['trial']}"
        try:
            record = ws.add_run(run)
        except StoreError as exc:
            st.error(f"Could not keep that trial: {exc}")
            return
        opened[key] = record.id
    ws.selected_run = record.id
    state.flash(f"Opened {record.label}: the Latent space, Reconstructions and Diagnostics pages now show it.")
    st.rerun()


def status_line(snap: SweepSnapshot, sweep: SweepTask) -> None:
    done = len(snap.rows)
    names = {"beta": "β", "latent_dim": "latent size"}
    current = ", ".join(f"{names.get(k, k)} {v:g}" if isinstance(v, float) else f"{names.get(k, k)} {v}"
                        for k, v in (snap.current or {}).items())
    if snap.status == "queued":
        place = state.job_slots().position(sweep.id)
        st.info(f"Waiting for a free training slot{f': number {place} in the queue' if place else ''}. Other "
                f"people's training shares this server; the sweep goes on by itself. "
                f"{done} of {snap.total or '?'} trials done.", icon=":material/hourglass:")
    elif snap.status in ("running", "starting"):
        st.progress(done / max(snap.total, 1), text=f"{done} of {snap.total or '?'} trials done · training {current}"
                    if current else f"{done} of {snap.total or '?'} trials done")
    elif snap.status == "finished":
        st.success(f"Sweep finished: {snap.message} in {snap.seconds:.0f} s.")
    elif snap.status == "stopped":
        st.info(f"Sweep stopped: {done} finished trials kept.")
    else:
        st.error(f"The sweep could not run: {snap.message}")


def results_table(rows: list[dict]) -> None:
    """One row per trial, narrow enough for the page's right column at 1024 px: the loss only when the sweep tried
    several, a note only for collapsed or failed trials (the status line above gives the time)."""
    frame = pd.DataFrame([{
        "β": r["beta"], "z": r["latent_dim"], "loss": r["loss"], "neg. ELBO": r.get("test_neg_elbo"),
        "recon": r.get("recon"), "KL": r.get("kl"),
        "active": f"{r['active_units']}/{r['latent_dim']}" if r.get("active_units") is not None else "-",
        "note": "failed" if r["status"] == "failed" else "collapsed" if r.get("collapsed") else "",
    } for r in rows])
    one_loss, no_notes = frame["loss"].nunique() < 2, not frame["note"].any()
    frame = frame.drop(columns=["loss"] * one_loss + ["note"] * no_notes)
    st.dataframe(frame, hide_index=True, key=f"sweep_table_{len(rows)}", height=min(38 + 35 * len(rows), 300),
                 column_config={
                     "β": st.column_config.NumberColumn("β", format="%g", help="The KL weight."),
                     "z": st.column_config.NumberColumn("z", help="Latent size: dimensions of the code z."),
                     "neg. ELBO": st.column_config.NumberColumn(
                         "neg. ELBO", format="%.1f", help="Test negative ELBO: reconstruction + KL on the test "
                                                          "part, nats per sample. Lower is better (compare within "
                                                          "one loss)."),
                     "recon": st.column_config.NumberColumn("recon", format="%.1f", help="Reconstruction, test part."),
                     "KL": st.column_config.NumberColumn("KL", format="%.2f", help="KL to the prior, test part."),
                     "active": st.column_config.TextColumn("active", help="Active latent units of all units."),
                 })


def trial_label(row: dict) -> str:
    score = f"neg. ELBO {row['test_neg_elbo']:.2f}" if row.get("test_neg_elbo") is not None else row["status"]
    return (f"β={row['beta']:g}, latent size {row['latent_dim']}, {row['loss']}: {score}"
            + (" (collapsed)" if row.get("collapsed") else ""))


def live_panel(ws: Workspace, running: bool) -> None:
    """The sweep's progress, table and heat maps; redrawn every POLL_SECONDS while it runs."""

    @st.fragment(run_every=POLL_SECONDS if running else None)
    def panel() -> None:
        sweep: SweepTask | None = ws.background.get(SWEEP)
        if sweep is None:
            st.info("Pick the values to compare and press **Start sweep**. Each finished trial appears in the table "
                    "and on the heat maps; click a cell to explore that model on the other pages.",
                    icon=":material/grid_on:")
            return
        snap = sweep.snapshot()
        status_line(snap, sweep)
        if sweep.data is not ws.data:
            st.caption(f"This sweep ran on {sweep.data.name}, not on the data chosen now.")
        if not snap.rows:
            if running and not sweep.active:
                st.rerun()
            return
        results_table(snap.rows)
        metric = st.selectbox("Colour the cells by", list(heatmap.METRICS), key="sweep_metric",
                              format_func=lambda m: heatmap.METRICS[m][0],
                              help="Neg. ELBO: how well the model explains the test data (lower is better). KL: how "
                                   "much information the codes carry. Active units: latent dimensions the model really "
                                   "uses.")
        st.caption(f"Colour: {heatmap.METRICS[metric][2]}. ✕ marks a collapsed model (its codes ignore the input). "
                   "Click a cell to open that trial's model on the other pages.")
        maps = heatmap.sweep_heatmaps(snap.rows, metric)
        cols = st.columns(len(maps)) if 1 < len(maps) <= 2 else [st.container() for _ in maps]
        for (loss, fig), col in zip(maps, cols, strict=True):
            chart_key = f"sweep_heat_{loss}_{metric}_{len(snap.rows)}_{sweep.id[:8]}"
            with col:
                event = st.plotly_chart(fig, key=chart_key, on_select="rerun", selection_mode="points",
                                        config=charts.PNG_CONFIG)
            picked = heatmap.picked_key(event)
            if picked and st.session_state.get(LAST_CLICK) != (chart_key, picked):
                st.session_state[LAST_CLICK] = (chart_key, picked)
                open_trial(ws, sweep, picked)
        rate_distortion_view.show(snap.rows, sweep.plan.varied or list(sweep.plan.space), sweep.run_of, sweep.data,
                                  f"{len(snap.rows)}_{sweep.id[:8]}")
        finished = [r for r in snap.rows if r["status"] != "failed"]
        if finished:
            c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
            keys = [r["key"] for r in sorted(finished, key=lambda r: (r["loss"], r["beta"], r["latent_dim"]))]
            labels = {r["key"]: trial_label(r) for r in finished}
            pick = c1.selectbox("Trial", keys, format_func=labels.get, key=f"sweep_pick_{len(finished)}",
                                help="Any finished trial: open it to see its latent space, reconstructions and "
                                     "diagnostics.")
            if c2.button("Open this trial", key="sweep_open", width="stretch",
                         help="Adds the trial's model to your runs and makes it the one the other pages show."):
                open_trial(ws, sweep, pick)
        failed = [r for r in snap.rows if r["status"] == "failed"]
        for r in failed[:3]:
            st.warning(f"Trial {trial_label(r)} failed: {r.get('message')}", icon=":material/error:")
        if running and not sweep.active:
            st.rerun()  # full rerun: buttons re-enable, polling stops



    panel()
