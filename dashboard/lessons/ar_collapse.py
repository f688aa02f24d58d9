"""Lesson 11: the classic collapse (Bowman et al. 2016). An autoregressive decoder (a GRU reading the previous step)
models a smooth physiological signal from its own past, so at β = 1 the code goes unused; the standard cures side
by side: KL warm-up, free bits, dropping the decoder's input, a weaker decoder. A decoder that cannot read the
past (1-D convolutions) is the baseline."""
from __future__ import annotations

import plotly.graph_objects as go

from vae_core import analysis
from vae_core.run import Run

from ..components import charts, compare
from ..lesson_titles import TITLES
from .common import Lesson, Plot, Row, Step, Text, epochs, kl_bars

EPOCHS = 30
WARMUP_EPOCHS = 15
FREE_BITS = 0.5
INPUT_DROPOUT = 0.8
WEAK = (64, 4)  # the encoder's GRU state, the decoder's


def role(run: Run) -> str:
    m, t = run.model_cfg, run.train_cfg
    if m.arch != "argru":
        return "baseline"
    if t.warmup != "none":
        return "warmup"
    if t.free_bits > 0:
        return "free_bits"
    if m.decoder_input_dropout > 0:
        return "dropout"
    if m.hidden[-1] < m.hidden[0]:
        return "weak"
    return "plain"


NAMES = {"plain": "autoregressive decoder", "baseline": "non-autoregressive decoder (1-D conv)",
         "warmup": "+ KL warm-up", "free_bits": "+ free bits", "dropout": "+ decoder input dropout",
         "weak": "+ a weaker decoder"}


CURES = {"warmup": "KL warm-up", "free_bits": "free bits", "dropout": "decoder input dropout",
         "weak": "a weaker decoder"}
WHY = {  # each cure's mechanism, said when the run behaved as it predicts
    "warmup": "Warm-up only changes the start: once β is back at 1, the decoder's own past is still cheaper than z.",
    "free_bits": "Free bits make the first nats in each dimension of z cost nothing, so the optimiser keeps them.",
    "dropout": "Hiding the previous step makes the past unreliable, so z has to carry the window.",
    "weak": "A small decoder cannot model the signal from its past alone, so it needs z.",
}


def name(run: Run) -> str:
    return NAMES[role(run)]


def _facts(run: Run) -> str:
    s = run.summary
    return (f"KL {s['kl']:.2f} nats, {s['active_units']} of {s['latent_dim']} active units, reconstruction "
            f"{s['recon']:.2f} nats (diagnosis: {analysis.VERDICT_WORDS[s['verdict']]})")


def _what(run: Run) -> str:
    m, t = run.model_cfg, run.train_cfg
    return {"warmup": f"β ramped from 0 to {t.beta:g} over {t.warmup_epochs:g} epochs",
            "free_bits": f"{t.free_bits:g} nats per dimension free of charge",
            "dropout": f"the previous step hidden at {m.decoder_input_dropout:.0%} of the steps",
            "weak": f"a GRU state of {m.hidden[-1]} instead of {m.hidden[0]}"}.get(role(run), "")


def story(runs: list[Run]) -> list:
    by = {role(r): r for r in runs}
    out = []
    plain, base = by.get("plain"), by.get("baseline")
    if plain is not None:
        p = plain.summary
        kind = "error" if p["collapsed"] else "info"
        head = ("**The classic collapse.**" if p["collapsed"] else
                "**No collapse this time.**" if p["verdict"] != "too_early" else "**Too early to call.**")
        first, last = epochs(plain)[0], epochs(plain)[-1]
        out.append(Text(
            f"{head} With the autoregressive decoder at β = {plain.train_cfg.beta:g}: {_facts(plain)}. Over training "
            f"the KL went from {first.kl:.2f} to {last.kl:.2f} nats while the reconstruction fell from "
            f"{first.recon:.2f} to {last.recon:.2f}: the decoder predicts each step from the ones before, and z "
            "is not worth its KL.", kind))
    if base is not None:
        out.append(Text(f"The same encoder and β with a decoder that cannot read the past ({name(base)}): "
                        f"{_facts(base)}. It has to put the window into z."))
    cured, failed = [], []
    for key in ("warmup", "free_bits", "dropout", "weak"):
        run = by.get(key)
        if run is None:
            continue
        s = run.summary
        gained = plain is not None and s["active_units"] > plain.summary["active_units"] and not s["collapsed"]
        (cured if gained else failed).append(run)
        out.append(Text(f"**{name(run)}** ({_what(run)}): {_facts(run)}.", "success" if gained else "warning"))
    if plain is not None and (cured or failed):
        words = (f"Recovered the code: {', '.join(CURES[role(r)] for r in cured)}. " if cured else
                 "No cure recovered the code this time. ")
        words += f"Not enough: {', '.join(CURES[role(r)] for r in failed)}. " if failed else ""
        words += " ".join(WHY[role(r)] for r in (*cured, *failed) if (r in cured) == (role(r) != "warmup"))
        out.append(Text(words))
    return out


def figures(runs: list[Run]) -> list:
    ordered = sorted(runs, key=lambda r: list(NAMES).index(role(r)))
    legend = "; ".join(f"run {r.number}: {name(r)}" for r in ordered)
    data = ordered[0].data
    idx = compare.showcase(data, 1)
    x = data.x[idx[0]]
    fig = go.Figure(go.Scatter(y=x[:, 0], mode="lines", name=f"test window ({data.channels[0]})",
                               line=dict(color="black", width=2.5)))
    for i, r in enumerate(ordered):
        recon = r.memo.get(("lesson_ar", "recon"), lambda r=r: analysis.reconstruct(r.model, x[None])[0])
        fig.add_scatter(y=recon[:, 0], mode="lines", name=f"run {r.number}: {name(r)}",
                        line=dict(dash="dot", color=charts.PALETTE[i % len(charts.PALETTE)]))
    fig.update_layout(xaxis_title="time step in window", yaxis_title="scaled value")
    fig = compare.legend_below(charts._layout(fig, "A test window and each run's reconstruction from z", 380))
    return [
        Plot(compare.overlay_curves(ordered), f"{legend}. The KL panel tells the story: at zero, the code is unused."),
        *(Row([Plot(kl_bars(r, f"run {r.number}: KL per dimension")) for r in ordered[i:i + 3]])
          for i in range(0, len(ordered), 3)),
        Plot(fig, "Reconstructions decoded from z alone (an autoregressive decoder feeds back its own steps): a "
                  "collapsed model draws the same window whatever the input."),
    ]


LESSON = Lesson(
    number=11, title=TITLES[11],
    summary="Give the decoder the previous step and it needs no code: at β = 1 an autoregressive VAE ignores z. "
            "This is the posterior collapse the literature means. Four standard cures, side by side.",
    data="bleeding", base={"arch": "argru", "epochs": EPOCHS},
    steps=(Step("autoregressive decoder, β = 1"),
           Step("non-autoregressive decoder (baseline)", {"arch": "conv1d"}),
           Step("+ KL warm-up", {"warmup": "linear", "warmup_epochs": float(WARMUP_EPOCHS)}),
           Step("+ free bits", {"free_bits": FREE_BITS}),
           Step("+ decoder input dropout", {"decoder_input_dropout": INPUT_DROPOUT}),
           Step("+ a weaker decoder", {"hidden": WEAK})),
    look_for=(
        "The **KL panel**: the autoregressive decoder's KL sinks to zero while its reconstruction keeps improving.",
        "The **baseline** cannot read the past: its code stays in use at the same β.",
        "Which **cures** bring the active units back, and what each costs in reconstruction.",
    ),
    story=story, figures=figures, minutes="about 2 minutes",
)
