"""Column roles in sensor recordings (issue 12 item 1) and training on normal behaviour (item 2)."""
from __future__ import annotations

import re

import numpy as np
import pytest
from sensor_filemakers import N, index_and_empty_csv, pandas_index_csv, signal, text_labels_csv, xlsx_bytes

from vae_core import data as D
from vae_core.advice import short_recording_advice
from vae_core.data import SensorOptions
from vae_core.dataset import DataError
from vae_core.formats.sensor_columns import label_named


def csv_bytes(columns: dict) -> bytes:
    names = list(columns)
    return ("\n".join([",".join(names)] + [",".join(map(str, r)) for r in zip(*columns.values(), strict=True)])
            + "\n").encode()


def roles(blob: bytes, name: str = "rec.csv", **options) -> dict[str, tuple[str, str]]:
    return {r.column: (r.role, r.reason) for r in D.sensor_column_roles(blob, name, SensorOptions(**options))}


def load(blob: bytes, **options) -> D.Dataset:
    return D.load_upload([("rec.csv", blob)], SensorOptions(**{"window": 16, "stride": 4} | options))


def valve_recording(n: int = N) -> dict:
    """The issue's valve layout: sensors, then two 0/1 label columns, anomaly and changepoint."""
    s = signal(n)
    changepoint = np.zeros(n, dtype=int)
    changepoint[[60, 180]] = 1
    return {"datetime": [f"2020-03-09 10:{i // 60:02d}:{i % 60:02d}" for i in range(n)], "Accelerometer1RMS": s["temp"],
            "Pressure": s["pressure"], "anomaly": s["anomaly"], "changepoint": changepoint}


@pytest.mark.parametrize(("name", "expected"), [
    ("anomaly", True), ("is_anomaly", True), ("isAnomaly", True), ("Label", True), ("changepoint", True),
    ("change_point", True), ("fault", True), ("attack", True), ("target", True), ("valve1_fault", True),
    ("temp", False), ("fault_current", True), ("pressure_target", False), ("labelled_temp", False),
])
def test_label_names(name, expected):
    assert label_named(name) is expected


def test_the_valve_layout_keeps_both_labels_and_the_time_out_of_the_channels():
    blob = csv_bytes(valve_recording())
    found = roles(blob)
    assert found["datetime"][0] == "time" and found["anomaly"][0] == "label"
    assert found["changepoint"][0] == "extra_label"
    assert [c for c, (role, _) in found.items() if role == "channel"] == ["Accelerometer1RMS", "Pressure"]
    ds = load(blob)
    assert ds.channels == ("Accelerometer1RMS", "Pressure") and ds.x.shape[2] == 2
    # the label never reaches the model: no input channel equals the anomaly flags, scaled or not
    for c in range(ds.series.shape[1]):
        assert abs(np.corrcoef(ds.series[:, c], ds.series_anomaly)[0, 1]) < 0.5


def test_a_binary_channel_with_a_sensor_name_stays_a_channel():
    cols = valve_recording() | {"valve_open": (np.arange(N) // 30) % 2}
    assert roles(csv_bytes(cols))["valve_open"] == ("channel", "numbers that change")


def test_index_empty_and_constant_columns_are_not_channels():
    found = roles(index_and_empty_csv())
    assert found["step"][0] == "time" and found["broken"] == ("ignored", "empty")
    assert found["site_id"] == ("ignored", "constant (always 7)")
    ds = load(index_and_empty_csv())
    assert ds.channels == ("temp", "pressure")
    assert "skipped empty column(s): 'broken'" in ds.notes and "skipped constant column(s): 'site_id'" in ds.notes


def test_a_counting_column_with_another_time_axis_is_ignored_with_its_reason():
    cols = {"timestamp": np.arange(N) * 10, "sample_no": np.arange(N) + 1000, "a": signal()["temp"]}
    found = roles(csv_bytes(cols))
    assert found["timestamp"][0] == "time"
    assert found["sample_no"] == ("ignored", "counts up by 1 every row: an index, not a measurement; 'timestamp' is "
                                             "the time axis")


def test_roles_follow_the_options_so_the_page_can_change_them():
    blob = pandas_index_csv()
    found = roles(blob, label_column="changepoint", ignore_columns=("pressure",))
    assert found["changepoint"][0] == "label" and found["anomaly"][0] == "extra_label"
    assert found["pressure"] == ("ignored", "listed in ignore_columns")
    chosen = roles(blob, channels=("temp", "changepoint"), label_column="anomaly")
    assert chosen["changepoint"] == ("channel", "chosen in channels") and chosen["pressure"][0] == "ignored"
    ds = load(blob, channels=("temp", "changepoint"))
    assert ds.channels == ("temp", "changepoint")
    assert any("'changepoint' would be left out" in n and "used as a channel, as asked" in n for n in ds.notes)


def test_roles_of_a_workbook_and_of_text_labels():
    assert roles(xlsx_bytes(), "plant.xlsx")["when"] == ("time", "holds dates and times")
    assert roles(text_labels_csv())["state"][0] == "label"


@pytest.mark.parametrize(("options", "message"), [
    ({"label_column": "temp"}, r"label column 'temp' must hold anomaly flags 0/1 or true/false, but line 2 has '20.0'"),
    ({"ignore_columns": ("nope",)}, r"ignore_columns names 'nope', which is not a column of 'rec.csv'"),
    ({"channels": ("anomaly",)}, r"'anomaly' is the label column and cannot also be a channel"),
    ({"train_range": (0, 5000)}, r"train_range \(0, 5000\) ends past the recording, which has 300 time steps"),
    ({"train_range": (0, 15)}, r"train_range \(0, 15\) leaves 11 training time steps .* fewer than one window of 16"),
])
def test_column_and_range_errors(options, message):
    with pytest.raises(DataError, match=message):
        load(csv_bytes(signal()), **options)


def test_no_channel_left_says_what_each_column_is():
    cols = {"time": np.arange(N), "anomaly": signal()["anomaly"], "flat": np.full(N, 2.5)}
    with pytest.raises(DataError, match=r"has no numeric column to use as a channel \('time': time .*'anomaly': label "
                                        r".*'flat': ignored \(constant \(always 2.5\)\)"):
        load(csv_bytes(cols))


def labelled_in_train(n: int = 400) -> dict:
    s = signal(n)
    labels = np.zeros(n, dtype=int)
    labels[100:110] = 1  # inside the train part (steps 0-239)
    labels[340:345] = 1  # inside the test part (steps 320-399)
    return {"t": np.arange(n), "temp": s["temp"], "pressure": s["pressure"], "anomaly": labels}


def test_train_and_val_windows_that_overlap_an_anomaly_are_left_out():
    blob = csv_bytes(labelled_in_train())
    kept, allowed = load(blob), load(blob, exclude_anomalies=False)
    overlap = [(s, p) for s, p in zip(allowed.window_starts, allowed.split, strict=True)
               if p == 0 and s + 16 > 100 and s < 110]
    assert len(overlap) == 6  # starts 88, 92, ..., 108
    assert not ((kept.y == 1) & (kept.split < 2)).any() and ((allowed.y == 1) & (allowed.split == 0)).sum() == 6
    assert len(kept.x) == len(allowed.x) - 6 and (kept.y[kept.split == 2] == 1).any()  # test windows stay
    assert "left out 6 train and 0 val windows that overlap a labelled anomaly, so the model learns normal behaviour " \
           "only (exclude_anomalies=False keeps them)" in kept.notes
    assert "scaling fitted on the 230 train steps not labelled anomalous" in kept.notes


def test_a_train_range_picks_normal_behaviour_and_the_rest_is_test():
    ds = load(csv_bytes(labelled_in_train()), train_range=(120, 280))
    assert ds.part_ranges == ((2, 0, 120), (0, 120, 240), (1, 240, 280), (2, 280, 400))
    parts = ds.step_parts()
    assert parts[:120].tolist() == [2] * 120 and parts[200] == 0 and parts[250] == 1 and parts[390] == 2
    assert ds.split_starts == (240, 280)
    assert "train_range (120, 280): train steps 120-239, val 240-279, test 0-119 and 280-399" in ds.notes
    assert set(ds.split[ds.y == 1]) == {2}  # both labelled anomalies fall in test stretches


def test_short_recording_advice_gives_numbers():
    ds = D.load_bundled("bleeding", SensorOptions(window=64, stride=8))
    advice = short_recording_advice(ds, epochs=20, batch_size=128)
    assert advice[0] == ("Only 118 training windows (a train part of 1,000 steps cut into windows of 64 steps every "
                         "8): a VAE tends to collapse on fewer than 150.")
    assert advice[1].startswith("A stride of 6 gives 157 training windows")
    assert advice[2].startswith("A window of 32 steps with stride 6 gives 162 training windows")
    assert advice[3].startswith("20 epochs at batch size 128 make 20 weight updates in all (1 per epoch); about 200 "
                                "epochs")  # the ~200 steps the collapse verdict needs before it judges
    bleeding = D.load_bundled("bleeding")
    assert short_recording_advice(bleeding, epochs=30, batch_size=32) == []  # the sensor defaults: 240 updates
    assert "make 40 weight updates in all" in short_recording_advice(bleeding, epochs=20, batch_size=128)[0]
    assert short_recording_advice(D.load_bundled("mnist"), epochs=1, batch_size=128) == []


def test_sensor_options_survive_a_json_round_trip_as_saved_runs_store_them():
    import json
    from dataclasses import asdict

    opts = SensorOptions(channels=("a",), ignore_columns=("changepoint",), train_range=(0, 1000), decimal=",",
                         duplicates="first", anomaly_value="fault", exclude_anomalies=False)
    assert SensorOptions(**json.loads(json.dumps(asdict(opts)))) == opts


@pytest.mark.parametrize(("options", "message"), [
    ({"duplicates": "sum"}, r"duplicates must be one of mean, first, error, not 'sum'"),
    ({"decimal": ";"}, r"decimal must be one of 'auto', '.', ',', not ';'"),
    ({"train_range": (10, 5)}, r"train_range must be two whole time steps \(first, stop\) with 0 <= first < stop"),
    ({"train_range": 100}, r"train_range must be two whole time steps"),
    ({"ignore_columns": ("a", "a")}, r"ignore_columns lists a column twice"),
    ({"exclude_anomalies": "yes"}, r"exclude_anomalies must be True or False"),
    ({"anomaly_value": ""}, r"anomaly_value must be the text that marks an anomaly"),
])
def test_new_sensor_options_are_validated(options, message):
    with pytest.raises(DataError, match=message):
        SensorOptions(**options)


def test_roles_chosen_in_a_table_become_options_and_the_loader_gives_them_back():
    wanted = {"Unnamed: 0": "time", "temp": "channel", "pressure": "ignored", "anomaly": "extra_label",
              "changepoint": "label"}
    opts = D.options_for_roles(SensorOptions(window=16, stride=4), wanted)
    assert (opts.channels, opts.time_column, opts.label_column, opts.window) == (("temp",), "Unnamed: 0",
                                                                                   "changepoint", 16)
    data = D.load_upload([("valves.csv", pandas_index_csv())], opts)
    assert data.channels == ("temp",) and int(data.series_anomaly.sum()) == 2  # scored against the changepoints
    back = {r.column: r.role for r in D.sensor_column_roles(pandas_index_csv(), "valves.csv", opts)}
    assert back == wanted


@pytest.mark.parametrize(("roles", "message"), [
    ({"a": "time", "b": "time", "c": "channel"}, "only one column can be the time axis, but 2 are: 'a', 'b'"),
    ({"a": "label", "b": "label", "c": "channel"}, "only one column can be the anomaly label, but 2 are"),
    ({"a": "ignored", "b": "time"}, "no column is a channel"),
    ({"a": "channel", "b": "sensor"}, "unknown column role(s) 'sensor'"),
])
def test_roles_that_clash_are_refused_with_a_sentence(roles, message):
    with pytest.raises(DataError, match=re.escape(message)):
        D.options_for_roles(SensorOptions(), roles)
