"""Sentences about the prior and the codes, written from a run's own numbers (no Streamlit calls): the Reconstructions
& samples page and lesson 9 both say them."""
from __future__ import annotations

import math

import numpy as np

from vae_core.mode_coverage import CONFIDENT, ModeCoverage
from vae_core.prior_geometry import HOLE_PERCENTILE, HOLE_RATIO, DensityMap, DimensionSpread, PriorGap

PART_WORDS = {"train": "training", "val": "validation", "test": "test", "all": "whole data set's"}
SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def pct(v: float) -> str:
    return f"{100 * v:.0f}%" if v >= 0.01 or v == 0 else f"{100 * v:.1f}%"


def _times(nats: float) -> str:
    """e^nats in words: '150 times', 'about 3 million times'."""
    factor = math.exp(min(nats, 700))
    if factor < 1000:
        return f"{factor:,.0f} times"
    exponent = int(math.floor(math.log10(factor)))
    return f"about 10{str(exponent).translate(SUPERSCRIPT)} times"


def gap_words(gap: PriorGap) -> str:
    """Why prior samples look worse: where the prior's draws land against the mixture's, in this run's numbers."""
    prior, mixture, held = gap.medians()
    denser = prior < held
    out = (f"Scored by the density of the codes q(z) (the {gap.n_codes:,} training inputs' posteriors), a typical code "
           f"of a held-out input ({gap.held_out_part} part) gets log q = {held:.1f}; a typical draw from the prior "
           f"gets {prior:.1f}, ")
    if denser and held - prior >= 1.0:
        out += (f"{held - prior:.1f} nats lower: the codes are {_times(held - prior)} sparser where prior draws land "
                "than where real inputs put their codes, so the decoder draws there what it never learned to draw. ")
    elif denser:
        out += (f"only {held - prior:.1f} nats lower: most prior draws land about as close to the codes as real "
                "inputs do, so the samples suffer from the holes only at the edges. ")
    else:
        out += "no lower: the prior's draws land where the codes are as dense as around real inputs. "
    out += (f"A mixture of {gap.components} Gaussians fitted to the training codes puts its draws at {mixture:.1f} "
            f"({'+' if gap.gap >= 0 else '−'}{abs(gap.gap):.1f} nats against the prior's). Counting a draw as in a "
            f"hole when q(z) there is below what {100 - HOLE_PERCENTILE:.0f}% of held-out codes get: "
            f"{pct(gap.prior_in_holes)} of {len(gap.z_prior):,} prior draws and {pct(gap.mixture_in_holes)} of the "
            f"mixture's ({HOLE_PERCENTILE:.0f}% of held-out codes, by that definition).")
    return out


def spread_words(spread: DimensionSpread, kl_per_dim: np.ndarray) -> str:
    """How wide the codes spread per dimension against the prior's sd of 1."""
    kl = np.asarray(kl_per_dim)
    used = kl >= 0.05
    sd = spread.z_sd
    if not used.any():
        return (f"No dimension carries information (KL below 0.05 nats in all {len(kl)}): every code is the prior, "
                "and the decoder draws the same thing whatever z it gets.")
    lo, hi = float(sd[used].min()), float(sd[used].max())
    narrow = int((sd[used] < 0.8).sum())
    n_used = int(used.sum())
    text = (f"In the {n_used} dimension{'s' * (n_used != 1)} that carry information, sampled codes spread "
            f"with a standard deviation from {lo:.2f} to {hi:.2f} (the prior's is 1)")
    text += (f"; {narrow} of them are narrower than 0.8, so the prior reaches well beyond the codes there."
             if narrow else ".")
    if (~used).any():
        text += (f" The other {int((~used).sum())} carry almost nothing (KL below 0.05 nats): their codes are the "
                 "prior itself, and the decoder ignores them.")
    return text


def map_words(m: DensityMap, part: str) -> str:
    view = "z itself" if m.names == ("z0", "z1") else (
        f"the codes' first two principal directions, {pct(m.explained[0] + m.explained[1])} of their variance")
    return (f"In this 2-D view ({view}), {pct(m.hole_mass)} of the prior's mass lies in holes: cells inside the "
            f"circle holding 95% of it where the codes of the {PART_WORDS.get(part, part)} part have less than "
            f"{HOLE_RATIO:g} of the prior's share. {pct(m.outside_prior)} of the codes lie outside that circle, where "
            "the prior puts 5%.")


def coverage_words(cov: ModeCoverage, mixture: ModeCoverage | None = None) -> str:
    """Which classes the prior's samples show, which never, and how many are blurry averages."""
    seen = cov.n - int(cov.unsure.sum())
    out = (f"A classifier fitted on the training part (right on {pct(cov.test_accuracy)} of the {cov.n_test:,} "
           f"{cov.test_part} inputs) places {seen:,} of {cov.n:,} prior samples with at least {CONFIDENT:.0%} "
           f"certainty. It is unsure of {pct(cov.unsure_share)} of them, against {pct(cov.test_unsure)} of real "
           f"{cov.test_part} inputs: ")
    out += ("the extra ones are the blurry in-between samples. " if cov.unsure_share > cov.test_unsure + 0.05 else
            "about as often as for real inputs. ")
    if cov.missing:
        out += (f"Never generated with confidence: {', '.join(cov.missing)} "
                f"({len(cov.missing)} of {len(cov.label_names)} classes).")
    else:
        out += f"Every one of the {len(cov.label_names)} classes shows up at least once."
    if mixture is not None:
        out += (f" Samples from the mixture fitted to the codes: unsure {pct(mixture.unsure_share)}, "
                f"{len(mixture.missing)} class{'es' * (len(mixture.missing) != 1)} never generated.")
    return out
