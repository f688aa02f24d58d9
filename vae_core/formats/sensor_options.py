"""SensorOptions: how a sensor recording (rows = time steps) becomes windows, validated on creation."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dataset import DataError
from .csv_table import DECIMALS

SCALINGS = ("zscore", "minmax", "none")
NAN_POLICIES = ("interpolate", "drop", "error")
DUPLICATE_POLICIES = ("mean", "first", "error")


def check(ok: bool, message: str) -> None:
    if not ok:
        raise DataError(message)


def _optional_name(value, what: str) -> None:
    check(value is None or (isinstance(value, str) and value.strip() != ""),
          f"{what} must be a column name, 'auto' or None, not {value!r}")


def _names(value, what: str, allow_empty: bool) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else tuple(value)
    check((allow_empty or len(names) > 0) and all(isinstance(c, str) and c.strip() for c in names),
          f"{what} must be a list of column names{'' if allow_empty else ' (or None for every numeric column)'}, "
          f"not {value!r}")
    check(len(set(names)) == len(names), f"{what} lists a column twice: {list(names)}")
    return names


def _whole(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


@dataclass(frozen=True)
class SensorOptions:
    """How a sensor recording (L time steps, C channels) becomes windows (N, window, C)."""

    channels: tuple[str, ...] | None = None  # None = every numeric column that is not time, label, constant or empty
    time_column: str | None = "auto"  # "auto": a timestamp, or an increasing t/time/step/index column; None = none
    label_column: str | None = "auto"  # "auto": a 0/1 column named is_anomaly/anomaly/label/fault/...; None = unlabelled
    ignore_columns: tuple[str, ...] = ()  # never channels, e.g. a second label ('changepoint') or an ID column
    anomaly_value: str | None = None  # two-valued text labels: the value that marks an anomaly (None: known words)
    window: int = 64  # time steps per window
    stride: int = 8  # steps between the starts of two windows (stride < window: they overlap)
    scaling: str = "zscore"  # zscore | minmax | none, fitted on the train part only
    nan: str = "interpolate"  # missing values: interpolate (linear, edges: nearest) | drop (rows) | error
    duplicates: str = "mean"  # rows sharing a timestamp: mean (averaged) | first (kept) | error (refused)
    decimal: str = "auto"  # the decimal mark: auto (a ',' is detected in ;-separated files) | . | ,
    train_frac: float = 0.6  # first 60 % of the time steps train the model
    val_frac: float = 0.2  # the next 20 % validate it; the rest is the test part
    train_range: tuple[int, int] | None = None  # (first, stop) steps of normal behaviour to learn from instead
    exclude_anomalies: bool = True  # train/val windows that overlap a labelled anomaly are left out

    def __post_init__(self) -> None:
        if self.channels is not None:
            object.__setattr__(self, "channels", _names(self.channels, "channels", allow_empty=False))
        object.__setattr__(self, "ignore_columns", _names(self.ignore_columns or (), "ignore_columns", allow_empty=True))
        _optional_name(self.time_column, "time_column")
        _optional_name(self.label_column, "label_column")
        check(self.anomaly_value is None or (isinstance(self.anomaly_value, str) and self.anomaly_value.strip()),
              f"anomaly_value must be the text that marks an anomaly in the label column, or None, not {self.anomaly_value!r}")
        check(_whole(self.window) and 2 <= self.window <= 100_000,
              f"window must be a whole number of time steps from 2 to 100000, not {self.window!r}")
        check(_whole(self.stride) and 1 <= self.stride <= 100_000,
              f"stride must be a whole number of time steps from 1 to 100000, not {self.stride!r}")
        check(self.scaling in SCALINGS, f"scaling must be one of {', '.join(SCALINGS)}, not {self.scaling!r}")
        check(self.nan in NAN_POLICIES, f"nan must be one of {', '.join(NAN_POLICIES)}, not {self.nan!r}")
        check(self.duplicates in DUPLICATE_POLICIES,
              f"duplicates must be one of {', '.join(DUPLICATE_POLICIES)}, not {self.duplicates!r}")
        check(self.decimal in DECIMALS, f"decimal must be one of {', '.join(map(repr, DECIMALS))}, not {self.decimal!r}")
        check(isinstance(self.exclude_anomalies, (bool, np.bool_)),
              f"exclude_anomalies must be True or False, not {self.exclude_anomalies!r}")
        self._check_fractions()
        if self.train_range is not None:
            self._check_train_range()

    def _check_fractions(self) -> None:
        for name in ("train_frac", "val_frac"):
            value = getattr(self, name)
            check(isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool),
                  f"{name} must be a number between 0 and 1, not {value!r}")
        check(0 < self.train_frac < 1, f"train_frac must be between 0 and 1 (e.g. 0.6), not {self.train_frac!r}")
        check(0 <= self.val_frac < 1, f"val_frac must be between 0 and 1 (e.g. 0.2), not {self.val_frac!r}")
        check(self.train_frac + self.val_frac <= 1,
              f"train_frac + val_frac must be at most 1 (the rest is the test part), not {self.train_frac + self.val_frac:g}")

    def _check_train_range(self) -> None:
        given = self.train_range
        ok = isinstance(given, (tuple, list)) and len(given) == 2 and all(_whole(v) for v in given)
        check(ok and 0 <= given[0] < given[1],
              f"train_range must be two whole time steps (first, stop) with 0 <= first < stop, e.g. (0, 1000), not {given!r}")
        object.__setattr__(self, "train_range", (int(given[0]), int(given[1])))

    @property
    def val_share(self) -> float:
        """The share of a train_range that validates (its end): val_frac / (train_frac + val_frac)."""
        return self.val_frac / (self.train_frac + self.val_frac)
