"""Lesson 2: the β trade-off. β 0.5, 1 and 4 on the same digits: reconstructions, latent maps, KL per dimension."""
from __future__ import annotations

from vae_core import analysis
from vae_core.run import Run

from ..components import charts, compare, images
from ..lesson_titles import TITLES
from .common import Lesson, Picture, Plot, Row, Step, Text, beta_name, change, dims_off, kl_bars, posterior_sigma

BETAS = (0.5, 1.0, 4.0)


def _by_beta(runs: list[Run]) -> dict[float, Run]:
    return {r.train_cfg.beta: r for r in runs}


def story(runs: list[Run]) -> list:
    out = []
    lines = []
    for r in runs:
        s = r.summary
        lines.append(f"- **{beta_name(r)}**: reconstruction {s['recon']:.1f} nats, KL {s['kl']:.1f} nats, "
                     f"{dims_off(s)} of {s['latent_dim']} dimensions switched off (KL below "
                     f"{analysis.NEAR_ZERO_KL:g} nats), average code spread σ = {posterior_sigma(r):.2f}.")
    out.append(Text("On the test images:\n" + "\n".join(lines)))
    by = _by_beta(runs)
    one = by.get(1.0)
    if one is not None:
        s1 = one.summary
        for b, r in sorted(by.items()):
            if b == 1.0:
                continue
            s = r.summary
            worse = s["recon"] - s1["recon"]
            out.append(Text(
                f"{'Raising' if b > 1 else 'Lowering'} β from 1 to {b:g}, the KL "
                f"{change(s1['kl'], s['kl'], 'rose', 'fell')} from {s1['kl']:.1f} to {s['kl']:.1f} nats, with "
                f"{dims_off(s)} of {s['latent_dim']} dimensions switched off (against {dims_off(s1)} at β = 1); "
                f"reconstructions got {abs(worse):.1f} nats {'worse' if worse > 0 else 'better'}."))
    ordered = sorted(runs, key=lambda r: r.train_cfg.beta)
    sigmas = [posterior_sigma(r) for r in ordered]
    widening = all(a < b for a, b in zip(sigmas, sigmas[1:], strict=False))
    spread = ", ".join(f"{sg:.2f} at {beta_name(r)}" for r, sg in zip(ordered, sigmas, strict=True))
    out.append(Text(
        f"Each image's code is a cloud of average width σ = {spread}. "
        + ("The clouds widen as β grows: neighbouring codes overlap, so the latent map is smoother and the decoder "
           "has to average over more digits, which blurs them." if widening else
           "The widths do not simply grow with β in this run, so look at the maps and KL bars below for the "
           "trade-off rather than at σ alone.")))
    scored = [r for r in runs if r.summary.get("iwae_nll") is not None]
    if scored:
        best = min(scored, key=lambda r: r.summary["iwae_nll"])
        nll = ", ".join(f"{r.summary['iwae_nll']:.1f} ({beta_name(r)})" for r in ordered if r in scored)
        out.append(Text(f"As a model of the digits, judged by −log p(x) (IWAE, lower is better: {nll}), the best "
                        f"is **{beta_name(best)}**. A higher β buys a tidier code with worse likelihood: that is "
                        f"the trade-off."))
    return out


def figures(runs: list[Run]) -> list:
    ordered = sorted(runs, key=lambda r: r.train_cfg.beta)
    maps = []
    for r in ordered:
        coords, labels, method = compare.latent_map(r)
        fig = charts.latent_scatter(coords, labels, f"{beta_name(r)}: latent means (PCA)",
                                    axis_names=("PC 1", "PC 2"), height=400)
        maps.append(Plot(compare.legend_below(fig, y=-0.2)))
    source = ordered[0].data
    idx = compare.showcase(source)
    rows = compare.recon_rows(ordered, source.x[idx])
    names = ", ".join(beta_name(r) for r in ordered)
    return [
        Plot(compare.overlay_curves(ordered), "; ".join(f"run {r.number}: {beta_name(r)}" for r in ordered) +
             ". Higher β: higher reconstruction, lower KL."),
        Picture(images.grid(rows), f"Top: test images. Then their reconstructions at {names}, one row each: "
                                   "blurrier as β grows."),
        Row(maps),
        Row([Plot(kl_bars(r, f"{beta_name(r)}: KL per dimension")) for r in ordered]),
        Text(compare.KL_BARS_CAPTION, "caption"),
    ]


LESSON = Lesson(
    number=2, title=TITLES[2],
    summary="The same VAE at β = 0.5, 1 and 4 on the same digits: what a heavier KL term buys and what it costs.",
    data="mnist", base={"latent_dim": 16, "epochs": 10},
    steps=tuple(Step(f"β = {b:g}", {"beta": b}) for b in BETAS),
    look_for=(
        "β multiplies the KL term: a higher β makes information in z more expensive.",
        "Reconstructions get **blurrier** as β grows: the decoder gets less detail through z.",
        "The latent map gets **smoother and rounder**: codes huddle closer to the prior N(0, I).",
        "The KL-per-dimension bars shrink, and some dimensions **switch off** entirely (grey bars).",
    ),
    story=story, figures=figures, minutes="about 30 seconds",
)
