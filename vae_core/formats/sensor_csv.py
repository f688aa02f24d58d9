"""Sensor CSVs: a recording over time (rows = time steps, columns = channels) cut into windows.

The split is time-ordered (train, then val, then test; or a chosen train range with test around it) and
each window lies inside one part, so no window sees the future of another part; scaling is fitted on the
train part only. Columns get roles first (sensor_columns): labels and the time axis never become channels.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..dataset import DataError, Dataset, Scaling
from . import common
from .csv_table import Table, is_numeric_column
from .sensor_columns import assign_columns
from .sensor_options import DUPLICATE_POLICIES, NAN_POLICIES, SCALINGS, SensorOptions
from .sensor_time import Rows, order_rows, read_times

__all__ = ["SensorOptions", "SCALINGS", "NAN_POLICIES", "DUPLICATE_POLICIES", "load_sensor_csv",
           "build_sensor_dataset", "part_ranges", "window_starts", "fit_scaling"]


_BLOCK_VALUES = 1 << 20  # values per block when cutting windows: small enough to stay in cache


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# ---- rows: missing values ------------------------------------------------------------------------------

def _fill_missing(table: Table, rows: Rows, channels: tuple[str, ...], policy: str, notes: list[str]) -> Rows:
    """Apply the NaN policy to rows.values (L, C) and rows.flags (L,): drop rows, interpolate, or refuse."""
    values, flags = rows.values, rows.flags
    missing = ~np.isfinite(values)
    label_missing = np.zeros(len(values), bool) if flags is None else np.isnan(flags)
    if policy == "drop":
        keep = ~(missing.any(axis=1) | label_missing)
        if not keep.all():
            lines = [table.line_of(int(r)) for r in rows.rows[~keep][:5]]
            notes.append(f"dropped {_count(int((~keep).sum()), 'row')} with missing values (lines "
                         f"{', '.join(map(str, lines))}{', ...' if (~keep).sum() > 5 else ''}); "
                         "the recording skips those time steps")
        return rows.take(np.flatnonzero(keep))
    if label_missing.any():
        line = table.line_of(int(rows.rows[np.flatnonzero(label_missing)[0]]))
        raise DataError(f"'{table.name}' line {line} has no anomaly flag: fill the label column with 0 or 1, "
                        "or set nan to 'drop'")
    for c, channel in enumerate(channels):
        count = int(missing[:, c].sum())
        if not count:
            continue
        first_line = table.line_of(int(rows.rows[np.flatnonzero(missing[:, c])[0]]))
        if policy == "error":
            raise DataError(f"channel '{channel}' has {_count(count, 'missing value')} (first on line {first_line}): "
                            "fill them in the file, or set nan to 'interpolate' or 'drop'")
        if missing[:, c].all():
            raise DataError(f"channel '{channel}' has no values at all: remove it from channels")
        values[:, c] = pd.Series(np.where(missing[:, c], np.nan, values[:, c])).interpolate(
            method="linear", limit_direction="both").to_numpy()
        notes.append(f"filled {_count(count, 'missing value')} in '{channel}' by linear interpolation")
    return rows


# ---- split, scaling, windows ------------------------------------------------------------------------

def part_ranges(length: int, opts: SensorOptions) -> tuple[tuple[int, int, int], ...]:
    """(part code, first step, stop) of each stretch of the recording, in time order, none empty."""
    if opts.train_range is None:
        n_train = min(length, int(round(length * opts.train_frac)))
        n_val = min(length - n_train, int(round(length * opts.val_frac)))
        ranges = ((0, 0, n_train), (1, n_train, n_train + n_val), (2, n_train + n_val, length))
    else:
        first, stop = opts.train_range
        if stop > length:
            raise DataError(f"train_range ({first}, {stop}) ends past the recording, which has {length} time steps: "
                            f"choose a stop of at most {length}")
        val_start = stop - int(round((stop - first) * opts.val_share))
        ranges = ((2, 0, first), (0, first, val_start), (1, val_start, stop), (2, stop, length))
    return tuple(r for r in ranges if r[2] > r[1])


def fit_scaling(train: np.ndarray, method: str, channels: tuple[str, ...], notes: list[str]) -> Scaling:
    """Per-channel Scaling fitted on train values (L, C); a flat channel gets scale 1."""
    n_channels = train.shape[1]
    if method == "none":
        return Scaling("none", np.zeros(n_channels), np.ones(n_channels))
    if method == "zscore":
        center, scale = train.mean(axis=0), train.std(axis=0)
    else:
        center, scale = train.min(axis=0), train.max(axis=0) - train.min(axis=0)
    flat = scale <= 1e-12 * np.maximum(1.0, np.abs(center))
    for c in np.flatnonzero(flat):
        notes.append(f"channel '{channels[c]}' is constant in the train part, so its scale is set to 1")
    scale = np.where(flat, 1.0, scale)
    what = "z-score (mean 0, std 1)" if method == "zscore" else "min-max (0..1)"
    notes.append(f"{what} per channel, fitted on the train part only")
    return Scaling(method, center.astype(np.float64), scale.astype(np.float64))


def cut_windows(series: np.ndarray, starts: np.ndarray, window: int) -> np.ndarray:
    """Windows (N, window, C) float32 of a series (L, C), each from its start (N,): written once, in blocks.

    Indexing the whole view at once is several times slower (a strided gather into 512 MB for 2M rows)."""
    view = np.lib.stride_tricks.sliding_window_view(series, window, axis=0).transpose(0, 2, 1)  # (L-T+1, T, C)
    x = np.empty((len(starts), window, series.shape[1]), np.float32)
    block = max(1, _BLOCK_VALUES // (window * series.shape[1]))
    for first in range(0, len(starts), block):
        x[first:first + block] = view[starts[first:first + block]]
    return x


def window_starts(ranges: tuple[tuple[int, int, int], ...], window: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Window starts (N,) and part codes (N,): windows are cut from each stretch on its own."""
    starts = [np.arange(begin, end - window + 1, stride, dtype=np.int64) for _, begin, end in ranges]
    parts = [np.full(len(s), code, dtype=np.int8) for s, (code, _, _) in zip(starts, ranges, strict=True)]
    return np.concatenate(starts), np.concatenate(parts)


def _steps_of(ranges: tuple[tuple[int, int, int], ...], code: int) -> np.ndarray:
    return np.concatenate([np.arange(b, e) for c, b, e in ranges if c == code] or [np.zeros(0, np.int64)])


def _check_train_length(name: str, length: int, ranges, opts: SensorOptions) -> None:
    n_train = len(_steps_of(ranges, 0))
    if n_train >= opts.window:
        return
    if opts.train_range is not None:
        raise DataError(f"train_range {opts.train_range} leaves {n_train} training time steps (the rest validates), "
                        f"fewer than one window of {opts.window}: choose a longer range or a smaller window")
    raise DataError(f"'{name}' has {length} rows, so the train part ({opts.train_frac:g} of them) has "
                    f"{n_train} time steps, fewer than one window of {opts.window}: "
                    "use a smaller window, a larger train_frac or a longer recording")


def _stretch_text(ranges, code: int) -> str:
    return " and ".join(f"{b}-{e - 1}" for c, b, e in ranges if c == code) or "none"


def _part_notes(ranges, parts: np.ndarray, opts: SensorOptions) -> list[str]:
    counts = np.bincount(parts, minlength=3)
    how = "time-ordered split" if opts.train_range is None else f"train_range {opts.train_range}"
    notes = [f"{how}: train steps {_stretch_text(ranges, 0)}, val {_stretch_text(ranges, 1)}, "
             f"test {_stretch_text(ranges, 2)}",
             f"windows of {opts.window} steps every {opts.stride} steps: "
             f"{counts[0]} train, {counts[1]} val, {counts[2]} test"]
    for code, part in ((1, "val"), (2, "test")):
        size = len(_steps_of(ranges, code))
        if 0 < size and counts[code] == 0:
            notes.append(f"the {part} part has {size} steps, fewer than one window, so it has no windows")
    return notes


def _check_window_values(name: str, n_windows: int, window: int, n_channels: int) -> None:
    total = n_windows * window * n_channels
    if total > common.MAX_PIXEL_VALUES:
        raise DataError(f"'{name}' would give {n_windows:,} windows ({total:,} values), more than the limit of "
                        f"{common.MAX_PIXEL_VALUES:,}: use a larger stride or a shorter recording")


def _normal_train_steps(raw: np.ndarray, flags: np.ndarray | None, ranges, opts: SensorOptions,
                        notes: list[str]) -> np.ndarray:
    """Train-part values (n, C) to fit the scaling on: labelled anomalous steps left out when asked."""
    steps = _steps_of(ranges, 0)
    if flags is not None and opts.exclude_anomalies:
        normal = steps[flags[steps] == 0]
        if 0 < len(normal) < len(steps):
            notes.append(f"scaling fitted on the {len(normal)} train steps not labelled anomalous")
            steps = normal
    if len(steps) and steps[-1] - steps[0] + 1 == len(steps):
        return raw[steps[0]:steps[-1] + 1]  # one stretch: a view, not a copy of every train row
    return raw[steps]


def _leave_out_anomalies(name: str, y: np.ndarray, parts: np.ndarray, notes: list[str]) -> np.ndarray:
    """Indices of the windows to keep: train/val windows that overlap a labelled anomaly are left out."""
    drop = (y == 1) & (parts < 2)
    if not drop.any():
        return np.arange(len(y))
    if not ((parts == 0) & ~drop).any():
        raise DataError(f"every training window of '{name}' overlaps a labelled anomaly: choose a train_range of "
                        "normal behaviour, or set exclude_anomalies to False")
    counts = [int((drop & (parts == code)).sum()) for code in (0, 1)]
    notes.append(f"left out {counts[0]} train and {counts[1]} val windows that overlap a labelled anomaly, so the "
                 "model learns normal behaviour only (exclude_anomalies=False keeps them)")
    return np.flatnonzero(~drop)


def build_sensor_dataset(name: str, raw: np.ndarray, flags: np.ndarray | None, channels: tuple[str, ...],
                         opts: SensorOptions, notes: list[str], times: np.ndarray | None = None) -> Dataset:
    """A clean recording raw (L, C), optional anomaly flags (L,) and times (L,) -> windows (N, window, C)."""
    length = len(raw)
    ranges = part_ranges(length, opts)
    _check_train_length(name, length, ranges, opts)
    scaling = fit_scaling(_normal_train_steps(raw, flags, ranges, opts, notes), opts.scaling, channels, notes)
    series = scaling.apply(raw)
    starts, parts = window_starts(ranges, opts.window, opts.stride)
    y = step_flags = None
    if flags is not None:
        step_flags = flags.astype(np.int8)
        hits = np.concatenate([[0], np.cumsum(step_flags, dtype=np.int64)])
        y = (hits[starts + opts.window] - hits[starts] > 0).astype(np.int64)  # any anomalous step in the window
        notes.append(f"{int(step_flags.sum())} of {length} time steps are labelled anomalous; "
                     f"{int(y.sum())} windows contain one")
    notes.extend(_part_notes(ranges, parts, opts))
    if y is not None and opts.exclude_anomalies:
        keep = _leave_out_anomalies(name, y, parts, notes)
        starts, parts, y = starts[keep], parts[keep], y[keep]
    _check_window_values(name, len(starts), opts.window, len(channels))
    x = cut_windows(series, starts, opts.window)
    val = next(((b, e) for c, b, e in ranges if c == 1), None)
    split_starts = val or next(((b, b) for c, b, _ in ranges if c == 2), (length, length))
    return Dataset(name=name, kind="sensor", x=x, split=parts, y=y,
                   label_names=None if y is None else ("normal", "anomaly"),
                   label_kind="anomaly" if y is not None else "class", channels=tuple(map(str, channels)),
                   scaling=scaling, series=series, series_anomaly=step_flags, window_starts=starts,
                   split_starts=split_starts, part_ranges=ranges, series_time=times, notes=tuple(notes))


def _channel_values(table: Table, channels: tuple[str, ...]) -> np.ndarray:
    """Chosen channels (L, C) as float64; empty cells become NaN (handled by the NaN policy)."""
    values = np.empty((len(table.frame), len(channels)))  # filled column by column: no per-column copies to stack
    for c, channel in enumerate(channels):
        column = table.frame[channel]
        if not is_numeric_column(column):
            column = pd.to_numeric(column, errors="coerce").astype("float64")
        values[:, c] = column.to_numpy(dtype=np.float64, na_value=np.nan)
    return values


def load_sensor_csv(table: Table, opts: SensorOptions) -> Dataset:
    """A sensor table -> sensor Dataset of windows (N, opts.window, C), scaled, time-ordered split."""
    if not table.has_header:
        raise DataError(f"'{table.name}' has no header row: a sensor CSV needs one naming its columns "
                        "(e.g. timestamp,value,is_anomaly); add it as the first line")
    columns = assign_columns(table, opts)
    notes = columns.notes
    values = _channel_values(table, columns.channels)
    times = None if columns.time_column is None else read_times(table, columns.time_column, notes)
    rows = Rows(values, columns.flags, np.arange(len(values)), times)
    if columns.time_column is not None:
        rows = order_rows(table, columns.time_column, rows, opts.duplicates, notes)
    rows = _fill_missing(table, rows, columns.channels, opts.nan, notes)
    return build_sensor_dataset(table.name, rows.values, rows.flags, columns.channels, opts, notes, rows.times)
