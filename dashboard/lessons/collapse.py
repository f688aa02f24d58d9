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
FLAT_KL = 0.1  # nats: a training KL that never reaches this stayed near zero


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
            f"**Red flag: the code collapsed.** With β = {plain.train_cfg.beta:g} the KL was {first.kl:.2f} nats "
            f"after epoch 1 and {last.kl:.2f} after epoch {last.epoch}, {recon}. On the test images "
            f"{dims_off(s)} of {s['latent_dim']} dimensions carry nothing and {s['active_units']} are active units: "
            "the decoder draws an average digit and ignores z.", "error"))
    elif s["verdict"] == "too_early":
        out.append(Text(
            f"**Too early to call.** With β = {plain.train_cfg.beta:g} this run is too short to judge: "
            f"{s['collapse_reason']}", "info"))
    else:
        out.append(Text(
            f"This time β = {plain.train_cfg.beta:g} did not collapse the code (diagnosis: "
            f"{analysis.VERDICT_WORDS[s['verdict']]}): KL "
            f"{s['kl']:.2f} nats, {s['active_units']} of {s['latent_dim']} active units. Collapse also depends on the "
            "epochs and the seed: train longer and watch the KL curve.", "info"))

    out.append(Text(
        f"**Over-regularisation, not the classic collapse.** β = {plain.train_cfg.beta:g} charges every nat that z "
        f"carries {plain.train_cfg.beta:g} times over, so the optimiser gains by switching z off. The classic "
        "posterior collapse happens at β = 1, the plain ELBO, with a decoder strong enough to model the data "
        "without z, such as an autoregressive one (a PixelCNN over pixels, an LSTM over words): then the KL term "
        f"alone pushes the code to the prior. This lesson's {plain.model.cfg.arch.upper()} decoder draws every pixel "
        "independently given z, so at β = 1 it needs z (lesson 1): hence the turned-up β."))

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
        f"Why free bits work: below {free.train_cfg.free_bits:g} nats a dimension is charged a flat "
        f"{free.train_cfg.free_bits:g} nats whatever its KL, so switching it off saves nothing and the optimiser "
        "keeps it. A warm-up only changes the start; the final β still decides. The Diagnostics page spots collapse "
        "on any run and offers these fixes in one click."))
    out.append(Text(free_bits_note(free), "warning"))
    return out


def free_bits_note(run: Run) -> str:
    """What free bits do to the objective, with the run's own last epoch: the loss it trained on is not the ELBO."""
    last, s, t = epochs(run)[-1], run.summary, run.train_cfg
    elbo_like = last.recon + last.beta * last.kl
    return (f"**With free bits the objective is no longer the ELBO, the bound on log p(x).** The loss the free-bits "
            f"run trained on is reconstruction + β × the *charged* KL, not the negative ELBO: in its last epoch it "
            f"averaged "
            f"{last.loss:.2f} nats on the training part, against {elbo_like:.2f} for reconstruction + β × KL "
            f"({last.recon:.2f} + {last.beta:g} × {last.kl:.2f}); the {last.loss - elbo_like:.2f}-nat difference is "
            f"the charge for KL the dimensions under {t.free_bits:g} nats did not carry. Its test figures above are "
            f"the real thing, computed without free bits: negative ELBO {s['test_neg_elbo']:.2f} = reconstruction "
            f"{s['recon']:.2f} + KL {s['kl']:.2f} nats.")


def kl_course(run: Run) -> str:
    """How a run's training KL went over its epochs, in words true to its numbers."""
    kls = [e.kl for e in epochs(run)]
    first, last, peak = kls[0], kls[-1], max(kls)
    top = kls.index(peak)
    if peak < FLAT_KL:
        return f"near zero throughout (at most {peak:.2f} nats)"
    if 0 < top < len(kls) - 1 and last < peak / 2:
        return f"a bump to {peak:.2f} nats in epoch {top + 1}, then down to {last:.2f}"
    if last > first + max(0.1, 0.2 * first):
        return f"rising from {first:.2f} to {last:.2f} nats"
    if last < first - max(0.1, 0.2 * first):
        return f"falling from {first:.2f} to {last:.2f} nats"
    return f"level, from {first:.2f} to {last:.2f} nats"


def figures(runs: list[Run]) -> list:
    plain, warm, free = roles(runs)
    ordered = [plain, warm, free]
    source = plain.data
    idx = compare.showcase(source)
    rows = compare.recon_rows(ordered, source.x[idx])
    legend = "; ".join(f"run {r.number}: {name(r)}" for r in ordered)
    flagged = plain.summary["collapsed"]
    title = (f"The red flag ({name(plain)}): reconstruction falls while KL stays near 0" if flagged else
             f"Reconstruction and KL per epoch ({name(plain)})")
    courses = "; ".join(f"run {r.number} ({name(r)}) {kl_course(r)}" for r in ordered)
    return [
        Plot(charts.epoch_curves(plain.events, title),
             f"Each term on its own scale; the KL axis reaches at least {charts.KL_AXIS_NATS:g} nat, so a KL near "
             f"zero looks near zero. KL below {analysis.COLLAPSE_KL:g} nat in total cannot even tell ten digits "
             "apart."),
        Plot(compare.overlay_curves(ordered), f"{legend}. In the KL panel (training part): {courses}."),
        Row([Plot(kl_bars(r, f"{name(r)}: KL per dimension")) for r in ordered]),
        Text(compare.KL_BARS_CAPTION, "caption"),
        Picture(images.grid(rows), f"Top: test images. Then reconstructions: {', '.join(name(r) for r in ordered)}. "
                                   "A collapsed model draws the same blurry average for every input."),
    ]


LESSON = Lesson(
    number=3, title=TITLES[3],
    summary=f"Weight the KL term {BETA:g} times and the decoder learns to ignore z: over-regularisation. Spot the red "
            "flag, then cure it.",
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
        f"With **free bits** ({FREE_BITS:g} nats per dimension), how many latent dimensions come back to life? "
        "Its loss is then no longer the negative ELBO, so not a bound on log p(x).",
    ),
    story=story, figures=figures, minutes="about 30 seconds",
)
