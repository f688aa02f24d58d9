"""The whole recording scored by a trained VAE: every time step, in total and per channel, and a threshold."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from ..dataset import Dataset
from ..models import VAE
from ..settings import check_declared, setting
from .events import alarm_spans, spans_mask
from .model_errors import Progress, window_channel_errors
from .steps import step_rule, windows_to_steps
from .thresholds import THRESHOLD_METHODS, budget_threshold, percentile_threshold, pot_threshold


@dataclass(frozen=True)
class RecordingScores:
    """Step scores of a whole recording (L steps, C channels) with its parts and labels."""

    total: np.ndarray  # (L,) nats: sum over channels of the per-channel step scores
    channels: np.ndarray  # (L, C) each channel's reconstruction error, mapped to steps
    parts: np.ndarray  # (L,) 0 train, 1 val, 2 test
    labels: np.ndarray | None  # (L,) 0/1, None when unlabelled
    channel_names: tuple[str, ...]
    rule: str  # how window errors became step scores, in words

    def validation(self, scores: np.ndarray | None = None) -> np.ndarray:
        """Scores (default: total) of the normal steps of the val part, or of the train part when val is empty."""
        return validation_scores(self.total if scores is None else scores, self.parts, self.labels)


def validation_scores(scores: np.ndarray, parts: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    """Step scores (L,) -> those of normal val steps (n,), or of normal train steps when there is no val part."""
    normal = np.ones(len(scores), bool) if labels is None else np.asarray(labels) == 0
    for code in (1, 0):
        chosen = np.asarray(scores)[(parts == code) & normal]
        if len(chosen):
            return chosen
    return np.asarray(scores)


def score_recording(model: VAE, data: Dataset, stride: int = 1, batch_size: int = 1024,
                    bfloat16: bool = False, progress: Progress | None = None) -> RecordingScores:
    """Score every step of a sensor recording's series (L, C) with a trained VAE (windows every `stride` steps;
    bfloat16 and progress: see window_channel_errors)."""
    errors = window_channel_errors(model, data, stride, batch_size, bfloat16, progress)
    length = len(data.series)
    channels = windows_to_steps(errors.errors, errors.starts, errors.window, length)
    labels = None if data.series_anomaly is None else np.asarray(data.series_anomaly, dtype=np.int8)
    return RecordingScores(channels.sum(axis=1), channels, data.step_parts(), labels, tuple(data.channels),
                           step_rule(errors.window, stride))


@dataclass(frozen=True)
class ThresholdRule:
    """How the alarm threshold is set from validation scores, and how alarms become episodes (every field a
    declared setting: the CLI's flags and the Anomalies page's controls come from here)."""

    TARGET: ClassVar[str] = "anomaly"

    method: str = setting(
        "percentile", choices=THRESHOLD_METHODS, cli_name="threshold", lesson=6,
        help="How the alarm threshold is set from the validation part's (normal) step scores: a percentile, peaks "
             "over threshold (a tail fitted by extreme value theory, for a target false-alarm risk), or an alarm "
             "budget.")
    percentile: float = setting(99.0, low=0, high=100, low_open=True, lesson=6,
                                help="percentile: alarm above this percentile of the validation step scores.")
    risk: float = setting(1e-3, low=0, high=1, low_open=True, high_open=True, lesson=6,
                          help="pot: the chance per step that a normal score exceeds the threshold (a target).")
    alarms_per_1000: float = setting(1.0, low=0, high=1000, low_open=True, lesson=6,
                                     help="budget: alarm episodes allowed per 1,000 validation steps.")
    min_length: int = setting(1, low=1, high=100_000, cli_name="min_event_length", lesson=6,
                              help="An episode above the threshold shorter than this many steps raises no alarm.")
    merge_gap: int = setting(0, low=0, high=100_000, lesson=6,
                             help="Episodes at most this many steps apart count as one event.")

    def __post_init__(self) -> None:
        check_declared(self, ValueError)

    def describe(self) -> str:
        """The rule in words, e.g. '99th percentile of validation step scores'."""
        if self.method == "percentile":
            return f"{self.percentile:g}th percentile of validation step scores"
        if self.method == "pot":
            return f"peaks over threshold: a normal step exceeds it with probability {self.risk:g} (GPD tail fit)"
        return f"at most {self.alarms_per_1000:g} alarms per 1,000 validation steps"

    def threshold(self, val_scores: np.ndarray) -> float:
        """The threshold from normal validation step scores (n,)."""
        if self.method == "percentile":
            return percentile_threshold(val_scores, self.percentile)
        if self.method == "pot":
            return pot_threshold(val_scores, self.risk).threshold
        return budget_threshold(val_scores, self.alarms_per_1000, self.min_length, self.merge_gap)

    def alarms(self, scores: np.ndarray, threshold: float) -> np.ndarray:
        """Alarm episodes (K, 2) [start, end] of step scores (L,) at `threshold`."""
        return alarm_spans(scores, threshold, self.min_length, self.merge_gap)


def scores_frame(scores: RecordingScores, threshold: float, rule: ThresholdRule = ThresholdRule(),
                 times: np.ndarray | None = None) -> pd.DataFrame:
    """One row per time step: time (or step), part, score, one score column per channel, label, alarm (0/1)."""
    length = len(scores.total)
    frame = pd.DataFrame({"time": np.arange(length) if times is None else times,
                          "part": np.asarray(["train", "val", "test"])[scores.parts], "score": scores.total})
    for c, name in enumerate(scores.channel_names):
        frame[f"score_{name}"] = scores.channels[:, c]
    frame["label"] = scores.labels if scores.labels is not None else pd.NA
    frame["alarm"] = spans_mask(rule.alarms(scores.total, threshold), length).astype(np.int8)
    return frame
