"""Thresholds on step scores, chosen from validation (normal) scores without retraining.

- percentile: the q-th percentile of validation scores.
- peaks over threshold (extreme value theory, Siffer et al. 2017, "Anomaly Detection in Streams with
  Extreme Value Theory", KDD): a generalized Pareto fitted to the validation scores above a high initial
  quantile (0.98, lower on short validation parts, see initial_quantile_for) gives the score exceeded with
  probability `risk` per step. Step scores of overlapping windows are correlated, which the method assumes
  away: read `risk` as a target, not a guarantee.
- alarm budget: the lowest threshold whose alarms on the validation scores stay within a number of alarm
  episodes per 1,000 steps.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .events import alarm_spans

THRESHOLD_METHODS = ("percentile", "pot", "budget")
MIN_PEAKS = 10  # fewer excesses than this cannot fit a tail


@dataclass(frozen=True)
class PotFit:
    """A peaks-over-threshold fit: the threshold and the generalized Pareto tail it came from."""

    threshold: float  # score exceeded with probability `risk` per step
    initial: float  # the initial threshold t (a high quantile of the scores)
    shape: float  # GPD shape (gamma; > 0 heavy tail)
    scale: float  # GPD scale (sigma)
    peaks: int  # scores above t
    risk: float


def _finite(scores: np.ndarray) -> np.ndarray:
    values = np.asarray(scores, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if len(values) == 0:
        raise ValueError("no finite validation scores to set a threshold from")
    return values


def percentile_threshold(val_scores: np.ndarray, percentile: float = 99.0) -> float:
    """The `percentile`-th percentile of validation step scores (n,)."""
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], not {percentile}")
    return float(np.percentile(_finite(val_scores), percentile))


LOWEST_INITIAL_QUANTILE = 0.9  # below it, the 'tail' would be the bulk of the scores


def initial_quantile_for(values: np.ndarray) -> float:
    """The initial threshold's quantile: 0.98 (Siffer et al.), lowered in steps of 0.01 on short validation parts
    (or ones with many tied scores) until at least MIN_PEAKS scores lie above it, but never below 0.9."""
    for quantile in np.arange(0.98, LOWEST_INITIAL_QUANTILE - 1e-9, -0.01):
        if (values > np.quantile(values, quantile)).sum() >= MIN_PEAKS:
            return round(float(quantile), 2)
    return LOWEST_INITIAL_QUANTILE


def pot_threshold(val_scores: np.ndarray, risk: float = 1e-3, initial_quantile: float | None = None) -> PotFit:
    """Peaks over threshold on validation step scores (n,): z with P(score > z) = risk, from a GPD tail
    (initial quantile: see initial_quantile_for)."""
    from scipy.stats import genpareto

    values = _finite(val_scores)
    if initial_quantile is None:
        initial_quantile = initial_quantile_for(values)
    initial = float(np.quantile(values, initial_quantile))
    excess = values[values > initial] - initial
    tail = len(excess) / len(values)  # P(score > initial)
    if len(excess) < MIN_PEAKS:
        raise ValueError(f"only {len(excess)} validation scores lie above the {initial_quantile:.0%} quantile: too "
                         f"few to fit a tail (need {MIN_PEAKS}); use a longer validation part or a percentile "
                         "threshold")
    if not 0 < risk < tail:
        raise ValueError(f"risk must be between 0 and {tail:.3g} (the share of scores above the initial threshold), "
                         f"not {risk}")
    shape, _, scale = genpareto.fit(excess, floc=0.0)
    threshold = initial + float(genpareto.isf(risk / tail, shape, loc=0.0, scale=scale))
    return PotFit(threshold, initial, float(shape), float(scale), len(excess), risk)


def budget_threshold(val_scores: np.ndarray, alarms_per_1000: float, min_length: int = 1, merge_gap: int = 0,
                     candidates: int = 512) -> float:
    """Lowest threshold (among `candidates` quantiles) whose alarm episodes on validation scores (n,) stay within
    `alarms_per_1000` per 1,000 steps, for it and for every higher candidate."""
    values = np.nan_to_num(np.asarray(val_scores, dtype=np.float64), nan=-np.inf)
    allowed = alarms_per_1000 * len(values) / 1000
    finite = _finite(values)
    # quantiles span the range; the highest distinct scores resolve the tail, where budgets put thresholds
    levels = np.unique(np.r_[np.quantile(finite, np.linspace(0, 1, candidates)), np.unique(finite)[-candidates:]])[::-1]
    chosen = float(levels[0])
    for level in levels:  # from the top down: stop at the first level that raises too many alarms
        if len(alarm_spans(values, level, min_length, merge_gap)) > allowed:
            break
        chosen = float(level)
    return chosen
