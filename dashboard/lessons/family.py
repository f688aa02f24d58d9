"""Lesson 8: the VAE family. A VAE, a conditional VAE, a hierarchical VAE, an adversarial autoencoder and a VAE trained
on the IWAE bound, on the same digits with the same seed: their bounds, codes, samples and seconds side by side."""
from __future__ import annotations

from vae_core import analysis
from vae_core.run import Run

from ..components import charts, compare, family_view, images
from ..lesson_titles import TITLES
from .common import Lesson, Picture, Plot, Row, Step, Text

STEPS = (Step("VAE", {}), Step("conditional VAE", {"conditional": True}),
         Step("hierarchical VAE", {"variant": "hierarchical"}),
         Step("adversarial autoencoder", {"variant": "adversarial"}),
         Step("IWAE objective (k = 5)", {"objective": "iwae", "iwae_k": 5}))


def _table(runs: list[Run]) -> str:
    head = "| run | variant | test neg. ELBO | IWAE NLL | active units | codes vs prior (MMD²) | seconds |\n" \
           "|---|---|---|---|---|---|---|\n"
    rows = []
    for r in runs:
        s = r.summary
        nll = "–" if s.get("iwae_nll") is None else f"{s['iwae_nll']:.1f}"
        rows.append(f"| {r.short_name} | {family_view.variant_name(r)} | {s['test_neg_elbo']:.1f} | {nll} | "
                    f"{s['active_units']} of {s['latent_dim']} | {s['prior_mmd']:.3f} | {s['seconds']:.1f} |")
    return head + "\n".join(rows)


def story(runs: list[Run]) -> list:
    vae = runs[0]
    out = [Text(_table(runs) + "\n\n" + family_view.caption(runs))]
    best = min(runs, key=lambda r: r.summary["test_neg_elbo"])
    out.append(Text(f"The tightest ELBO on the test digits is the **{family_view.variant_name(best)}**'s, "
                    f"{best.summary['test_neg_elbo']:.1f} nats; the plain VAE's is "
                    f"{vae.summary['test_neg_elbo']:.1f}."))
    cond = next((r for r in runs if r.model_cfg.conditional), None)
    if cond is not None:
        kl, kl0 = cond.summary["kl"], vae.summary["kl"]
        by_label, by_code = analysis.grid_spread(analysis.class_grid(cond.model, analysis.prior_codes(cond.model, 6)))
        out.append(Text(
            f"**Conditional VAE.** It is told the digit, so its code need not say which digit it is: its KL is "
            f"{kl:.1f} nats against the VAE's {kl0:.1f} ({'less' if kl < kl0 else 'no less'}: "
            f"{'the label carries that part of the information' if kl < kl0 else 'here the code kept it anyway'}). "
            f"Drawing every digit from the same 6 codes, the label moves a pixel by {by_label:.3f} on average and the "
            f"code by {by_code:.3f}: " + ("the label decides which digit, the code the style." if by_label > by_code
                                          else "the code still decides more than the label; it kept part of the "
                                               "digit's identity, which longer training squeezes out.")
            + " The Reconstructions & samples page draws that grid."))
    hier = next((r for r in runs if r.model_cfg.variant == "hierarchical"), None)
    if hier is not None and hier.summary.get("kl_layers"):
        layers = hier.summary["kl_layers"]
        out.append(Text(
            f"**Hierarchical VAE.** Its KL splits into two non-negative parts, one per stochastic layer: "
            f"{layers['z1']:.1f} nats in z1 (the layer that feeds the decoder) and {layers['z2']:.1f} in z2 (the "
            f"layer that sets z1's prior), {sum(layers.values()):.1f} in all. "
            + ("Most of the information sits in the bottom layer: the top one only has to say what the bottom "
               "one's prior should be." if layers["z1"] > layers["z2"] else
               "Here the top layer carries more than the bottom one.")))
    aae = next((r for r in runs if r.model_cfg.variant == "adversarial"), None)
    if aae is not None:
        s, d = aae.summary, next((e for e in reversed(aae.events) if e.kind == "epoch" and e.phase == "val"), None)
        losses = "" if d is None else (f" At the end its discriminator's loss was {d.term('adv_d'):.2f} nats "
                                       f"(2 ln 2 = 1.39 is a discriminator that cannot tell codes from the prior) "
                                       f"and the encoder's adversarial loss {d.term('adv_g'):.2f}.")
        closer = s["prior_mmd"] < vae.summary["prior_mmd"]
        out.append(Text(
            "**Adversarial autoencoder.** What changes: there is no closed-form KL any more. A discriminator learns "
            "to tell codes of real digits from draws of N(0, I), and the encoder learns to fool it, so the codes "
            "match the prior *in distribution*, as a whole, not input by input: each digit's own posterior is free "
            f"to be narrow (capped at σ = 0.1 here).{losses} Measured on the test digits, its codes are "
            f"{'closer to' if closer else 'further from'} the prior than the VAE's (MMD² {s['prior_mmd']:.3f} "
            f"against {vae.summary['prior_mmd']:.3f}), and its KL, measured but never trained, is "
            f"{s['kl']:.1f} nats against the VAE's {vae.summary['kl']:.1f}: narrow posteriors cost nats in the "
            f"bound, so its test neg. ELBO ({s['test_neg_elbo']:.1f}) is no fair judge of its samples."))
    iwae = next((r for r in runs if r.train_cfg.objective == "iwae"), None)
    if iwae is not None and iwae.summary.get("iwae_nll") is not None and vae.summary.get("iwae_nll") is not None:
        a, b = iwae.summary["iwae_nll"], vae.summary["iwae_nll"]
        last = next((e for e in reversed(iwae.events) if e.kind == "epoch" and e.phase == "train"), None)
        both = "" if last is None else (
            f" (its training curves show both: in its last epoch the neg. bound was {last.loss:.1f} nats and the neg. "
            f"ELBO of the same draws {last.term('neg_elbo'):.1f})")
        out.append(Text(
            f"**IWAE objective.** Trained on the k = {iwae.train_cfg.iwae_k} bound instead of the ELBO{both}, it "
            f"reaches an estimated −log p(x) of "
            f"{a:.1f} nats against the VAE's {b:.1f} ({'better' if a < b else 'not better'}, "
            f"{analysis.likelihood_note(iwae.summary)}), for "
            f"{iwae.summary['seconds'] / max(vae.summary['seconds'], 1e-9):.1f} times the VAE's training time."))
    return out


def figures(runs: list[Run]) -> list:
    source = runs[0].data
    idx = compare.showcase(source)
    rows = compare.recon_rows(runs, source.x[idx], source.y[idx] if source.y is not None else None)
    names = ", ".join(family_view.variant_name(r) for r in runs)
    maps = []
    for r in runs:
        coords, labels, _ = compare.latent_map(r)
        fig = charts.latent_scatter(coords, labels, f"{family_view.variant_name(r)}: latent means (PCA)",
                                    axis_names=("PC 1", "PC 2"), height=380)
        maps.append(Plot(compare.legend_below(fig, y=-0.2)))
    return [
        Plot(compare.overlay_curves(runs), "; ".join(f"{r.short_name}: {family_view.variant_name(r)}" for r in runs)),
        Picture(images.grid(rows), f"Top: test digits. Then their reconstructions, one row per run: {names}."),
        Picture(images.grid(family_view.sample_rows(runs)),
                f"Samples from the prior, seed 0, one row per run ({names}); the conditional VAE draws digit 0, 1, "
                f"2, ... in turn."),
        Row(maps[:3]),  # at most three maps to a line: five were too narrow to read
        Row(maps[3:]),
    ]


LESSON = Lesson(
    number=8, title=TITLES[8],
    summary="Five members of the VAE family on the same digits with the same seed: the plain VAE, a conditional VAE, "
            "a hierarchical VAE, an adversarial autoencoder and a VAE trained on the IWAE bound.",
    data="mnist", base={"epochs": 10},
    steps=STEPS,
    look_for=(
        "The **conditional VAE** is told the digit: its code keeps the style, and it can draw the digit you ask for.",
        "The **hierarchical VAE** has two stochastic layers; its KL splits into one part per layer.",
        "The **adversarial autoencoder** has no KL term: a discriminator pulls its codes to the prior as a whole.",
        "The **IWAE objective** trains on a tighter bound than the ELBO, at k times the decoder's work.",
        "Same data, same seed: the differences come from the models, not from luck.",
    ),
    story=story, figures=figures, minutes="about two minutes",
)
