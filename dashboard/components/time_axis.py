"""The x axis of a recording's charts: the file's own timestamps when it has them, else time steps.

Long recordings are drawn from bins (a screen shows about 2,000 columns): the max of each bin keeps short spikes.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vae_core.anomaly import binned, runs
from vae_core.dataset import Dataset

DRAWN_POINTS = 2000  # columns per chart: longer recordings are binned to this many


@dataclass(frozen=True)
class TimeAxis:
    """x value of every step (L,) and the axis title."""

    x: np.ndarray
    title: str

    @property
    def dated(self) -> bool:
        return np.issubdtype(self.x.dtype, np.datetime64)

    def at(self, step: int) -> object:
        """The x of one step, as plotly takes it in shapes (a datetime as ISO text)."""
        value = self.x[int(np.clip(step, 0, len(self.x) - 1))]
        return str(pd.Timestamp(value)) if self.dated else float(value)

    def edge(self, step: int) -> object:
        """Where a step's column begins (half a step early on a numeric axis, so one step is a visible band)."""
        return self.at(step) if self.dated else float(self.x[int(np.clip(step, 0, len(self.x) - 1))]) - 0.5

    def text(self, step: int) -> str:
        """One step's time as a reader sees it: '2024-01-01 00:04:40', '3.5' or 'step 120'."""
        if self.dated:
            return str(pd.Timestamp(self.x[int(step)]))
        return f"step {int(step):,}" if self.title == "time step" else f"{self.x[int(step)]:g}"

    def seconds_per_step(self) -> float | None:
        """The median time between two steps in seconds, when the axis holds datetimes."""
        if not self.dated or len(self.x) < 2:
            return None
        gaps = np.diff(self.x).astype("timedelta64[ns]").astype(np.float64) / 1e9
        return float(np.median(gaps)) if len(gaps) else None


def time_axis(data: Dataset) -> TimeAxis:
    """The axis of a sensor recording's series (L, C)."""
    times = data.series_time
    if times is not None and data.series is not None and len(times) == len(data.series):
        if np.issubdtype(np.asarray(times).dtype, np.datetime64):
            return TimeAxis(np.asarray(times, dtype="datetime64[ns]"), "time (UTC)")
        return TimeAxis(np.asarray(times, dtype=np.float64), "time")
    return TimeAxis(np.arange(0 if data.series is None else len(data.series)), "time step")


def drawn(values: np.ndarray, axis: TimeAxis, how: str = "max") -> tuple[np.ndarray, np.ndarray]:
    """(x, values) to draw: every step of a short recording, bins (max or mean) of a long one."""
    if len(values) <= DRAWN_POINTS:
        return axis.x, np.asarray(values, dtype=np.float64)
    filled = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=-np.inf if how == "max" else 0.0)
    shown, starts = binned(filled, DRAWN_POINTS, how)
    return axis.x[starts], np.where(np.isfinite(shown), shown, np.nan)


def spans(mask: np.ndarray, limit: int = 300) -> list[tuple[int, int]]:
    """(first, last) steps of the runs of a 0/1 mask (L,), merged when there are more than `limit` (a chart holds
    a few hundred shapes before it slows down)."""
    mask = np.asarray(mask) > 0
    found = runs(mask)
    if len(found) > limit:  # the runs of the drawn columns instead
        shown, starts = binned(mask.astype(np.float64), DRAWN_POINTS, "max")
        stops = np.r_[starts[1:], len(mask)]
        columns = runs(shown > 0)
        found = np.column_stack([starts[columns[:, 0]], stops[columns[:, 1]] - 1])
    return [(int(a), int(b)) for a, b in found]


def part_spans(data: Dataset) -> list[tuple[str, int, int]]:
    """('train' | 'validation' | 'test', first step, last step) of each stretch of the recording, in time order."""
    names = ("train", "validation", "test")
    if data.part_ranges:
        return [(names[code], begin, end - 1) for code, begin, end in data.part_ranges]
    parts = data.step_parts()
    edges: Sequence[int] = np.flatnonzero(np.diff(parts)) + 1 if parts is not None else []
    bounds = [0, *map(int, edges), len(parts)] if parts is not None else []
    return [(names[int(parts[a])], a, b - 1) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
