"""The time column: read as numbers or as UTC times, rows put in time order, duplicated times resolved."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..dataset import DataError
from .csv_table import Table, is_numeric_column

_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")  # ISO 8601 UTC offset at the end: Z, +01:00, -0500
_HAS_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"


@dataclass
class Rows:
    """A recording's rows in time order: values (L, C), flags (L,) or None, file rows (L,), times (L,) or None."""

    values: np.ndarray
    flags: np.ndarray | None
    rows: np.ndarray
    times: np.ndarray | None

    def take(self, index: np.ndarray) -> "Rows":
        return Rows(self.values[index], None if self.flags is None else self.flags[index], self.rows[index],
                    None if self.times is None else self.times[index])


def _with_offsets(table: Table, column: str, text: pd.Series, notes: list[str]) -> pd.Series:
    """ISO times with UTC offsets (+01:00, Z) -> UTC; a change of offset (daylight saving) is said."""
    offsets = text.str.findall(_OFFSET).str[0]  # NaN where a time has no offset
    if offsets.isna().any():
        with_, without = int(np.flatnonzero(offsets.notna())[0]), int(np.flatnonzero(offsets.isna())[0])
        raise DataError(f"'{table.name}' time column '{column}' mixes times with a UTC offset (line "
                        f"{table.line_of(with_)}: {text.iloc[with_]!r}) "
                        f"and without one (line {table.line_of(without)}: "
                        f"{text.iloc[without]!r}): give every time an offset, or none")
    times = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    if times.isna().any():
        times = pd.to_datetime(text, utc=True, errors="coerce", format="mixed")
    seen = list(dict.fromkeys(offsets))
    if len(seen) > 1:
        notes.append(f"time column '{column}' has UTC offsets {', '.join(seen[:4])} (a daylight-saving change): "
                     "times converted to UTC, so the steps stay in order")
    else:
        notes.append(f"time column '{column}' has UTC offset {seen[0]}: times converted to UTC")
    return times


def read_times(table: Table, column: str, notes: list[str]) -> np.ndarray | None:
    """Time column (L,) -> float64 numbers or datetime64[ns] in UTC, in file order; None if not readable everywhere."""
    raw = table.frame[column]
    if is_numeric_column(raw):
        times = pd.to_numeric(raw).astype("float64")
    elif pd.api.types.is_datetime64_any_dtype(raw):
        times = pd.to_datetime(raw, utc=True)
    else:
        text = raw.astype("string").str.strip()
        if text.notna().all() and text.str.contains(_HAS_OFFSET, regex=True).any():
            times = _with_offsets(table, column, text, notes)
        else:
            times = pd.to_datetime(text, errors="coerce", format="ISO8601")
            if times.isna().any():
                times = pd.to_datetime(text, errors="coerce", format="mixed")
    if times.isna().any():
        notes.append(f"time column '{column}' could not be read as times everywhere, so rows keep the file order")
        return None
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times.to_numpy()


def _same_time_groups(times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted times (L,) -> first index of each group of equal times (G,), and group sizes (G,)."""
    starts = np.flatnonzero(np.r_[True, times[1:] != times[:-1]])
    return starts, np.diff(np.r_[starts, len(times)])


def _mean_per_group(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """NaN-aware mean of each group of rows (values (L, C) -> (G, C)); a group with no value stays NaN."""
    present = np.isfinite(values)
    sums = np.add.reduceat(np.where(present, values, 0.0), starts, axis=0)
    counts = np.add.reduceat(present.astype(np.int64), starts, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _resolve_duplicates(table: Table, column: str, rows: Rows, policy: str, notes: list[str]) -> Rows:
    starts, sizes = _same_time_groups(rows.times)
    repeated = int((sizes - 1).sum())
    if not repeated:
        return rows
    first = int(starts[np.flatnonzero(sizes > 1)[0]])
    lines = sorted(table.line_of(int(r)) for r in rows.rows[first:first + 2])
    time = rows.times[first]
    shown = f"{time:g}" if isinstance(time, (float, np.floating)) else str(pd.Timestamp(time))
    where = f"first {shown!r} on lines {lines[0]} and {lines[1]}"
    if policy == "error":
        raise DataError(f"'{table.name}' time column '{column}' repeats times: {repeated} rows share a time with an "
                        f"earlier row ({where}); the file may hold two recordings interleaved. Set duplicates to "
                        "'first' (keep the first row of each time) or 'mean' (average them)")
    merged = rows.take(starts)
    if policy == "mean":
        merged.values = _mean_per_group(rows.values, starts)
        if rows.flags is not None:  # a time is anomalous when any of its rows is
            merged.flags = np.fmax.reduceat(rows.flags, starts)
        how = "averaged (a time is anomalous if any of its rows is)"
    else:
        how = "reduced to the first row of each time"
    notes.append(f"time column '{column}' repeats times: {repeated} rows share a time with an earlier row ({where}); "
                 f"rows with the same time were {how}. Set duplicates to 'first', 'mean' or 'error' to change this")
    return merged


def order_rows(table: Table, column: str, rows: Rows, duplicates: str, notes: list[str]) -> Rows:
    """Rows sorted by their times (stable), then duplicated times resolved by the `duplicates` policy."""
    if rows.times is None:
        return rows
    if not (rows.times[1:] >= rows.times[:-1]).all():
        notes.append(f"rows sorted by time column '{column}' (they were out of order)")
        rows = rows.take(np.argsort(rows.times, kind="stable"))
    return _resolve_duplicates(table, column, rows, duplicates, notes)
