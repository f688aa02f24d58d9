"""Sensor CSVs: a recording over time (rows = time steps, columns = channels) cut into windows.

The split is time-ordered (train, then val, then test) and each window lies inside one part, so no
window sees the future of another part; scaling is fitted on the train part only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..dataset import DataError, Dataset, Scaling
from . import common
from .csv_table import (
    ANOMALY_NAMES,
    TIME_NAMES,
    Table,
    check_mostly_numbers,
    find_column,
    first_bad_cell,
    is_numeric_column,
)

SCALINGS = ("zscore", "minmax", "none")
NAN_POLICIES = ("interpolate", "drop", "error")
_TRUE, _FALSE = {"1", "1.0", "true"}, {"0", "0.0", "false"}


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise DataError(message)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _optional_name(value, what: str) -> None:
    _check(value is None or (isinstance(value, str) and value.strip() != ""),
           f"{what} must be a column name, 'auto' or None, not {value!r}")


@dataclass(frozen=True)
class SensorOptions:
    """How a sensor recording (L time steps, C channels) becomes windows (N, window, C)."""

    channels: tuple[str, ...] | None = None  # None = every numeric column except time and label
    time_column: str | None = "auto"  # "auto" detects timestamp/time/date/datetime; None = no time column
    label_column: str | None = "auto"  # "auto" detects is_anomaly/anomaly/label; None = unlabelled
    window: int = 64  # time steps per window
    stride: int = 8  # steps between the starts of two windows (stride < window: they overlap)
    scaling: str = "zscore"  # zscore | minmax | none, fitted on the train part only
    nan: str = "interpolate"  # missing values: interpolate (linear, edges: nearest) | drop (rows) | error
    train_frac: float = 0.6  # first 60 % of the time steps train the model
    val_frac: float = 0.2  # the next 20 % validate it; the rest is the test part

    def __post_init__(self) -> None:
        if self.channels is not None:
            channels = (self.channels,) if isinstance(self.channels, str) else tuple(self.channels)
            object.__setattr__(self, "channels", channels)
            _check(len(channels) > 0 and all(isinstance(c, str) and c.strip() for c in channels),
                   f"channels must be a list of column names (or None for every numeric column), not {self.channels!r}")
            _check(len(set(channels)) == len(channels), f"channels lists a column twice: {list(channels)}")
        _optional_name(self.time_column, "time_column")
        _optional_name(self.label_column, "label_column")
        _check(isinstance(self.window, (int, np.integer)) and 2 <= self.window <= 100_000,
               f"window must be a whole number of time steps from 2 to 100000, not {self.window!r}")
        _check(isinstance(self.stride, (int, np.integer)) and 1 <= self.stride <= 100_000,
               f"stride must be a whole number of time steps from 1 to 100000, not {self.stride!r}")
        _check(self.scaling in SCALINGS, f"scaling must be one of {', '.join(SCALINGS)}, not {self.scaling!r}")
        _check(self.nan in NAN_POLICIES, f"nan must be one of {', '.join(NAN_POLICIES)}, not {self.nan!r}")
        for name in ("train_frac", "val_frac"):
            value = getattr(self, name)
            _check(isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool),
                   f"{name} must be a number between 0 and 1, not {value!r}")
        _check(0 < self.train_frac < 1, f"train_frac must be between 0 and 1 (e.g. 0.6), not {self.train_frac!r}")
        _check(0 <= self.val_frac < 1, f"val_frac must be between 0 and 1 (e.g. 0.2), not {self.val_frac!r}")
        _check(self.train_frac + self.val_frac <= 1,
               f"train_frac + val_frac must be at most 1 (the rest is the test part), not {self.train_frac + self.val_frac:g}")


# ---- choosing columns ----------------------------------------------------------------------------

def _named_column(table: Table, wanted: str | None, auto_names: tuple[str, ...], what: str) -> str | None:
    if wanted is None:
        return None
    if wanted == "auto":
        return find_column(table.frame.columns, auto_names)
    if wanted not in table.frame.columns:
        raise DataError(f"'{table.name}' has no {what} column '{wanted}'; its columns are: "
                        f"{', '.join(map(str, table.frame.columns))}")
    return wanted


def _flags(table: Table, column: str) -> np.ndarray | None:
    """Anomaly flags (L,) as float 0/1 with NaN where empty; None if the column holds other values."""
    values = table.frame[column]
    text = values.astype("string").str.strip().str.lower()
    flags = np.where(text.isin(_TRUE), 1.0, np.where(text.isin(_FALSE), 0.0, np.nan))
    other = ~(np.isfinite(flags) | values.isna().to_numpy())
    return None if other.any() else flags


def _flag_error(table: Table, column: str) -> DataError:
    text = table.frame[column].astype("string").str.strip().str.lower()
    bad = int(np.flatnonzero(~(text.isin(_TRUE | _FALSE) | table.frame[column].isna()).to_numpy())[0])
    return DataError(f"'{table.name}' label column '{column}' must hold anomaly flags 0/1 or true/false, but line "
                     f"{table.line_of(bad)} has {str(table.frame[column].iloc[bad])!r}: fix it, or set label_column to None")


def _resolve_label(table: Table, opts: SensorOptions, notes: list[str]) -> tuple[str | None, np.ndarray | None]:
    label = _named_column(table, opts.label_column, ANOMALY_NAMES, "label")
    if label is None:
        return None, None
    flags = _flags(table, label)
    if flags is None and opts.label_column == "auto":
        notes.append(f"column '{label}' holds values other than 0/1 or true/false, so it is not used as anomaly flags")
        return label, None  # still kept out of the channels
    if flags is None:
        raise _flag_error(table, label)
    return label, flags


def _default_channels(table: Table, exclude: set, notes: list[str]) -> tuple[str, ...]:
    frame = table.frame
    candidates = [c for c in frame.columns if c not in exclude]
    skipped = [c for c in candidates if not is_numeric_column(frame[c])]
    for column in skipped:
        check_mostly_numbers(table, column)
    empty = [c for c in candidates if c not in skipped and frame[c].isna().all()]
    if skipped:
        notes.append(f"skipped non-numeric column(s): {', '.join(map(repr, skipped))}")
    if empty:
        notes.append(f"skipped empty column(s): {', '.join(map(repr, empty))}")
    channels = tuple(c for c in candidates if c not in skipped and c not in empty)
    if not channels:
        raise DataError(f"'{table.name}' has no numeric column to use as a channel (columns: "
                        f"{', '.join(map(str, frame.columns))}): a sensor CSV needs at least one column of numbers")
    return channels


def _check_chosen(table: Table, channels: tuple[str, ...], reserved: dict[str, str]) -> None:
    for channel in channels:
        if channel not in table.frame.columns:
            raise DataError(f"'{table.name}' has no column '{channel}'; choose channels among: "
                            f"{', '.join(map(str, table.frame.columns))}")
        if channel in reserved:
            raise DataError(f"'{channel}' is the {reserved[channel]} column and cannot also be a channel: "
                            "remove it from channels")
        bad = None if is_numeric_column(table.frame[channel]) else first_bad_cell(table.frame[channel])
        if bad:
            row, text = bad
            raise DataError(f"channel '{channel}' is not numeric: line {table.line_of(row)} has {text!r}; "
                            "choose columns of numbers as channels")


# ---- rows: time order and missing values -----------------------------------------------------------

def _time_order(table: Table, time_column: str, notes: list[str]) -> np.ndarray | None:
    """Row order that sorts by time, or None when the rows are already in time order."""
    raw = table.frame[time_column]
    times = pd.to_numeric(raw, errors="coerce")
    if times.isna().any():
        times = pd.to_datetime(raw, errors="coerce", format="mixed")
    if times.isna().any():
        notes.append(f"time column '{time_column}' could not be read as times everywhere, so rows keep the file order")
        return None
    if times.is_monotonic_increasing:
        return None
    notes.append(f"rows sorted by time column '{time_column}' (they were out of order)")
    return np.argsort(times.to_numpy(), kind="stable")


def _fill_missing(table: Table, values: np.ndarray, flags: np.ndarray | None, rows: np.ndarray,
                  channels: tuple[str, ...], policy: str, notes: list[str]):
    """Apply the NaN policy; returns (values (L, C), flags (L,) or None, file rows kept (L,))."""
    missing = ~np.isfinite(values)
    label_missing = np.zeros(len(values), bool) if flags is None else np.isnan(flags)
    if policy == "drop":
        keep = ~(missing.any(axis=1) | label_missing)
        if not keep.all():
            lines = [table.line_of(int(r)) for r in rows[~keep][:5]]
            notes.append(f"dropped {_count(int((~keep).sum()), 'row')} with missing values (lines "
                         f"{', '.join(map(str, lines))}{', ...' if (~keep).sum() > 5 else ''}); "
                         "the recording skips those time steps")
        return values[keep], (None if flags is None else flags[keep]), rows[keep]
    if label_missing.any():
        line = table.line_of(int(rows[np.flatnonzero(label_missing)[0]]))
        raise DataError(f"'{table.name}' line {line} has no anomaly flag: fill the label column with 0 or 1, "
                        "or set nan to 'drop'")
    for c, channel in enumerate(channels):
        count = int(missing[:, c].sum())
        if not count:
            continue
        first_line = table.line_of(int(rows[np.flatnonzero(missing[:, c])[0]]))
        if policy == "error":
            raise DataError(f"channel '{channel}' has {_count(count, 'missing value')} (first on line {first_line}): "
                            "fill them in the file, or set nan to 'interpolate' or 'drop'")
        if missing[:, c].all():
            raise DataError(f"channel '{channel}' has no values at all: remove it from channels")
        values[:, c] = pd.Series(np.where(missing[:, c], np.nan, values[:, c])).interpolate(
            method="linear", limit_direction="both").to_numpy()
        notes.append(f"filled {_count(count, 'missing value')} in '{channel}' by linear interpolation")
    return values, flags, rows


# ---- split, scaling, windows ------------------------------------------------------------------------

def _part_bounds(length: int, opts: SensorOptions) -> tuple[int, int]:
    """Time steps where the val and the test part begin."""
    n_train = min(length, int(round(length * opts.train_frac)))
    n_val = min(length - n_train, int(round(length * opts.val_frac)))
    return n_train, n_train + n_val


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


def window_starts(bounds: tuple[int, int], length: int, window: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Window starts (N,) and part codes (N,): windows are cut from each part on its own."""
    starts, parts = [], []
    for code, (begin, end) in enumerate(((0, bounds[0]), bounds, (bounds[1], length))):
        part_starts = np.arange(begin, end - window + 1, stride, dtype=np.int64)
        starts.append(part_starts)
        parts.append(np.full(len(part_starts), code, dtype=np.int8))
    return np.concatenate(starts), np.concatenate(parts)


def _check_train_length(name: str, length: int, bounds: tuple[int, int], opts: SensorOptions) -> None:
    if bounds[0] < opts.window:
        raise DataError(f"'{name}' has {length} rows, so the train part ({opts.train_frac:g} of them) has "
                        f"{bounds[0]} time steps, fewer than one window of {opts.window}: "
                        "use a smaller window, a larger train_frac or a longer recording")


def _part_notes(bounds: tuple[int, int], length: int, parts: np.ndarray, opts: SensorOptions) -> list[str]:
    ranges = ((0, bounds[0]), bounds, (bounds[1], length))
    counts = np.bincount(parts, minlength=3)
    notes = [f"time-ordered split: train steps {ranges[0][0]}-{ranges[0][1] - 1}, "
             f"val {ranges[1][0]}-{ranges[1][1] - 1}, test {ranges[2][0]}-{ranges[2][1] - 1}",
             f"windows of {opts.window} steps every {opts.stride} steps: "
             f"{counts[0]} train, {counts[1]} val, {counts[2]} test"]
    for code, part in ((1, "val"), (2, "test")):
        size = ranges[code][1] - ranges[code][0]
        if 0 < size < opts.window:
            notes.append(f"the {part} part has {size} steps, fewer than one window, so it has no windows")
    return notes


def _check_window_values(name: str, n_windows: int, window: int, n_channels: int) -> None:
    total = n_windows * window * n_channels
    if total > common.MAX_PIXEL_VALUES:
        raise DataError(f"'{name}' would give {n_windows:,} windows ({total:,} values), more than the limit of "
                        f"{common.MAX_PIXEL_VALUES:,}: use a larger stride or a shorter recording")


def build_sensor_dataset(name: str, raw: np.ndarray, flags: np.ndarray | None, channels: tuple[str, ...],
                         opts: SensorOptions, notes: list[str]) -> Dataset:
    """A clean recording raw (L, C) and optional anomaly flags (L,) -> windows (N, window, C)."""
    length = len(raw)
    bounds = _part_bounds(length, opts)
    _check_train_length(name, length, bounds, opts)
    scaling = fit_scaling(raw[:bounds[0]], opts.scaling, channels, notes)
    series = scaling.apply(raw)
    starts, parts = window_starts(bounds, length, opts.window, opts.stride)
    _check_window_values(name, len(starts), opts.window, len(channels))
    windows = np.lib.stride_tricks.sliding_window_view(series, opts.window, axis=0)  # (L-T+1, C, T)
    x = np.ascontiguousarray(windows[starts].transpose(0, 2, 1))  # (N, T, C)
    y = step_flags = None
    if flags is not None:
        step_flags = flags.astype(np.int8)
        hits = np.concatenate([[0], np.cumsum(step_flags, dtype=np.int64)])
        y = (hits[starts + opts.window] - hits[starts] > 0).astype(np.int64)  # any anomalous step in the window
        notes.append(f"{int(step_flags.sum())} of {length} time steps are labelled anomalous; "
                     f"{int(y.sum())} windows contain one")
    notes.extend(_part_notes(bounds, length, parts, opts))
    return Dataset(name=name, kind="sensor", x=x, split=parts, y=y,
                   label_names=None if y is None else ("normal", "anomaly"),
                   label_kind="anomaly" if y is not None else "class", channels=tuple(map(str, channels)),
                   scaling=scaling, series=series, series_anomaly=step_flags, window_starts=starts,
                   split_starts=bounds, notes=tuple(notes))


def _channel_values(table: Table, channels: tuple[str, ...]) -> np.ndarray:
    """Chosen channels (L, C) as float64; empty cells become NaN (handled by the NaN policy)."""
    columns = [pd.to_numeric(table.frame[c], errors="coerce").astype("float64").to_numpy(na_value=np.nan)
               for c in channels]
    return np.column_stack(columns)


def load_sensor_csv(table: Table, opts: SensorOptions) -> Dataset:
    """A sensor CSV table -> sensor Dataset of windows (N, opts.window, C), scaled, time-ordered split."""
    if not table.has_header:
        raise DataError(f"'{table.name}' has no header row: a sensor CSV needs one naming its columns "
                        "(e.g. timestamp,value,is_anomaly); add it as the first line")
    notes: list[str] = []
    time_column = _named_column(table, opts.time_column, TIME_NAMES, "time")
    label, flags = _resolve_label(table, opts, notes)
    reserved = {c: role for c, role in ((time_column, "time"), (label, "label")) if c is not None}
    channels = opts.channels or _default_channels(table, set(reserved), notes)
    _check_chosen(table, channels, reserved)
    values = _channel_values(table, channels)
    rows = np.arange(len(values))
    order = None if time_column is None else _time_order(table, time_column, notes)
    if order is not None:
        values, rows = values[order], rows[order]
        flags = None if flags is None else flags[order]
    values, flags, rows = _fill_missing(table, values, flags, rows, channels, opts.nan, notes)
    return build_sensor_dataset(table.name, values, flags, channels, opts, notes)
