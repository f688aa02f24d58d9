"""The Anomalies page's engine: a recording scored once, then any threshold rule applied without scoring again.

`score_all` is the slow part (seconds to minutes: run it in the background): the VAE's step scores, the
baselines' on the same steps, and every metric that needs no threshold (point AUC/AP, VUS-ROC/PR) for the test
part and for the whole recording. `apply_rule` is the fast part (milliseconds on a few thousand steps): each
method's threshold from its own normal validation scores under the same rule, the VAE's events with the channels
that drive them, event-wise metrics per part, and the replay of the alarms in streaming order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dataset import Dataset
from ..models import VAE
from .baselines import BASELINE_NAMES, BASELINES, baseline_scores
from .events import Event, detect_events
from .metrics import alarm_metrics, ranking_metrics
from .model_errors import Progress, ScoringStopped
from .replay import Replay, replay
from .scoring import RecordingScores, ThresholdRule, score_recording, validation_scores

METHOD_NAMES = {"vae": "VAE (this run)", **BASELINE_NAMES}
PART_NAMES = {"test": "test part", "all": "whole recording"}


def part_masks(parts: np.ndarray) -> dict[str, np.ndarray]:
    """Bool masks (L,) of the parts metrics are given for: 'test' (when the recording has one), then 'all'."""
    test = np.asarray(parts) == 2
    return ({"test": test} if test.any() else {}) | {"all": np.ones(len(parts), bool)}


@dataclass(frozen=True)
class Scored:
    """A recording scored by a run's VAE and by the baselines, with the metrics that need no threshold."""

    scores: RecordingScores  # the VAE's, in total and per channel
    methods: dict[str, np.ndarray]  # "vae", then each baseline -> step scores (L,)
    ranking: dict[str, dict[str, dict]]  # method -> part -> point_auc, point_ap, vus_roc, vus_pr ({} unlabelled)
    window: int
    stride: int

    @property
    def labelled(self) -> bool:
        """True when the recording has labels with at least one anomalous step."""
        return self.scores.labels is not None and bool(self.scores.labels.any())

    @property
    def parts(self) -> dict[str, np.ndarray]:
        return part_masks(self.scores.parts)


def score_all(model: VAE, data: Dataset, stride: int = 1, baselines: tuple[str, ...] = BASELINES, seed: int = 0,
              progress: Progress | None = None) -> Scored | None:
    """Score every step of a sensor recording with the VAE and the baselines, and rank them where labelled.

    progress(fraction) -> True stops the work: None is returned then. The model takes the first half of the
    progress, the baselines the next quarter, the metrics the rest.
    """
    report = progress or (lambda fraction: False)
    try:
        scores = score_recording(model, data, stride, progress=lambda f: report(0.5 * f))
    except ScoringStopped:
        return None
    methods = {"vae": scores.total}
    for k, name in enumerate(baselines):
        methods |= baseline_scores(data, stride, seed, (name,))
        if report(0.5 + 0.25 * (k + 1) / max(len(baselines), 1)):
            return None
    window = int(data.input_shape[0])
    ranking: dict[str, dict[str, dict]] = {}
    if scores.labels is not None and scores.labels.any():
        masks = part_masks(scores.parts)
        for k, (method, values) in enumerate(methods.items()):
            ranking[method] = {part: ranking_metrics(values[mask], scores.labels[mask], window)
                               for part, mask in masks.items()}
            if report(0.75 + 0.25 * (k + 1) / len(methods)):
                return None
    return Scored(scores, methods, ranking, window, stride)


@dataclass(frozen=True)
class Outcome:
    """A threshold rule applied to a scored recording."""

    rule: ThresholdRule
    thresholds: dict[str, float | None]  # method -> its threshold (None: the rule cannot be applied to it)
    problems: dict[str, str]  # method -> why the rule cannot be applied (a POT fit with too few peaks)
    events: tuple[Event, ...]  # the VAE's alarm episodes over the whole recording, with their top channels
    alarms: dict[str, dict[str, dict]]  # method -> part -> event metrics at its threshold ({} unlabelled)
    replay: Replay | None  # the VAE's alarms in streaming order (None without a threshold)


def apply_rule(scored: Scored, rule: ThresholdRule, tolerance: int = 0) -> Outcome:
    """Thresholds, the VAE's events, event metrics per method and part, and the replay under one rule."""
    s = scored.scores
    thresholds: dict[str, float | None] = {}
    problems: dict[str, str] = {}
    for method, values in scored.methods.items():
        try:
            thresholds[method] = rule.threshold(validation_scores(values, s.parts, s.labels))
        except ValueError as exc:  # POT: too few peaks, or a risk above the tail's share
            thresholds[method], problems[method] = None, str(exc)
    alarms: dict[str, dict[str, dict]] = {}
    if scored.labelled:
        for method, values in scored.methods.items():
            if thresholds[method] is not None:
                alarms[method] = {part: alarm_metrics(values[mask], s.labels[mask], thresholds[method],
                                                      rule.min_length, rule.merge_gap, tolerance)
                                  for part, mask in scored.parts.items()}
    threshold = thresholds["vae"]
    if threshold is None:
        return Outcome(rule, thresholds, problems, (), alarms, None)
    events = detect_events(s.total, threshold, rule.min_length, rule.merge_gap, s.channels, s.channel_names)
    # a step's score is final once the last window covering it has been seen: window - 1 steps later
    streamed = replay(s.total, threshold, s.labels, rule.min_length, rule.merge_gap, latency=scored.window - 1)
    return Outcome(rule, thresholds, problems, tuple(events), alarms, streamed)
