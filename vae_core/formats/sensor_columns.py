"""Which column of a sensor table is a channel, the time axis, the anomaly label, another label, or ignored.

Label-like 0/1 columns and the time axis never become channels unless `channels` names them: a label fed
to the model as an input hands it the answer. Every decision carries its reason, for the Data page.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..dataset import DataError
from .csv_table import Table, check_mostly_numbers, first_bad_cell, is_numeric_column
from .sensor_options import SensorOptions

ROLES = ("channel", "time", "label", "extra_label", "ignored")

# Whole names (lower case, letters and digits only) that mean "this column is a label".
_LABEL_NAMES = {"anomaly", "anomalies", "anomalous", "isanomaly", "isanomalous", "anomalylabel", "label", "labels",
                "fault", "faults", "isfault", "faulty", "attack", "isattack", "target", "outlier", "isoutlier",
                "failure", "isfailure", "changepoint", "changepoints", "ischangepoint", "groundtruth", "class"}
# Words that, inside a longer name (valve1_anomaly), mark a 0/1 column as a label too.
_LABEL_WORDS = {"anomaly", "anomalies", "anomalous", "label", "labels", "fault", "faults", "attack", "attacks",
                "outlier", "outliers", "failure", "failures", "changepoint", "changepoints"}
NORMAL_WORDS = {"normal", "ok", "good", "nominal", "healthy", "pass", "passed", "no", "false", "negative", "benign",
                "inlier", "regular", "0"}
ANOMALY_WORDS = {"anomaly", "anomalous", "abnormal", "fault", "faulty", "failure", "fail", "failed", "attack", "bad",
                 "error", "outlier", "yes", "true", "positive", "alarm", "malicious", "1"}
_FLAG_WORDS = {"0", "1", "0.0", "1.0", "true", "false"}  # flags written as text
_TIME_NAMES = {"timestamp", "timestamps", "time", "date", "datetime", "ts", "timeutc", "datetimeutc", "timestamputc"}
# Numeric axes: accepted as the time axis when they never go down.
_AXIS_NAMES = {"t", "step", "steps", "index", "idx", "sample", "samples", "sampleindex", "row", "rowid", "tick",
               "ticks", "frame", "seconds", "second", "secs", "sec", "ms", "millis", "milliseconds", "elapsed",
               "elapsedtime", "epoch", "unixtime", "counter", "n"}
_PANDAS_INDEX = {"unnamed0", ""}


@dataclass(frozen=True)
class ColumnRole:
    """One column's role in a sensor recording and why it got it."""

    column: str
    role: str  # channel | time | label | extra_label | ignored
    reason: str


@dataclass
class Columns:
    """The outcome of assigning roles: what the loader reads, and the roles to show."""

    roles: tuple[ColumnRole, ...]
    channels: tuple[str, ...]
    time_column: str | None
    label_column: str | None
    flags: np.ndarray | None  # (L,) 0.0 / 1.0, NaN where the label cell is empty
    notes: list[str] = field(default_factory=list)


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _words(name: str) -> set[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(name)).lower()  # isAnomaly -> is anomaly
    return set(re.split(r"[^a-z0-9]+", spaced)) | {re.sub(r"[^a-z0-9]", "", spaced)}


def label_named(name: str) -> bool:
    """True when a column name says it holds labels (anomaly, is_anomaly, fault, attack, changepoint, ...)."""
    return _normal(name) in _LABEL_NAMES or bool(_words(name) & _LABEL_WORDS)


def _changepoint(name: str) -> bool:
    return "changepoint" in _normal(name)


def _label_rank(name: str) -> int:
    """Which label-like column is the anomaly label: anomaly first, then label, then the rest."""
    n = _normal(name)
    return 0 if "anomal" in n else 1 if "label" in n else 2


def anomaly_flags(column: pd.Series, anomaly_value: str | None = None) -> tuple[np.ndarray, str | None] | None:
    """Labels (L,) -> (flags (L,) 0/1 float, NaN where empty; a note for text labels), None if not two-valued."""
    present = column.notna().to_numpy()
    if is_numeric_column(column):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        given = values[present]
        return (values, None) if ((given == 0.0) | (given == 1.0)).all() else None  # no sort, as np.unique would
    text = column.astype("string").str.strip().str.lower()
    present = present & (text != "").fillna(False).to_numpy(dtype=bool)
    distinct = set(text[present].unique())
    if anomaly_value is not None:
        wanted = anomaly_value.strip().lower()
        if wanted not in distinct or len(distinct) > 2:
            return None
        anomalous = {wanted}
    else:
        if distinct <= _FLAG_WORDS:
            anomalous = {"1", "1.0", "true"}
        elif len(distinct) <= 2 and distinct <= NORMAL_WORDS | ANOMALY_WORDS and len(distinct & ANOMALY_WORDS) <= 1 \
                and len(distinct & NORMAL_WORDS) <= 1:
            anomalous = distinct & ANOMALY_WORDS
        else:
            return None
    flags = np.where(present, text.isin(anomalous).fillna(False).to_numpy(dtype=bool).astype(np.float64), np.nan)
    if distinct <= _FLAG_WORDS:
        return flags, None
    # the note quotes the values as written in the file, not lower-cased
    written = dict(zip(text[present], column[present].astype(str).str.strip(), strict=True))
    quoted = lambda values: ", ".join(repr(written[v]) for v in sorted(values))  # noqa: E731
    normal = distinct - anomalous
    return flags, (f"text labels: {quoted(distinct & anomalous)} marks an anomaly (1)"
                   + (f", {quoted(normal)} normal (0)" if normal else ""))


def _two_valued_text(column: pd.Series) -> list[str] | None:
    if is_numeric_column(column):
        return None
    distinct = column.dropna().astype(str).str.strip().unique()
    distinct = [v for v in distinct if v]
    return distinct if len(distinct) == 2 else None


def _label_error(table: Table, column: str) -> DataError:
    values = table.frame[column]
    pair = _two_valued_text(values)
    if pair:
        return DataError(f"'{table.name}' label column '{column}' holds two text values, {pair[0]!r} and {pair[1]!r}, "
                         "and it is not clear which one marks an anomaly: set anomaly_value to that one "
                         "(--anomaly-value), or set label_column to None")
    text = values.astype("string").str.strip().str.lower()
    good = text.isin(_FLAG_WORDS).fillna(False) | values.isna()
    bad = int(np.flatnonzero(~good.to_numpy())[0])
    return DataError(f"'{table.name}' label column '{column}' must hold anomaly flags 0/1 or true/false, but line "
                     f"{table.line_of(bad)} has {str(values.iloc[bad])!r}: fix it, or set label_column to None")


def _numbers(column: pd.Series) -> np.ndarray | None:
    if not is_numeric_column(column):
        return None
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def _looks_like_dates(column: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(column):
        return True
    if is_numeric_column(column):
        return False
    sample = column.dropna().astype(str).str.strip().head(20)
    if len(sample) == 0 or not sample.str.contains(r"\d{1,4}[-/.:]\d{1,2}", regex=True).all():
        return False
    return bool(pd.to_datetime(sample, errors="coerce", format="mixed", utc=True).notna().all())


def _time_kind(name: str, column: pd.Series) -> tuple[int, str] | None:
    """(preference, reason) when a column is a time axis: named timestamps, dates, increasing axes, row indices."""
    normal = _normal(name)
    if normal in _TIME_NAMES or normal.startswith("timestamp"):
        return 0, "named like a time column"
    if _looks_like_dates(column):
        return 1, "holds dates and times"
    values = _numbers(column)
    if values is None or len(values) < 2 or not np.isfinite(values).all():
        return None
    steps = np.diff(values)
    if (normal in _AXIS_NAMES or normal.startswith("time")) and (steps >= 0).all():
        return 2, "a time or step axis (named so, never decreasing)"
    if normal in _PANDAS_INDEX and np.array_equal(values, np.arange(len(values))):
        return 3, "a row index saved by pandas (0, 1, 2, ...)"
    integral = (values == np.round(values)).all()
    if integral and (steps > 0).all() and (steps == steps[0]).all():
        return 4, f"counts up by {steps[0]:g} every row: an index, not a measurement"
    return None


class _Assigner:
    """Decides each column's role, in this order: ignored by request, labels, time axis, channels."""

    def __init__(self, table: Table, opts: SensorOptions) -> None:
        self.table, self.opts, self.frame = table, opts, table.frame
        self.roles: dict[str, tuple[str, str]] = {}
        self.notes: list[str] = list(table.notes)

    def _columns_text(self) -> str:
        return ", ".join(map(str, self.frame.columns))

    def _require(self, column: str, what: str) -> None:
        if column not in self.frame.columns:
            raise DataError(f"'{self.table.name}' has no {what} column '{column}'; "
                            f"its columns are: {self._columns_text()}")

    def _open(self, column: str) -> bool:
        return column not in self.roles

    def ignore_requested(self) -> None:
        for column in self.opts.ignore_columns:
            if column not in self.frame.columns:
                raise DataError(f"ignore_columns names '{column}', which is not a column of '{self.table.name}'; "
                                f"its columns are: {self._columns_text()}")
            self.roles[column] = ("ignored", "listed in ignore_columns")

    def labels(self) -> tuple[str | None, np.ndarray | None]:
        wanted = self.opts.label_column
        if wanted not in (None, "auto"):
            self._require(wanted, "label")
            parsed = anomaly_flags(self.frame[wanted], self.opts.anomaly_value)
            if parsed is None:
                raise _label_error(self.table, wanted)
            self.roles[wanted] = ("label", "chosen as the anomaly label column")
        found = self._label_like()
        if wanted == "auto":
            wanted = min((c for c in found if not _changepoint(c)), key=_label_rank, default=None)
            if wanted is not None:
                parsed = found.pop(wanted)
                self.roles[wanted] = ("label", "a 0/1 column named like an anomaly label")
        if found:
            self.notes.append(f"label-like column(s) kept out of the channels: {', '.join(map(repr, found))}")
        if wanted is None:
            return None, None
        if parsed[1]:
            self.notes.append(f"label column '{wanted}' holds {parsed[1]}")
        return wanted, parsed[0]

    def _parse_label(self, column: str) -> tuple[np.ndarray, str | None] | None:
        parsed = anomaly_flags(self.frame[column])
        if parsed is None and self.opts.anomaly_value is not None:
            parsed = anomaly_flags(self.frame[column], self.opts.anomaly_value)
        return parsed

    def _label_like(self) -> dict[str, tuple[np.ndarray, str | None]]:
        """Every label-like column (0/1 named like a label, or normal/anomaly words): an extra label for now."""
        found = {}
        for column in filter(self._open, self.frame.columns):
            parsed = self._parse_label(column)
            worded = parsed is not None and parsed[1] is not None and _two_valued_text(self.frame[column]) is not None
            if parsed is not None and (label_named(column) or worded) and np.isfinite(parsed[0]).any():
                found[column] = parsed
                self.roles[column] = ("extra_label", "a label-like column (0/1 or normal/anomaly), kept out of the "
                                      "channels; choose it as the label column to score against it")
            elif _normal(column) in _LABEL_NAMES:
                self.roles[column] = ("ignored", "named like a label, but holds values other than 0/1 or true/false")
                self.notes.append(f"column '{column}' holds values other than 0/1 or true/false, so it is not used "
                                  "as anomaly flags (and not as a channel)")
        return found

    def time(self) -> str | None:
        """The time axis; other time-like columns (a second clock, a row index) are ignored, never channels."""
        wanted = self.opts.time_column
        if wanted not in (None, "auto"):
            self._require(wanted, "time")
            self.roles[wanted] = ("time", "chosen as the time column")
        kinds = {c: k for c in self.frame.columns if self._open(c) and (k := _time_kind(c, self.frame[c]))}
        if wanted == "auto":
            wanted = min(kinds, key=lambda c: kinds[c][0], default=None)
            if wanted is not None:
                self.roles[wanted] = ("time", kinds.pop(wanted)[1])
                self.notes.append(f"time column '{wanted}': {self.roles[wanted][1]}")
        for column, (_, reason) in kinds.items():
            axis = f"'{wanted}' is the time axis" if wanted else "no time column is used"
            self.roles[column] = ("ignored", f"{reason}; {axis}")
            self.notes.append(f"column '{column}' is {reason}, so it is not a channel ({axis})")
        return wanted

    def chosen_channels(self, channels: tuple[str, ...]) -> None:
        for channel in channels:
            if channel not in self.frame.columns:
                raise DataError(f"'{self.table.name}' has no column '{channel}'; choose channels among: "
                                f"{self._columns_text()}")
            role = self.roles.get(channel, ("", ""))[0]
            if role in ("label", "time"):
                raise DataError(f"'{channel}' is the {role} column and cannot also be a channel: "
                                "remove it from channels")
            bad = None if is_numeric_column(self.frame[channel]) else first_bad_cell(self.frame[channel])
            if bad:
                raise DataError(f"channel '{channel}' is not numeric: "
                                f"line {self.table.line_of(bad[0])} has {bad[1]!r}; "
                                "choose columns of numbers as channels")
            if role:
                self.notes.append(f"'{channel}' would be left out ({self.roles[channel][1]}) but is used as a "
                                  "channel, as asked")
            self.roles[channel] = ("channel", "chosen in channels")
        for column in filter(self._open, self.frame.columns):
            self.roles[column] = ("ignored", "not among the chosen channels")

    def default_channels(self) -> tuple[str, ...]:
        skipped: dict[str, list[str]] = {"non-numeric": [], "empty": [], "constant": []}
        for column in filter(self._open, self.frame.columns):
            values = self.frame[column]
            if not is_numeric_column(values):
                check_mostly_numbers(self.table, column)
                kind, reason = "non-numeric", "not numeric"
            elif values.isna().all():
                kind, reason = "empty", "empty"
            elif values.min() == values.max():  # one distinct value (it has one); nunique hashes every cell
                value = values.dropna().iloc[0]
                kind, reason = "constant", f"constant (always {value:g})" if is_numeric_column(values) else "constant"
            else:
                self.roles[column] = ("channel", "numbers that change")
                continue
            skipped[kind].append(column)
            self.roles[column] = ("ignored", reason)
        for kind, columns in skipped.items():
            if columns:
                self.notes.append(f"skipped {kind} column(s): {', '.join(map(repr, columns))}")
        return tuple(c for c in self.frame.columns if self.roles[c][0] == "channel")

    def ordered_roles(self) -> tuple[ColumnRole, ...]:
        return tuple(ColumnRole(str(c), *self.roles[c]) for c in self.frame.columns)


def _no_channel_error(table: Table, roles: tuple[ColumnRole, ...]) -> DataError:
    why = "; ".join(f"'{r.column}': {r.role.replace('_', ' ')} ({r.reason})" for r in roles[:8])
    return DataError(f"'{table.name}' has no numeric column to use as a channel ({why}): a sensor CSV needs at least "
                     "one column of numbers that change over time")


def assign_columns(table: Table, opts: SensorOptions) -> Columns:
    """Each column's role, the channels (C,), time and label columns and the label's flags (L,)."""
    assigner = _Assigner(table, opts)
    assigner.ignore_requested()
    label, flags = assigner.labels()
    time_column = assigner.time()
    if opts.channels:
        assigner.chosen_channels(opts.channels)
        channels = opts.channels
    else:
        channels = assigner.default_channels()
    roles = assigner.ordered_roles()
    if not channels:
        raise _no_channel_error(table, roles)
    return Columns(roles, tuple(channels), time_column, label, flags, assigner.notes)


def column_roles(table: Table, opts: SensorOptions) -> tuple[ColumnRole, ...]:
    """Every column's role (channel | time | label | extra_label | ignored) with its reason, in file order."""
    return assign_columns(table, opts).roles


def options_for_roles(base: SensorOptions, roles: Mapping[str, str]) -> SensorOptions:
    """`base` with the columns, time axis and label that a role per column asks for (column -> channel | time |
    label | extra_label | ignored, as column_roles gives them and a user edits them); DataError when they clash."""
    chosen = {role: [str(c) for c, r in roles.items() if r == role] for role in ROLES}
    unknown = sorted({r for r in roles.values() if r not in ROLES})
    if unknown:
        raise DataError(f"unknown column role(s) {', '.join(map(repr, unknown))}: use {', '.join(ROLES)}")
    for role, what in (("time", "the time axis"), ("label", "the anomaly label")):
        if len(chosen[role]) > 1:
            raise DataError(f"only one column can be {what}, but {len(chosen[role])} are: "
                            f"{', '.join(map(repr, chosen[role]))}; make the others channels or ignore them")
    if not chosen["channel"]:
        raise DataError("no column is a channel: the model needs at least one column of measurements")
    return replace(base, channels=tuple(chosen["channel"]), time_column=(chosen["time"] or [None])[0],
                   label_column=(chosen["label"] or [None])[0], ignore_columns=())
