"""Sweep: train one small model per β x latent size x loss, watch the heat maps fill in, open any trial."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.components import charts, heatmap
from dashboard.components.sidebar import data_line
from dashboard.links import defaults
from vae_core.config import LOSS_NAMES, WIDGETS, losses_for
from vae_core.settings import parse_sizes
from vae_core.sweep import Choice, SweepError, make_plan
from vae_core.sweep.background import SweepSnapshot, SweepTask

POLL_SECONDS = 1.0
MAX_TRIALS = 24  # trials run one after another on a shared server: keep a sweep to minutes
LATENTS = [1, 2, 4, 8, 16, 32, 64]
SWEEP = "sweep"  # key of this workspace's sweep in ws.background
OPENED = "sweep_opened"  # session_state: trial key -> workspace run id, so a trial is added once
LAST_CLICK = "sweep_last_click"

ws = state.workspace()
data = ws.data
sweep: SweepTask | None = ws.background.get(SWEEP)
running = sweep is not None and sweep.active


def other_settings() -> dict:
    """The Train page's architecture, layer sizes, learning rate, batch size and seed (when for this data kind)."""
    s = state.settings() if state.settings().get("kind") == data.kind else {}
    base = defaults(data.kind, s.get("arch"))
    fixed = {name: s.get(name, base[name]) for name in ("arch", "lr", "batch_size")}
    hidden = s.get("hidden", base["hidden"])
    fixed["hidden"] = parse_sizes(hidden) if isinstance(hidden, str) else hidden
    if fixed["hidden"] is None:
        del fixed["hidden"]  # the Train page shows the problem; the sweep takes the recommended sizes
    return {"fixed": fixed, "seed": int(s.get("seed", 0))}


def open_trial(sweep: SweepTask, key: str) -> None:
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
        record = ws.add_run(run)
        opened[key] = record.id
    ws.selected_run = record.id
    state.flash(f"Opened {record.label}: the Latent space, Reconstructions and Diagnostics pages now show it.")
    st.rerun()


st.title("Sweep")
st.caption("Train one small model per combination of β, latent size and loss, then read the heat maps: where "
           "does the fit get better, where does the KL vanish, where does the latent space collapse?")
left, right = st.columns([1, 2.6], gap="large")

with left:
    st.markdown(f"Data: {data_line(ws)}")
    base = defaults(data.kind)
    betas = st.multiselect("β values", WIDGETS["beta"].widget.grid, default=[0.5, 1.0, 4.0], key="sweep_betas", format_func=lambda v: f"{v:g}",
                           help="Weights on the KL term to try (β-VAE, Higgins et al. 2017). Large β pushes codes "
                                "towards the prior: smoother latent space, blurrier reconstructions, then collapse.")
    latents = st.multiselect("Latent sizes", LATENTS, default=[2, 16] if data.kind == "image" else [2, 8],
                             key="sweep_latents", help="Dimensions of the code z to try. A VAE switches off the "
                                                       "dimensions it does not need; the heat map shows how many it kept.")
    loss_options = losses_for(data.in_unit_interval)
    losses = st.multiselect("Losses", loss_options, default=[base["loss"]], key="sweep_losses",
                            format_func=LOSS_NAMES.get, help="Reconstruction likelihoods to try. Each loss gets its own "
                                                             "heat map: neg. ELBOs under different likelihoods are not "
                                                             "on one scale.")
    epochs = st.slider("Epochs per trial", 1, 20, 3, key="sweep_epochs",
                       help="Passes over the training data for every trial. Short runs rank settings roughly; "
                            "train the winner longer on the Train page.")
    search = st.radio("Search", ["grid", "random"], horizontal=True, key="sweep_search",
                      format_func={"grid": "every combination", "random": "a random sample"}.get,
                      help="Every combination (a grid), or a seeded random sample of them when the grid is large.")
    combos = len(betas) * len(latents) * len(losses)
    if search == "random":
        trials = st.slider("Trials", 1, max(2, min(MAX_TRIALS, combos)), min(6, max(1, combos)), key="sweep_trials",
                           help="How many of the combinations to train, drawn at random (seeded).",
                           disabled=combos < 2)
        n = min(trials, combos)
    else:
        trials, n = None, combos
    other = other_settings()
    f = other["fixed"]
    st.caption(f"**{n}** trial{'s' if n != 1 else ''}, trained one after another. Architecture "
               f"{f['arch']}{' (' + ','.join(map(str, f['hidden'])) + ')' if 'hidden' in f else ''}, learning rate "
               f"{f['lr']:g}, batch size {f['batch_size']} and seed {other['seed']} come from the Train page.")
    problem = None
    if not combos:
        problem = "Pick at least one value of β, latent size and loss."
    elif n > MAX_TRIALS:
        problem = (f"{n} trials is more than the {MAX_TRIALS} a dashboard sweep runs: remove some values, use a "
                   f"random sample, or run it from the command line (vae-explorer sweep).")
    if problem:
        st.warning(problem, icon=":material/info:")
    b1, b2 = st.columns(2)
    if b1.button("Start sweep", type="primary", disabled=running or problem is not None, key="sweep_start",
                 width="stretch", help="Train the trials in the background; the page stays usable."):
        space = {"beta": Choice(tuple(sorted(float(b) for b in betas))), "latent_dim": Choice(tuple(sorted(latents))),
                 "loss": Choice(tuple(losses))}
        try:
            plan = make_plan(data, ws.data_source or data.name, space, search=search,
                             trials=trials if search == "random" else None, seed=other["seed"],
                             fixed={**other["fixed"], "epochs": int(epochs)})
        except SweepError as exc:
            st.error(str(exc))
        else:
            if not (ws.background.get(SWEEP) and ws.background[SWEEP].active):  # a second click or tab: one sweep
                ws.background[SWEEP] = SweepTask(plan, data, state.job_slots()).start()
                st.session_state.pop(LAST_CLICK, None)
            st.rerun()
    if b2.button("Stop", disabled=not running, key="sweep_stop", width="stretch",
                 help="Stop after the current training step. Finished trials are kept; the current one is dropped."):
        sweep.stop()
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
    frame = pd.DataFrame([{
        "β": r["beta"], "latent size": r["latent_dim"], "loss": r["loss"],
        "test neg. ELBO": r.get("test_neg_elbo"), "recon": r.get("recon"), "KL": r.get("kl"),
        "active units": f"{r['active_units']}/{r['latent_dim']}" if r.get("active_units") is not None else "-",
        "collapsed": "yes" if r.get("collapsed") else "", "seconds": r.get("seconds"), "status": r["status"],
    } for r in rows])
    st.dataframe(frame, hide_index=True, key=f"sweep_table_{len(rows)}", height=min(38 + 35 * len(rows), 300),
                 column_config={
                     "β": st.column_config.NumberColumn("β", format="%g"),
                     "test neg. ELBO": st.column_config.NumberColumn(
                         "test neg. ELBO", format="%.2f", help="Reconstruction + KL on the test part, nats per sample. "
                                                               "Lower is better (compare within one loss)."),
                     "recon": st.column_config.NumberColumn("recon", format="%.2f"),
                     "KL": st.column_config.NumberColumn("KL", format="%.2f"),
                     "seconds": st.column_config.NumberColumn("seconds", format="%.1f"),
                 })


def trial_label(row: dict) -> str:
    score = f"neg. ELBO {row['test_neg_elbo']:.2f}" if row.get("test_neg_elbo") is not None else row["status"]
    return (f"β={row['beta']:g}, latent size {row['latent_dim']}, {row['loss']}: {score}"
            + (" (collapsed)" if row.get("collapsed") else ""))


@st.fragment(run_every=POLL_SECONDS if running else None)
def live_panel() -> None:
    """Redraws while the sweep runs; one full rerun at the end switches the polling off."""
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
                          help="Neg. ELBO: how well the model explains the test data (lower is better). KL: how much "
                               "information the codes carry. Active units: latent dimensions the model really uses.")
    st.caption(f"Colour: {heatmap.METRICS[metric][2]}. ✕ marks a collapsed model (its codes ignore the input). "
               "Click a cell to open that trial's model on the other pages.")
    maps = heatmap.sweep_heatmaps(snap.rows, metric)
    cols = st.columns(len(maps)) if 1 < len(maps) <= 2 else [st.container() for _ in maps]
    for (loss, fig), col in zip(maps, cols):
        chart_key = f"sweep_heat_{loss}_{metric}_{len(snap.rows)}_{sweep.id[:8]}"
        with col:
            event = st.plotly_chart(fig, key=chart_key, on_select="rerun", selection_mode="points",
                                    config=charts.PNG_CONFIG)
        picked = heatmap.picked_key(event)
        if picked and st.session_state.get(LAST_CLICK) != (chart_key, picked):
            st.session_state[LAST_CLICK] = (chart_key, picked)
            open_trial(sweep, picked)
    finished = [r for r in snap.rows if r["status"] != "failed"]
    if finished:
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        keys = [r["key"] for r in sorted(finished, key=lambda r: (r["loss"], r["beta"], r["latent_dim"]))]
        labels = {r["key"]: trial_label(r) for r in finished}
        pick = c1.selectbox("Trial", keys, format_func=labels.get, key=f"sweep_pick_{len(finished)}",
                            help="Any finished trial: open it to see its latent space, reconstructions and diagnostics.")
        if c2.button("Open this trial", key="sweep_open", width="stretch",
                     help="Adds the trial's model to your runs and makes it the one the other pages show."):
            open_trial(sweep, pick)
    failed = [r for r in snap.rows if r["status"] == "failed"]
    for r in failed[:3]:
        st.warning(f"Trial {trial_label(r)} failed: {r.get('message')}", icon=":material/error:")
    if running and not sweep.active:
        st.rerun()  # full rerun: buttons re-enable, polling stops


with right:
    live_panel()
