"""The Data page's sensor section headless: each column's role and why, edits that reach the loaded data (a label
column never reaches the model), the engine's message for a label that is not 0/1, anomalies kept or left out, a
training range, advice for short recordings before training, and names for class labels."""
from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
from app_session import open_app, workspace
from filemakers import bundled_digits, idx_images, idx_labels
from sensor_filemakers import decimal_comma_csv, duplicated_times_csv, pandas_index_csv

from vae_core.advice import short_recording_advice
from vae_core.data import SensorOptions, load_upload

PAGE = "app_pages/data.py"


def upload(blob: bytes, name: str):
    at = open_app(PAGE)
    at.file_uploader[0].set_value((name, blob, "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def roles(at) -> dict[str, tuple[str, str]]:
    table = at.data_editor[0].value
    return {c: (r, w) for c, r, w in zip(table["column"], table["role"], table["why"], strict=True)}


def edit_roles(at, changes: dict[str, str]):
    """Change roles in the editor (as a visitor's cell edits) and press Reload."""
    editor = at.data_editor[0]
    rows = list(editor.value["column"])
    at.session_state[editor.key] = {"edited_rows": {rows.index(c): {"role": r} for c, r in changes.items()},
                                    "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key=editor.key.replace("_roles", "_reload")).click().run()
    assert not at.exception
    return at


def test_each_column_shows_its_role_and_why_and_labels_never_become_channels():
    at = upload(pandas_index_csv(), "valves.csv")  # an unnamed index, temp, pressure, anomaly, changepoint
    shown = roles(at)
    assert shown["anomaly"][0] == "anomaly label" and "named like an anomaly label" in shown["anomaly"][1]
    assert shown["changepoint"][0] == "other label" and "kept out of the channels" in shown["changepoint"][1]
    assert shown["temp"] == ("channel", "numbers that change") and shown["pressure"][0] == "channel"
    data = workspace(at).data
    assert data.channels == ("temp", "pressure")  # neither label nor the index column is fed to the model
    assert int(data.series_anomaly.sum()) == 10


def test_a_role_edit_reaches_the_loaded_data_and_the_chosen_label_stays_out_of_the_model():
    at = upload(pandas_index_csv(), "valves.csv")
    edit_roles(at, {"changepoint": "anomaly label", "anomaly": "ignored", "pressure": "ignored"})
    ws = workspace(at)
    data = ws.data
    assert data.channels == ("temp",) and data.input_shape == (64, 1)
    want = load_upload([("valves.csv", pandas_index_csv())],
                       SensorOptions(channels=("temp",), label_column="changepoint", time_column="Unnamed: 0"))
    np.testing.assert_array_equal(data.series_anomaly, want.series_anomaly)  # scored against the changepoints now
    np.testing.assert_allclose(data.series, want.series)
    assert ws.data_sensor["label_column"] == "changepoint" and tuple(ws.data_sensor["channels"]) == ("temp",)
    shown = roles(at)  # the table reads the new roles back from the loader
    assert shown["changepoint"][0] == "anomaly label" and shown["pressure"][0] == "ignored"
    assert shown["anomaly"][0] == "other label"


def test_a_label_column_that_is_not_0_1_gets_the_engines_message_and_the_data_stays():
    at = upload(pandas_index_csv(), "valves.csv")
    before = workspace(at).data
    edit_roles(at, {"pressure": "anomaly label", "anomaly": "ignored"})
    errors = " ".join(e.value for e in at.error)
    assert "label column 'pressure' must hold anomaly flags 0/1 or true/false" in errors
    assert workspace(at).data is before


def test_two_time_columns_are_refused_with_a_sentence():
    at = upload(pandas_index_csv(), "valves.csv")
    before = workspace(at).data
    edit_roles(at, {"temp": "time axis"})
    assert any("only one column can be the time axis" in e.value for e in at.error)
    assert workspace(at).data is before


def test_decimal_comma_and_repeated_times_load_and_say_so():
    at = upload(decimal_comma_csv(), "export.csv")
    notes = " ".join(workspace(at).data.notes)
    assert "decimal comma" in notes and workspace(at).data.channels == ("temp", "pressure")
    at = upload(duplicated_times_csv(), "two-sensors.csv")
    assert "averaged" in " ".join(workspace(at).data.notes)
    dup = next(s for s in at.selectbox if s.label == "Rows with the same time")
    dup.set_value("first").run()
    at.button(key="sensor_1_reload").click().run()
    data = workspace(at).data
    assert "reduced to the first row of each time" in " ".join(data.notes) and len(data.series) == 300


def test_anomalies_are_left_out_of_training_by_default_said_on_the_page_and_kept_on_request():
    t = np.arange(1500)
    frame = pd.DataFrame({"t": t, "a": np.sin(t / 9), "b": np.cos(t / 13), "anomaly": ((t >= 200) & (t < 230)) * 1})
    at = upload(frame.to_csv(index=False).encode(), "early-fault.csv")
    assert any("left out by default" in c.value for c in at.caption)
    left_out = workspace(at).data
    assert not (left_out.y[left_out.split == 0]).any()  # no training window holds the fault
    at.toggle(key="sensor_1_keep").set_value(True).run()
    at.button(key="sensor_1_reload").click().run()
    kept = workspace(at).data
    assert kept.y[kept.split == 0].sum() > 0 and len(kept.x) > len(left_out.x)
    at.toggle(key="sensor_2_ranged").set_value(True).run()
    at.number_input(key="sensor_2_first").set_value(300).run()
    at.number_input(key="sensor_2_stop").set_value(900).run()
    at.button(key="sensor_2_reload").click().run()
    ranged = workspace(at).data
    assert ranged.part_ranges == ((2, 0, 300), (0, 300, 750), (1, 750, 900), (2, 900, 1500))  # its last 25 % validates
    assert any("The last 25% of that range validates" in c.value for c in at.caption)


def test_a_short_recording_gets_advice_on_the_data_page_and_in_the_train_pages_checklist_before_training():
    t = np.arange(900)
    blob = pd.DataFrame({"t": t, "a": np.sin(t / 9), "b": np.cos(t / 5)}).to_csv(index=False).encode()
    at = upload(blob, "short.csv")
    on_data = [w.value for w in at.warning if "Before you train" in w.value]
    at.switch_page("app_pages/train.py").run()
    epochs, batch = at.slider(key="set_epochs").value, at.select_slider(key="set_batch_size").value
    want = short_recording_advice(workspace(at).data, epochs, batch)  # the settings the Train button would use
    assert want and "Only 60 training windows" in want[0] and f"{epochs} epochs at batch size {batch}" in want[-1]
    assert len(on_data) == 1 and all(sentence in on_data[0] for sentence in want)
    # the Train page says it once, in its checklist: the windows (with the stride that gives enough) and the steps
    assert not [w for w in at.warning if "Before you train" in w.value]
    found = [m.value for m in at.markdown if "Fix:" in m.value]
    assert any("only 60 training windows" in f.lower() and want[1].rstrip(".") in f for f in found), found
    assert any("optimiser steps" in f for f in found), found
    assert not workspace(at).runs  # said before any training


def test_a_bundled_recording_shows_its_fixed_roles_and_takes_a_training_range():
    at = open_app(PAGE)
    at.get("button_group")[0].set_value("bleeding").run()
    table = next(d for d in at.dataframe if d.editing_mode == "read_only" and "why" in d.value)
    assert dict(zip(table.value["column"], table.value["role"], strict=True)) == {
        "timestamp": "time axis", "value": "channel", "is_anomaly": "anomaly label"}
    assert not at.data_editor  # bundled columns are fixed
    at.toggle(key="sensor_1_ranged").set_value(True).run()
    at.number_input(key="sensor_1_stop").set_value(1200).run()
    at.button(key="sensor_1_reload").click().run()
    ws = workspace(at)
    assert ws.data.part_ranges == ((0, 0, 1000), (1, 1000, 1200), (2, 1200, 7501))
    assert ws.data_source == "bundled:bleeding" and tuple(ws.data_sensor["train_range"]) == (0, 1200)


def test_class_labels_can_be_named_and_a_wrong_count_is_refused():
    images, labels = bundled_digits(100)
    at = open_app(PAGE)
    at.file_uploader[0].set_value([
        ("fashion-images-idx3-ubyte.gz", gzip.compress(idx_images(images)), "application/octet-stream"),
        ("fashion-labels-idx1-ubyte.gz", gzip.compress(idx_labels(labels)), "application/octet-stream")]).run()
    box = at.text_input(key="label_names_1")
    box.set_value("top, trouser").run()
    at.button(key="label_names_1_apply").click().run()
    assert any("has 10 labels (values 0 to 9): give 10 names" in e.value for e in at.error)
    names = "T-shirt, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot"
    at.text_input(key="label_names_1").set_value(names).run()
    at.button(key="label_names_1_apply").click().run()
    data = workspace(at).data
    assert data.label_names[0] == "T-shirt" and data.label_names[9] == "Ankle boot"
    assert data.label_text(int(np.flatnonzero(data.y == 7)[0])) == "Sneaker"
