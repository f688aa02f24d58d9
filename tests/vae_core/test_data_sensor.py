"""Sensor CSVs on real bytes: windows, time-ordered split, train-only scaling, NaN policies, sniffing, errors."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from vae_core import data as D
from vae_core.data import SensorOptions
from vae_core.dataset import DataError
from vae_core.formats import common

L = 400


def recording(length: int = L, seed: int = 0) -> dict[str, np.ndarray]:
    """A two-channel recording with a drift (so train and test statistics differ) and one anomaly."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    flags = np.zeros(length, int)
    flags[350:355] = 1
    return {"timestamp": t, "a": np.sin(t / 7) + rng.normal(0, 0.1, length) + t / 100,
            "b": 50 + 10 * np.cos(t / 11), "is_anomaly": flags}


def csv_bytes(columns: dict[str, object]) -> bytes:
    names = list(columns)
    rows = zip(*(columns[n] for n in names), strict=True)
    return ("\n".join([",".join(names)] + [",".join(map(str, row)) for row in rows]) + "\n").encode()


def load(columns, **options) -> D.Dataset:
    return D.load_upload([("rec.csv", csv_bytes(columns))], SensorOptions(**options))


def test_windows_split_labels_and_series():
    cols = recording()
    ds = load(cols, window=20, stride=5)
    assert ds.kind == "sensor" and ds.channels == ("a", "b") and ds.name == "rec.csv"
    assert ds.split_starts == (240, 320) and ds.series.shape == (L, 2)
    raw = np.column_stack([cols["a"], cols["b"]])
    np.testing.assert_allclose(ds.scaling.undo(ds.series), raw, rtol=1e-5, atol=1e-4)
    for i, start in enumerate(ds.window_starts):  # every window is its slice of the scaled series
        np.testing.assert_array_equal(ds.x[i], ds.series[start:start + 20])
    # Each window lies inside one part: never straddles a boundary.
    bounds = (0, *ds.split_starts, L)
    for part in range(3):
        starts = ds.window_starts[ds.split == part]
        assert (starts >= bounds[part]).all() and (starts + 20 <= bounds[part + 1]).all()
    assert np.bincount(ds.split).tolist() == [45, 13, 13]
    assert ds.label_kind == "anomaly" and ds.series_anomaly.sum() == 5
    expected_y = [int(cols["is_anomaly"][s:s + 20].any()) for s in ds.window_starts]
    assert ds.y.tolist() == expected_y and set(ds.split[ds.y == 1]) == {2}


def test_zscore_is_fitted_on_the_train_part_only():
    ds = load(recording(), window=20, stride=5)
    train, test = ds.series[:240], ds.series[320:]
    np.testing.assert_allclose(train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(train.std(axis=0), 1, atol=1e-4)
    assert abs(test[:, 0].mean()) > 1  # channel a drifts upwards after the train part
    assert any("fitted on the train part only" in note for note in ds.notes)


def test_minmax_none_and_constant_channel():
    cols = recording() | {"flat": np.full(L, 3.0)}
    ds = load(cols, window=20, stride=5, scaling="minmax", channels=("a", "flat"))
    np.testing.assert_allclose(ds.series[:240, 0].min(), 0, atol=1e-6)
    np.testing.assert_allclose(ds.series[:240, 0].max(), 1, atol=1e-6)
    assert ds.scaling.scale[1] == 1 and any("'flat' is constant in the train part" in n for n in ds.notes)
    raw = load(recording(), window=20, scaling="none")
    np.testing.assert_allclose(raw.series[:, 1], recording()["b"], rtol=1e-6)


def test_options_default_channels_skip_text_and_time_columns():
    cols = recording() | {"site": ["lab"] * L}
    ds = load(cols, window=20)
    assert ds.channels == ("a", "b") and any("skipped non-numeric column(s): 'site'" in n for n in ds.notes)
    no_time = load(cols, window=20, time_column=None, label_column=None, channels=("timestamp", "a"))
    assert no_time.channels == ("timestamp", "a") and no_time.y is None


def test_true_false_flags_and_out_of_order_time():
    cols = recording()
    cols["is_anomaly"] = np.where(cols["is_anomaly"] == 1, "True", "false")
    assert load(cols, window=20).series_anomaly.sum() == 5
    order = np.r_[10:L, 0:10]
    shuffled = {k: v[order] for k, v in recording().items()}
    ds = load(shuffled, window=20)
    assert any("sorted by time column 'timestamp'" in n for n in ds.notes)
    np.testing.assert_allclose(ds.scaling.undo(ds.series)[:, 1], recording()["b"], rtol=1e-5)


def test_iso_timestamps_and_semicolon_delimiter():
    cols = recording(100)
    cols["timestamp"] = [f"2024-01-01 00:00:{i // 10:02d}.{i % 10}00" for i in range(100)]
    text = csv_bytes(cols).replace(b",", b";")
    ds = D.load_upload([("rec.csv", text)], SensorOptions(window=10))
    assert ds.channels == ("a", "b") and not any("could not be read as times" in n for n in ds.notes)


def with_gaps(policy: str) -> D.Dataset:
    cols = recording()
    a = cols["a"].astype(object)
    a[3], a[7] = "", "nan"
    b = cols["b"].astype(object)
    b[0] = "inf"
    return load(cols | {"a": a, "b": b}, window=20, nan=policy)


def test_nan_interpolate_fills_linearly_and_says_so():
    ds = with_gaps("interpolate")
    assert "filled 2 missing values in 'a' by linear interpolation" in ds.notes
    assert "filled 1 missing value in 'b' by linear interpolation" in ds.notes
    raw = ds.scaling.undo(ds.series)
    a = recording()["a"]
    np.testing.assert_allclose(raw[3, 0], (a[2] + a[4]) / 2, rtol=1e-5)
    np.testing.assert_allclose(raw[0, 1], raw[1, 1], rtol=1e-6)  # an edge takes the nearest value


def test_nan_drop_removes_rows_and_says_which_lines():
    ds = with_gaps("drop")
    assert ds.series.shape == (L - 3, 2)
    assert any(n.startswith("dropped 3 rows with missing values (lines 2, 5, 9)") for n in ds.notes)


def test_nan_error_names_channel_and_line():
    with pytest.raises(DataError, match=r"channel 'a' has 2 missing values \(first on line 5\): fill them in the file, "
                                        r"or set nan to 'interpolate' or 'drop'"):
        with_gaps("error")


@pytest.mark.parametrize(("columns", "options", "message"), [
    (recording(), {"channels": ("c",)}, r"has no column 'c'; choose channels among: timestamp, a, b, is_anomaly"),
    (recording() | {"site": ["x"] * L}, {"channels": ("site",)}, r"channel 'site' is not numeric: line 2 has 'x'"),
    (recording(), {"channels": ("a", "is_anomaly")}, r"'is_anomaly' is the label column and cannot also be a channel"),
    (recording(), {"time_column": "clock"},
     r"has no time column 'clock'; its columns are: timestamp, a, b, is_anomaly"),
    (recording(), {"label_column": "flag"}, r"has no label column 'flag'"),
    (recording(50), {"window": 64}, r"has 50 rows, so the train part \(0.6 of them\) has 30 time steps, fewer than "
                                    r"one window of 64: use a smaller window"),
    (recording() | {"a": np.full(L, "")}, {"channels": ("a",)}, r"channel 'a' has no values at all"),
    ({"when": ["x"] * 80, "site": ["y"] * 80}, {}, r"has no numeric column to use as a channel"),
    (recording() | {"is_anomaly": np.arange(L) % 3}, {"label_column": "is_anomaly"},
     r"label column 'is_anomaly' must hold anomaly flags 0/1 or true/false, but line 4 has '2'"),
    (recording() | {"is_anomaly": [""] + [0] * (L - 1)}, {}, r"line 2 has no anomaly flag: fill the label column"),
])
def test_sensor_errors(columns, options, message):
    with pytest.raises(DataError, match=message):
        load(columns, **{"window": 20} | options)


def test_auto_label_with_class_names_is_not_used_as_flags():
    cols = recording() | {"is_anomaly": ["walk", "run"] * (L // 2)}
    ds = load(cols, window=20)
    assert ds.y is None and ds.channels == ("a", "b")
    assert any("'is_anomaly' holds values other than 0/1" in n for n in ds.notes)


def test_missing_header_and_window_limit(monkeypatch):
    with pytest.raises(DataError, match=r"no header row and its 3 columns are not a label plus a square number"):
        D.load_upload([("rec.csv", b"1,2,3\n4,5,6\n")])
    monkeypatch.setattr(common, "MAX_PIXEL_VALUES", 1000)
    with pytest.raises(DataError, match=r"would give 44 windows \(1,760 values\), more than the limit of 1,000: "
                                        r"use a larger stride"):
        load(recording(), window=20)


@pytest.mark.parametrize(("options", "message"), [
    ({"window": 1}, r"window must be a whole number of time steps from 2"),
    ({"window": 2.5}, r"window must be a whole number"),
    ({"stride": 0}, r"stride must be a whole number of time steps from 1"),
    ({"scaling": "robust"}, r"scaling must be one of zscore, minmax, none, not 'robust'"),
    ({"nan": "zero"}, r"nan must be one of interpolate, drop, error"),
    ({"train_frac": 1.0}, r"train_frac must be between 0 and 1"),
    ({"train_frac": "0.5"}, r"train_frac must be a number between 0 and 1, not '0.5'"),
    ({"val_frac": -0.1}, r"val_frac must be between 0 and 1"),
    ({"train_frac": 0.7, "val_frac": 0.4}, r"train_frac \+ val_frac must be at most 1"),
    ({"channels": ()}, r"channels must be a list of column names"),
    ({"channels": ("a", "a")}, r"channels lists a column twice"),
    ({"time_column": ""}, r"time_column must be a column name, 'auto' or None"),
])
def test_sensor_options_validation(options, message):
    with pytest.raises(DataError, match=message):
        SensorOptions(**options)


def test_sensor_options_accept_a_list_of_channels():
    assert SensorOptions(channels=["a", "b"]).channels == ("a", "b")


def test_sniff_sensor_image_and_gzipped_csv():
    info = D.sniff_csv(csv_bytes(recording() | {"site": ["x"] * L}))
    assert info.columns == ("timestamp", "a", "b", "is_anomaly", "site")
    assert info.numeric == ("timestamp", "a", "b", "is_anomaly")
    assert (info.time_column, info.label_column, info.rows, info.has_header) == ("timestamp", "is_anomaly", L, True)
    assert info.looks_like == "sensor" and info.image_side is None
    pixels = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
    image = D.sniff_csv(gzip.compress((pixels + "\n" + ",".join(["3"] + ["0"] * 784) + "\n").encode()))
    assert (image.looks_like, image.image_side, image.label_column, image.rows) == ("image", 28, "label", 1)
    with pytest.raises(DataError, match=r"is empty"):
        D.sniff_csv(b"")


def test_bleeding_csv_uploaded_like_any_sensor_csv():
    data = (D.SAMPLE_DATA_DIR / "internal_bleeding16.csv.gz").read_bytes()
    ds = D.load_upload([("internal_bleeding16.csv.gz", data)], SensorOptions(window=64, stride=32))
    assert ds.channels == ("value",) and ds.series.shape == (7501, 1) and ds.label_kind == "anomaly"
    assert np.flatnonzero(ds.series_anomaly).tolist() == list(range(4187, 4199))
