"""Replay: the alarms as they would have fired had the recording streamed through the detector step by step.

An alarm fires once its episode has lasted `min_length` steps (the earliest moment the rule can know), plus
`latency`: a step's score is final only when the last window covering it has arrived, window - 1 steps
later. Episodes merge as in events.alarm_spans, so a merged continuation raises no second alarm.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .events import alarm_spans, labelled_spans


@dataclass(frozen=True)
class Alarm:
    """One alarm in streaming order."""

    fired_at: int  # the step at which it would have sounded
    start: int  # first step of its episode
    end: int  # last step of its episode (known only afterwards)
    event: int | None  # index of the labelled event it overlaps, if any
    delay: int | None  # fired_at - that event's first step (negative: it fired before the label began)


@dataclass(frozen=True)
class Replay:
    """Alarms in firing order, and for each labelled event the delay of its first alarm (None: missed)."""

    alarms: tuple[Alarm, ...]
    event_delays: tuple[int | None, ...]
    latency: int


def _fire_step(scores: np.ndarray, threshold: float, start: int, end: int, min_length: int) -> int:
    """First step of the episode at which it has lasted min_length steps and the score is above threshold."""
    above = np.flatnonzero(scores[start + min_length - 1:end + 1] > threshold)
    return int(start + min_length - 1 + above[0]) if len(above) else int(end)


def replay(scores: np.ndarray, threshold: float, labels: np.ndarray | None = None, min_length: int = 1,
           merge_gap: int = 0, latency: int = 0) -> Replay:
    """Alarms of step scores (L,) at `threshold` in streaming order, matched to labelled events (0/1, (L,))."""
    scores = np.asarray(scores, dtype=np.float64)
    events = labelled_spans(labels) if labels is not None else np.zeros((0, 2), np.int64)
    alarms = []
    first_delay: list[int | None] = [None] * len(events)
    for start, end in alarm_spans(scores, threshold, min_length, merge_gap):
        fired = min(_fire_step(scores, threshold, start, end, min_length) + latency, len(scores) - 1 + latency)
        hits = np.flatnonzero((events[:, 0] <= end) & (events[:, 1] >= start)) if len(events) else []
        event = int(hits[0]) if len(hits) else None
        delay = None if event is None else fired - int(events[event, 0])
        if event is not None and first_delay[event] is None:
            first_delay[event] = delay
        alarms.append(Alarm(fired, int(start), int(end), event, delay))
    alarms.sort(key=lambda a: a.fired_at)
    return Replay(tuple(alarms), tuple(first_delay), latency)
