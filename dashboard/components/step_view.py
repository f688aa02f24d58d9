"""Step mode: while a run is paused, one chosen input's ELBO written out with its own numbers, and Step, which takes
one optimiser step and shows each term before and after it.

The terms come from analysis.elbo_terms with its own seeded noise, so before and after a step the same ε is drawn
and the difference is the step's doing. The model is read only while the training thread holds between steps.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from vae_core import analysis
from vae_core.analysis import ElboTerms
from vae_core.config import to_dict, variant_words
from vae_core.dataset import Dataset

from ..jobs import JobSnapshot, TrainJob
from . import charts, compare, explore, images
from .live_controls import in_force

DRAWS = 4  # draws of ε shown
CHOICES = 60  # inputs of the evaluation part offered


def terms_now(job: TrainJob, x: np.ndarray, beta: float) -> ElboTerms | None:
    """The chosen input's ELBO terms from the model as it holds now (None while it trains)."""
    return job.while_held(lambda model: analysis.elbo_terms(model, x, beta=beta, draws=DRAWS, seed=0))


def penalised_kl(terms: ElboTerms, free_bits: float) -> float:
    """The KL as the loss counts it: with free bits λ, each dimension counts at least λ (Kingma et al. 2016)."""
    return float(np.maximum(terms.kl_per_dim, free_bits).sum()) if free_bits > 0 else terms.kl


def loss_of(terms: ElboTerms, free_bits: float) -> float:
    return terms.recon + terms.beta * penalised_kl(terms, free_bits)


def _choose(data: Dataset, job: TrainJob) -> int:
    part = compare.eval_part(data)
    index = data.indices(part)[:CHOICES]
    key = explore.keep(f"step_input_{job.id[:8]}", int(index[0]))
    if st.session_state.get(key) not in set(index.tolist()):
        st.session_state[key] = int(index[0])
    return st.selectbox(f"Input ({part} part)", [int(i) for i in index], key=key,
                        format_func=lambda i: explore.item_name(data, i),
                        help="The input whose ELBO is written out below, before and after each step.")


def _step(job: TrainJob, index: int, beta: float, free_bits: float, key: str) -> None:
    """Step: the terms now, one optimiser step, the terms after it (kept for the table)."""
    before_step, x = job.run.state.step, job.data.x[index]
    before = terms_now(job, x, beta)
    job.step_once()
    if before is None or not job.wait_held(before_step + 1):
        st.session_state[key] = None
        return
    after = terms_now(job, x, in_force(job)["beta"])
    st.session_state[key] = None if after is None else {
        "index": index, "before_step": before_step, "before": before, "after_step": job.run.state.step, "after": after,
        "free_bits": free_bits, "batch": min(job.train_cfg.batch_size, len(job.data.indices("train")))}


def _formula(t: ElboTerms, free_bits: float) -> str:
    kl_word = r"\sum_d \max(\lambda, \mathrm{KL}_d)" if free_bits > 0 else r"\mathrm{KL}(q(z|x)\,\|\,p(z))"
    recon = rf"-\tfrac{{1}}{{{len(t.recon_per_draw)}}}\textstyle\sum_k \log p(x|z_k)"
    return (rf"\underbrace{{{recon}}}_{{{t.recon:.2f}}} + \underbrace{{\beta}}_{{{t.beta:g}}} \cdot "
            rf"\underbrace{{{kl_word}}}_{{{penalised_kl(t, free_bits):.2f}}} = "
            rf"{loss_of(t, free_bits):.2f}\ \text{{nats}}")


def _posterior_chart(t: ElboTerms) -> go.Figure:
    d = np.arange(len(t.mu))
    fig = go.Figure([go.Bar(x=d, y=t.mu, name="μ", marker_color="#1f77b4",
                            error_y=dict(type="data", array=2 * t.sigma, visible=True, color="#555"))])
    for k in range(len(t.z)):
        fig.add_trace(go.Scatter(x=d, y=t.z[k], mode="markers", name=f"z{k + 1}", marker=dict(size=7, symbol="x")))
    fig.update_xaxes(title_text="latent dimension", dtick=1)
    fig.update_yaxes(title_text="value")
    fig = compare.legend_below(charts._layout(fig, "q(z|x): μ ± 2σ per dimension, and the draws z = μ + σ·ε", 330),
                               y=-0.3)  # under the axis title, which it covered at -0.18
    return fig.update_layout(margin=dict(b=95))


def _pictures(data: Dataset, x: np.ndarray, t: ElboTerms) -> None:
    if data.kind == "image":
        tiles = np.concatenate([x[None], t.mean_reconstruction[None], t.reconstructions])
        st.image(images.mosaic(tiles, cols=len(tiles), upscale=3),
                 caption="The input, the decoded μ, then the decoded z1 … z" + str(len(t.z)))
    else:
        st.plotly_chart(charts.window_overlay(x, t.mean_reconstruction, compare.channel_names(data),
                                              "The window (solid) and the decoded μ (dashed)"), key="step_window")


def _before_after(saved: dict) -> None:
    before, after, free_bits = saved["before"], saved["after"], saved["free_bits"]
    rows = {"reconstruction −log p(x|z)": (before.recon, after.recon), "KL": (before.kl, after.kl),
            "β · KL as the loss counts it": (before.beta * penalised_kl(before, free_bits),
                                             after.beta * penalised_kl(after, free_bits)),
            "total (this input's loss)": (loss_of(before, free_bits), loss_of(after, free_bits))}
    columns = ["term (nats)", f"after step {saved['before_step']}", f"after step {saved['after_step']}", "change"]
    table = pd.DataFrame([(name, b, a, a - b) for name, (b, a) in rows.items()], columns=columns)
    st.dataframe(table, hide_index=True, column_config={c: st.column_config.NumberColumn(format="%.3f")
                                                        for c in table.columns[1:]})
    moved = loss_of(after, free_bits) - loss_of(before, free_bits)
    st.caption(f"One step on one batch of {saved['batch']} training inputs moved this input's loss by "
               f"{moved:+.3f} nats ({'down' if moved < 0 else 'up'}): the step follows the batch's gradient, not "
               "this input's, so its own loss can go either way. The draws use the same ε before and after, so the "
               "change is the step's.")


def panel(job: TrainJob, snap: JobSnapshot) -> None:
    """The step-mode panel (shown while the run is paused)."""
    data = job.data
    st.subheader("Step through one input")
    family = variant_words({**to_dict(job.run.model_cfg), **to_dict(job.train_cfg)})
    if family != "VAE":  # the written-out loss is a plain VAE's ELBO: not this run's objective
        st.button("Step", key="train_step", icon=":material/skip_next:", disabled=not snap.held, on_click=job.step_once,
                  help="Take one optimiser step on the run's next batch, then hold again.")
        st.caption(f"Step takes one optimiser step. The loss written out for one input is a plain VAE's ELBO; this "
                   f"run is a {family}, so its terms are on the curves instead.")
        return
    index = _choose(data, job)
    x = data.x[index]
    values = in_force(job)
    terms = terms_now(job, x, values["beta"])
    key = f"step_result_{job.id[:8]}"
    st.button("Step", key="train_step", icon=":material/skip_next:", disabled=not snap.held,
              on_click=_step, args=(job, index, values["beta"], values["free_bits"], key),
              help="Take one optimiser step on the run's next batch, then hold again.")
    if terms is None:
        st.caption("Waiting for the run to hold between two steps…")
        return
    st.markdown(f"**{explore.item_name(data, index)}** after step {job.run.state.step}: its loss written out, "
                f"with {DRAWS} draws of ε.")
    st.latex(_formula(terms, values["free_bits"]))
    if values["free_bits"] > 0:
        st.caption(f"With free bits λ = {values['free_bits']:g} the loss counts each dimension's KL as at least λ, "
                   f"so it is not this input's negative ELBO ({terms.recon + terms.kl:.2f} nats).")
    elif terms.beta != 1:
        st.caption(f"With β = {terms.beta:g} this is not the negative ELBO; that is reconstruction + KL = "
                   f"{terms.recon + terms.kl:.2f} nats.")
    _pictures(data, x, terms)
    st.plotly_chart(_posterior_chart(terms), key="step_posterior", config=charts.PNG_CONFIG)
    draws = pd.DataFrame({"draw": [f"z{k + 1}" for k in range(len(terms.z))],
                          "−log p(x|z) (nats)": terms.recon_per_draw,
                          **{f"ε{d}": terms.eps[:, d] for d in range(min(terms.eps.shape[1], 8))}})
    st.dataframe(draws.round(3), hide_index=True)
    saved = st.session_state.get(key)
    if saved is not None and saved["index"] == index:
        _before_after(saved)
