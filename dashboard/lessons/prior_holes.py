"""Lesson 9: prior holes and mode coverage. Why samples from the prior look worse than reconstructions: where the
codes of real digits lie against the prior N(0, I), the holes between them, samples from a mixture fitted to the
codes, and which digits the prior's samples show (a classifier counts them)."""
from __future__ import annotations

import numpy as np

from vae_core import analysis
from vae_core.run import Run

from ..components import images, prior_charts, prior_view, prior_words
from ..lesson_titles import TITLES
from .common import Lesson, Picture, Plot, Row, Step, Text, pct

SHOWN = 16


def roles(runs: list[Run]) -> tuple[Run, Run]:
    """(the 2-D code, the 16-D code)."""
    small = min(runs, key=lambda r: r.model_cfg.latent_dim)
    return small, max(runs, key=lambda r: r.model_cfg.latent_dim)


def after(runs: list[Run]) -> None:
    """The mixture fits and the classifier, in the lesson's background thread (seconds per run)."""
    for run in runs:
        prior_view.results(run)


def name(run: Run) -> str:
    return f"{run.model_cfg.latent_dim}-D code"


def story(runs: list[Run]) -> list:
    out = []
    for run in roles(runs):
        r = prior_view.results(run)
        s = run.summary
        out.append(Text(f"**{name(run)}** (run {run.number}): reconstructions of the test digits cost "
                        f"{s['recon']:.1f} nats, with {s['kl']:.1f} nats in the code. "
                        + prior_words.gap_words(r["gap"])))
        if r["map"] is not None:
            out.append(Text(prior_words.map_words(r["map"], r["part"])))
        if r["coverage"] is not None:
            out.append(Text(prior_words.coverage_words(r["coverage"], r["mixture_coverage"])))
    small, large = (prior_view.results(r) for r in roles(runs))
    a, b = small["coverage"], large["coverage"]
    if a is not None and b is not None:
        fewer = min((small, large), key=lambda x: x["coverage"].unsure_share)
        which = name(roles(runs)[0] if fewer is small else roles(runs)[1])
        out.append(Text(
            f"Side by side: the prior's samples are unsure {pct(a.unsure_share)} of the time with a 2-D code and "
            f"{pct(b.unsure_share)} with a 16-D one, so the {which} gives the clearer samples here; "
            f"{len(a.missing)} and {len(b.missing)} digits were never generated with confidence. A mixture fitted to "
            f"the codes (the diamonds) follows the codes instead of N(0, I): its samples are unsure "
            f"{pct(small['mixture_coverage'].unsure_share)} and {pct(large['mixture_coverage'].unsure_share)} of the "
            "time. The decoder is the same; only where the codes are drawn from changed.", "info"))
    return out


def figures(runs: list[Run]) -> list:
    out = []
    for run in roles(runs):
        r = prior_view.results(run)
        gap = r["gap"]
        if r["map"] is not None:
            out.append(Plot(prior_charts.density_figure(r["map"], r["part"]),
                            f"{name(run)}: blue where the training digits' codes lie (log scale), dashed the prior's "
                            "1 sd and 95% circles, red crosses the holes."))
        prior = images.mosaic(_decoded(run, "prior", gap.z_prior[:SHOWN]), cols=8)
        mixture = images.mosaic(_decoded(run, "mixture", gap.z_mixture[:SHOWN]), cols=8)
        out.append(Row([Picture(prior, f"{name(run)}: {SHOWN} draws from the prior"),
                        Picture(mixture, f"{name(run)}: {SHOWN} draws from a {gap.components}-component mixture "
                                         "fitted to the codes")]))
        if r["coverage"] is not None:
            out.append(Plot(prior_charts.coverage_bars(r["coverage"], r["mixture_coverage"]),
                            f"{name(run)}: green, samples a classifier places with confidence; yellow, its unsure best "
                            "guesses; the black bars mark each digit's share of the training part."))
    return out


def _decoded(run: Run, source: str, z: np.ndarray) -> np.ndarray:
    return run.memo.get(("lesson_prior", source), lambda: analysis.decode(run.model, z))


LESSON = Lesson(
    number=9, title=TITLES[9],
    summary="Reconstructions look sharp and samples look worse: the prior puts mass where no code lies. See the holes, "
            "sample from the codes instead, and count which digits the samples show.",
    data="mnist", base={"epochs": 20},
    steps=(Step("2-D code", {"latent_dim": 2}), Step("16-D code", {"latent_dim": 16})),
    look_for=(
        "The **2-D map**: the codes of the test digits (blue) against the prior's circles. Red crosses mark holes, "
        "prior mass with no codes.",
        "**Prior samples against mixture samples**: the same decoder, fed from two places. Which look more like "
        "digits?",
        "**Mode coverage**: which digits the prior's samples show, which never, and how many no classifier can "
        "place.",
    ),
    story=story, figures=figures, after=after, minutes="about a minute",
)
