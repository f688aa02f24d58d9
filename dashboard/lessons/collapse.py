"""Lesson 3: posterior collapse. A β that collapses the code, the red flag on the curves, and two cures: KL warm-up
(Bowman et al. 2016) and free bits (Kingma et al. 2016)."""
from __future__ import annotations

from vae_core import analysis
from vae_core.run import Run

from ..components import charts, compare, images
from ..lesson_titles import TITLES
from .common import Lesson, Picture, Plot, Row, Step, Text, dims_off, dims_on, epochs, kl_bars

BETA = 32.0
WARMUP_EPOCHS = 5
FREE_BITS = 0.5


def roles(runs: list[Run]) -> tuple[Run, Run, Run]:
    """(plain high β, with warm-up, with free bits), whatever order they come in."""
    plain = next(r for r in runs if r.train_cfg.warmup == "none" and r.train_cfg.free_bits == 0)
    warm = next(r for r in runs if r.train_cfg.warmup != "none")
    free = next(r for r in runs if r.train_cfg.free_bits > 0)
    return plain, warm, free


def name(run: Run) -> str:
    t = run.train_cfg
    if t.warmup != "none":
        return f"β = {t.beta:g} with warm-up"
    if t.free_bits > 0:
        return f"β = {t.beta:g} with free bits"
    return f"β = {t.beta:g}"


def story(runs: list[Run]) -> list:
    plain, warm, free = roles(runs)
    out = []
    s, ep = plain.summary, epochs(plain)
    first, last = ep[0], ep[-1]
    falling = last.recon < first.recon
    if s["collapsed"]:
        recon = (f"while the reconstruction still fell from {first.recon:.1f} to {last.recon:.1f} nats" if falling else
                 f"and the reconstruction stalled ({first.recon:.1f} to {last.recon:.1f} nats)")
        out.append(Text(
            f"**Red flag: posterior collapse.** With β = {plain.train_cfg.beta:g} the KL was {first.kl:.2f} nats "
            f"after epoch 1 and {last.kl:.2f} after epoch {last.epoch}, {recon}. On the test images "
            f"{dims_off(s)} of {s['latent_dim']} dimensions carry nothing and {s['active_units']} are active units: "
            "the decoder draws an average digit and ignores z.", "error"))
    elif s["verdict"] == "too_early":
        out.append(Text(
            f"**Too early to call.** With β = {plain.train_cfg.beta:g} this run is too short to judge: "
            f"{s['collapse_reason']}", "info"))
    else:
        out.append(Text(
            f"This time β = {plain.train_cfg.beta:g} did not collapse the code (diagnosis: {analysis.VERDICT_WORDS[s['verdict']]}): KL "
            f"{s['kl']:.2f} nats, {s['active_units']} of {s['latent_dim']} active units. Collapse also depends on the "
            "epochs and the seed: train longer and watch the KL curve.", "info"))

    w, wep = warm.summary, epochs(warm)
    peak = max(wep, key=lambda e: e.kl)
    ramp = f"β rising from 0 to {warm.train_cfg.beta:g} over the first {warm.train_cfg.warmup_epochs:g} epochs"
    reached = max((e.beta for e in warm.events if e.kind == "step"), default=0.0)
    if reached < warm.train_cfg.beta * 0.999:
        out.append(Text(
            f"**KL warm-up** ({ramp}): the KL reached {peak.kl:.2f} nats in epoch {peak.epoch}, but training ended "
            f"before the ramp did (β had only reached {reached:.3g}), so this run cannot tell whether the code "
            f"survives full β: {w['active_units']} of {w['latent_dim']} active units for now.", "info"))
    elif w["collapsed"]:
        out.append(Text(
            f"**KL warm-up** ({ramp}) let the encoder start: the KL reached {peak.kl:.2f} nats in epoch "
            f"{peak.epoch}. Once β was at full strength the KL fell back to {wep[-1].kl:.2f}: warm-up delays "
            f"collapse but cannot beat β = {warm.train_cfg.beta:g} ({w['active_units']} of {w['latent_dim']} "
            "active units at the end).", "warning"))
    else:
        out.append(Text(
            f"**KL warm-up** ({ramp}) kept the code alive: the KL peaked at {peak.kl:.2f} nats in epoch "
            f"{peak.epoch} and ended at {wep[-1].kl:.2f}, with {w['active_units']} of {w['latent_dim']} active "
            f"units on the test images (diagnosis: {analysis.VERDICT_WORDS[w['verdict']]}).", "info"))

    f = free.summary
    better = s["recon"] - f["recon"]
    if not f["collapsed"] and f["active_units"] > s["active_units"]:
        out.append(Text(
            f"**The fix: free bits** ({free.train_cfg.free_bits:g} nats per dimension free of charge) recovered the "
            f"code: {f['active_units']} of {f['latent_dim']} active units (against {s['active_units']} without), "
            f"{dims_on(f)} dimensions carrying information and a KL of {f['kl']:.2f} nats. The reconstruction is "
            f"{abs(better):.1f} nats {'better' if better > 0 else 'worse'} ({f['recon']:.1f} against "
            f"{s['recon']:.1f}).", "success"))
    else:
        out.append(Text(
            f"**Free bits** ({free.train_cfg.free_bits:g} nats per dimension) did not recover more of the code this "
            f"time: {f['active_units']} of {f['latent_dim']} active units (against {s['active_units']} without), "
            f"KL {f['kl']:.2f} nats. Try more free bits or a lower β.", "info"))
    out.append(Text(
        f"Why free bits work: below {free.train_cfg.free_bits:g} nats a dimension's KL costs nothing, so switching "
        "it off saves nothing and the optimiser keeps it. A warm-up only changes the start; the final β still "
        "decides. The Diagnostics page spots collapse on any run and offers these fixes in one click."))
    return out


def figures(runs: list[Run]) -> list:
    plain, warm, free = roles(runs)
    ordered = [plain, warm, free]
    source = plain.data
    idx = compare.showcase(source)
    rows = compare.recon_rows(ordered, source.x[idx])
    legend = "; ".join(f"run {r.number}: {name(r)}" for r in ordered)
    return [
        Plot(charts.epoch_curves(plain.events, f"The red flag ({name(plain)}): reconstruction falls while KL stays "
                                               "near 0"),
             f"KL below {analysis.COLLAPSE_KL:g} nat in total cannot even tell ten digits apart."),
        Plot(compare.overlay_curves(ordered), legend + ". Watch the KL panel: flat at zero, a bump then zero, "
                                                      "and a level line."),
        Row([Plot(kl_bars(r, f"{name(r)}: KL per dimension")) for r in ordered]),
        Picture(images.grid(rows), f"Top: test images. Then reconstructions: {', '.join(name(r) for r in ordered)}. "
                                   "A collapsed model draws the same blurry average for every input."),
    ]


LESSON = Lesson(
    number=3, title=TITLES[3],
    summary="Push β high enough and the decoder learns to ignore z. Spot the red flag, then cure it.",
    # batch 32: 125 steps an epoch, so even a run capped at 2 epochs has the steps a verdict needs
    data="mnist", base={"latent_dim": 16, "epochs": 10, "beta": BETA, "batch_size": 32},
    steps=(Step(f"β = {BETA:g}"),
           Step(f"β = {BETA:g} with KL warm-up", {"warmup": "linear", "warmup_epochs": WARMUP_EPOCHS}),
           Step(f"β = {BETA:g} with free bits", {"free_bits": FREE_BITS})),
    look_for=(
        "The **red flag**: the KL curve sits at (almost) zero while the reconstruction curve still goes down. "
        "The decoder is learning to do without z.",
        f"With **KL warm-up**, β starts at 0 and ramps up to {BETA:g} over {WARMUP_EPOCHS} epochs: does the KL survive "
        "once the ramp ends?",
        f"With **free bits** ({FREE_BITS:g} nats per dimension), how many latent dimensions come back to life?",
    ),
    story=story, figures=figures, minutes="about 30 seconds",
)
