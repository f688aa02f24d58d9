"""SensorOptions: how a sensor recording (rows = time steps) becomes windows, validated on creation."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..dataset import DataError
from ..settings import check_declared, setting
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


def _column_list(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip())


def _steps(text: str) -> tuple[int, int]:
    first, _, stop = text.partition(":")
    try:
        return int(first), int(stop)
    except ValueError:
        raise DataError(f"train_range must be FIRST:STOP in time steps, like 0:1000, not {text!r}") from None


def _optional_column(text: str) -> str | None:
    return None if text.lower() in ("none", "") else text


@dataclass(frozen=True)
class SensorOptions:
    """How a sensor recording (L time steps, C channels) becomes windows (N, window, C); every field declared
    (vae_core.settings): the CLI's data flags and their help come from here."""

    TARGET: ClassVar[str] = "data"

    channels: tuple[str, ...] | None = setting(
        None, kind=tuple, optional=True, read=_column_list, metavar="COLUMNS",
        default_words="every numeric column that is not the time, a label, constant or empty",
        help="Columns fed to the model, comma separated.")
    time_column: str | None = setting(
        "auto", optional=True, read=_optional_column, metavar="COLUMN",
        help="The time axis: 'auto' finds a timestamp or an increasing t/time/step/index column; 'none' for no "
             "time column. Never a channel.")
    label_column: str | None = setting(
        "auto", optional=True, read=_optional_column, metavar="COLUMN",
        help="0/1 (or two-word) anomaly labels: 'auto' finds a column named is_anomaly, anomaly, label, fault, "
             "...; 'none' for an unlabelled recording. Never a channel.")
    ignore_columns: tuple[str, ...] = setting(
        (), kind=tuple, read=_column_list, metavar="COLUMNS", default_words="none",
        help="Columns never fed to the model, comma separated: a second label (changepoint) or an ID column.")
    anomaly_value: str | None = setting(
        None, optional=True, kind=str, metavar="TEXT", default_words="known words such as anomaly, fault, attack",
        help="Text labels with two values: the one that marks an anomaly.")
    window: int = setting(64, low=2, high=100_000, unit="time steps", help="Time steps per window.")
    stride: int = setting(
        8, low=1, high=100_000, unit="time steps", default_words="8; the bundled recordings have their own",
        help="Steps between the starts of two windows (smaller than the window: they overlap).")
    scaling: str = setting(
        "zscore", choices=SCALINGS,
        help="Per-channel scaling, fitted on the training part only: z-score, min-max to [0, 1], or none.")
    nan: str = setting(
        "interpolate", choices=NAN_POLICIES,
        help="Missing values: interpolate (linear, edges nearest), drop the rows, or refuse the file.")
    duplicates: str = setting(
        "mean", choices=DUPLICATE_POLICIES,
        help="Rows sharing a timestamp: averaged, the first kept, or the file refused.")
    decimal: str = setting(
        "auto", choices=DECIMALS,
        help="The decimal mark: auto (a ',' is detected in ;-separated files), '.' or ','.")
    train_frac: float = setting(0.6, help="The first share of the time steps that trains the model (e.g. 0.6).")
    val_frac: float = setting(0.2, help="The next share that validates it (e.g. 0.2); the rest is the test part.")
    train_range: tuple[int, int] | None = setting(
        None, kind=tuple, optional=True, read=_steps, metavar="FIRST:STOP", check=lambda v: None,
        default_words="none: the first shares of the recording",
        help="Time steps of normal behaviour to learn from instead of the first share (its end validates); "
             "every other step is tested.")
    exclude_anomalies: bool = setting(
        True, help="Leave out training and validation windows that overlap a labelled anomaly (learn normal "
                   "behaviour only).")

    def __post_init__(self) -> None:
        if self.channels is not None:
            object.__setattr__(self, "channels", _names(self.channels, "channels", allow_empty=False))
        object.__setattr__(self, "ignore_columns",
                           _names(self.ignore_columns or (), "ignore_columns", allow_empty=True))
        _optional_name(self.time_column, "time_column")
        _optional_name(self.label_column, "label_column")
        check(self.anomaly_value is None or (isinstance(self.anomaly_value, str) and self.anomaly_value.strip()),
              f"anomaly_value must be the text that marks an anomaly in the label column, or None, "
              f"not {self.anomaly_value!r}")
        if isinstance(self.exclude_anomalies, np.bool_):
            object.__setattr__(self, "exclude_anomalies", bool(self.exclude_anomalies))
        self._check_fractions()  # the shares first: they must also add up
        check_declared(self, DataError)
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
              f"train_frac + val_frac must be at most 1 (the rest is the test part), "
              f"not {self.train_frac + self.val_frac:g}")

    def _check_train_range(self) -> None:
        given = self.train_range
        ok = isinstance(given, (tuple, list)) and len(given) == 2 and all(_whole(v) for v in given)
        check(ok and 0 <= given[0] < given[1],
              f"train_range must be two whole time steps (first, stop) with 0 <= first < stop, e.g. (0, 1000), "
              f"not {given!r}")
        object.__setattr__(self, "train_range", (int(given[0]), int(given[1])))

    @property
    def val_share(self) -> float:
        """The share of a train_range that validates (its end): val_frac / (train_frac + val_frac)."""
        return self.val_frac / (self.train_frac + self.val_frac)
