"""Events: runs of time steps whose score exceeds a threshold, with where they peak and which channels drive them.

Order of the rules: steps above the threshold form runs; runs separated by at most `merge_gap` quiet steps
are merged into one event; events shorter than `min_length` steps (after merging) are dropped.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Event:
    """One alarm episode over steps start..end (inclusive)."""

    start: int
    end: int  # last step, inclusive
    peak: int  # step with the highest score
    peak_score: float
    top_channels: tuple[tuple[str, float], ...] = ()  # (channel, share of the event's error), largest first

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def runs(mask: np.ndarray) -> np.ndarray:
    """Runs of True in a bool mask (L,) -> (K, 2) int64 [start, end] inclusive."""
    edges = np.diff(np.concatenate([[0], np.asarray(mask, dtype=np.int8), [0]]))
    return np.column_stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1]).astype(np.int64)


def merge_runs(spans: np.ndarray, gap: int) -> np.ndarray:
    """Runs (K, 2) separated by at most `gap` steps merged: -> (K', 2)."""
    if len(spans) < 2 or gap <= 0:
        return spans
    new = np.concatenate([[True], spans[1:, 0] - spans[:-1, 1] - 1 > gap])  # a run starts a new event
    first = np.flatnonzero(new)
    last = np.append(first[1:], len(spans)) - 1
    return np.column_stack([spans[first, 0], spans[last, 1]])


def alarm_spans(scores: np.ndarray, threshold: float, min_length: int = 1, merge_gap: int = 0) -> np.ndarray:
    """Alarm episodes (K, 2) [start, end] of step scores (L,) above `threshold`: merged, then short ones dropped."""
    spans = merge_runs(runs(np.asarray(scores) > threshold), merge_gap)
    return spans[spans[:, 1] - spans[:, 0] + 1 >= min_length] if len(spans) else spans


def spans_mask(spans: np.ndarray, length: int) -> np.ndarray:
    """Spans (K, 2) inclusive -> bool mask (L,) that is True inside them."""
    edges = np.zeros(length + 1, dtype=np.int64)
    np.add.at(edges, spans[:, 0], 1)
    np.add.at(edges, spans[:, 1] + 1, -1)
    return np.cumsum(edges[:length]) > 0


def labelled_spans(labels: np.ndarray) -> np.ndarray:
    """Labelled anomalies (K, 2) [start, end] inclusive from 0/1 step labels (L,)."""
    return runs(np.asarray(labels) > 0)


def _channel_shares(channel_scores: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """Each event's share of error per channel (K, C): error summed over the event, over all channels' sum."""
    bounds = np.column_stack([spans[:, 0], spans[:, 1] + 1]).ravel()
    bounds = bounds[bounds < len(channel_scores)]
    sums = np.add.reduceat(np.nan_to_num(channel_scores), bounds, axis=0)[::2][:len(spans)]
    totals = sums.sum(axis=1, keepdims=True)
    return np.divide(sums, totals, out=np.zeros_like(sums), where=totals > 0)


def detect_events(scores: np.ndarray, threshold: float, min_length: int = 1, merge_gap: int = 0,
                  channel_scores: np.ndarray | None = None, channels: tuple[str, ...] = (),
                  top: int = 3) -> list[Event]:
    """Events of step scores (L,) above `threshold`, each with its peak and (given per-step channel scores
    (L, C) and their names) the `top` channels that contribute most to its error."""
    scores = np.asarray(scores, dtype=np.float64)
    spans = alarm_spans(scores, threshold, min_length, merge_gap)
    shares = None if channel_scores is None or not len(spans) else _channel_shares(channel_scores, spans)
    events = []
    for k, (start, end) in enumerate(spans):
        peak = int(start + np.argmax(scores[start:end + 1]))
        ranked = () if shares is None else tuple(
            (channels[c] if c < len(channels) else f"channel {c + 1}", float(shares[k, c]))
            for c in np.argsort(-shares[k], kind="stable")[:top])
        events.append(Event(int(start), int(end), peak, float(scores[peak]), ranked))
    return events
