"""Sweep: train one small model per β x latent size x loss, watch the heat maps fill in, open any trial."""
from __future__ import annotations

import streamlit as st

from dashboard import state
from dashboard.components import sweep_view
from dashboard.components.sidebar import data_line
from dashboard.links import defaults
from vae_core.config import LOSS_NAMES, WIDGETS, losses_for
from vae_core.sweep import Choice, SweepError, make_plan
from vae_core.sweep.background import SweepTask

MAX_TRIALS = 24  # trials run one after another on a shared server: keep a sweep to minutes
LATENTS = [1, 2, 4, 8, 16, 32, 64]
SWEEP, LAST_CLICK = sweep_view.SWEEP, sweep_view.LAST_CLICK

ws = state.workspace()
data = ws.data
sweep: SweepTask | None = ws.background.get(SWEEP)
running = sweep is not None and sweep.active


st.title("Sweep")
st.caption("Train one small model per combination of β, latent size and loss, then read the heat maps: where "
           "does the fit get better, where does the KL vanish, where does the latent space collapse?")
left, right = st.columns([1, 2.6], gap="large")

with left:
    st.markdown(f"Data: {data_line(ws)}")
    base = defaults(data.kind)
    # pills, not multiselects: they wrap onto more lines in a narrow column, where a multiselect hid its tags
    betas = st.pills("β values", WIDGETS["beta"].widget.grid, default=[0.5, 1.0, 4.0], key="sweep_betas",
                     selection_mode="multi", format_func=lambda v: f"{v:g}",
                           help="Weights on the KL term to try (β-VAE, Higgins et al. 2017). Large β pushes codes "
                                "towards the prior: smoother latent space, blurrier reconstructions, then collapse.")
    latents = st.pills("Latent sizes", LATENTS, default=[2, 16] if data.kind == "image" else [2, 8],
                       selection_mode="multi", key="sweep_latents",
                       help="Dimensions of the code z to try. A VAE switches off the dimensions it does not need; "
                            "the heat map shows how many it kept.")
    loss_options = losses_for(data.in_unit_interval)
    losses = st.pills("Losses", loss_options, default=[base["loss"]], key="sweep_losses", selection_mode="multi",
                      help="Reconstruction likelihoods to try (" + "; ".join(f"{loss}: {LOSS_NAMES[loss]}" for loss in
                                                                          loss_options) + "). Each loss gets its own "
                           "heat map: neg. ELBOs under different likelihoods are not on one scale.")
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
    other = sweep_view.other_settings(data)
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
    buttons = st.container(horizontal=True)  # side by side while they fit, else one under the other
    if buttons.button("Start sweep", type="primary", disabled=running or problem is not None, key="sweep_start",
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
    if buttons.button("Stop", disabled=not running, key="sweep_stop", width="stretch",
                 help="Stop after the current training step. Finished trials are kept; the current one is dropped."):
        sweep.stop()
        st.rerun()


with right:
    sweep_view.live_panel(ws, running)
