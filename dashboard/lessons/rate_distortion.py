"""Lesson 10: the rate-distortion curve. One run per β on the same digits; each is a point (distortion, rate), and β
decides where on the curve the model sits (Alemi et al. 2018)."""
from __future__ import annotations

from vae_core import rate_distortion
from vae_core.run import Run

from ..components import rate_distortion_view
from ..lesson_titles import TITLES
from .common import Lesson, Picture, Plot, Row, Step, Text

BETAS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 32.0)


def curve(runs: list[Run]) -> rate_distortion.Curve | None:
    found = rate_distortion.curves(rate_distortion_view.rows_of(runs), ["beta"])
    return found[0] if found else None


def story(runs: list[Run]) -> list:
    c = curve(runs)
    if c is None:
        return [Text("Fewer than two runs finished, so there is no curve to read yet.", "info")]
    points = c.points
    best = min(points, key=lambda p: p.rate + p.distortion)
    one = next((p for p in points if p.beta == 1.0), None)
    out = [Text("**On the test digits.** " + c.sentence())]
    lines = "\n".join(f"- β = {p.beta:g}: distortion {p.distortion:.1f}, rate {p.rate:.2f}, their sum (the negative "
                      f"ELBO) {p.distortion + p.rate:.1f} nats" + (" · collapsed" if p.collapsed else "")
                      for p in points)
    out.append(Text(lines))
    out.append(Text(
        f"The sum D + R is the negative ELBO, the objective at β = 1; it is lowest at β = {best.beta:g} "
        f"({best.distortion + best.rate:.1f} nats)"
        + (f", against {one.distortion + one.rate:.1f} at β = 1" if one is not None and one is not best else "")
        + ". Every β trains the same network to minimise D + β·R instead: a straight line of slope −1/β (in this "
          "picture, rate against distortion) slides until it touches the curve, so a small β buys low distortion "
          "with nats in the code and a large β buys a cheap code with blur."))
    collapsed = [p for p in points if p.collapsed]
    if collapsed:
        out.append(Text(f"At β = {', '.join(f'{p.beta:g}' for p in collapsed)} the code carries "
                        f"{', '.join(f'{p.rate:.2f}' for p in collapsed)} nats: the run sits at the end of the curve, "
                        "where no information passes through z (posterior collapse, lesson 3).", "warning"))
    return out


def figures(runs: list[Run]) -> list:
    c = curve(runs)
    if c is None:
        return []
    by_id = {r.id: r for r in runs}
    data = runs[0].data
    pictures = [Picture(rate_distortion_view.thumbnail(by_id[p.key], data),
                        f"β = {p.beta:g}" + (" (collapsed)" if p.collapsed else "")) for p in c.points]
    return [Plot(rate_distortion_view.figure([c], "Rate against distortion on the test digits, one run per β"),
                 "✕ marks a collapsed run."),
            Row(pictures),
            Text("Top row of each picture: reconstructions of the same four test digits; bottom row: four samples from "
                 "the prior, the same draws for every β.", "caption")]


LESSON = Lesson(
    number=10, title=TITLES[10],
    summary="β is not a knob for quality: it picks a point on a trade-off between the nats a code carries (rate) and "
            "how well it rebuilds the input (distortion). Train one model per β and draw the curve.",
    data="mnist", base={"latent_dim": 16, "epochs": 10},
    steps=tuple(Step(f"β = {b:g}", {"beta": b}) for b in BETAS),
    look_for=(
        "The **curve**: as β grows, does every run move down (less rate) and to the right (more distortion)?",
        "**Thumbnails**: reconstructions blur step by step; where do the samples look best?",
        "The **end of the curve**: at high β the rate reaches zero. That run has collapsed.",
    ),
    story=story, figures=figures, minutes="about a minute",
)
