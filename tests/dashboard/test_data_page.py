"""The Data page headless: bundled sets, uploads of real files, and bad uploads that change nothing."""
from __future__ import annotations

import gzip
import json

import numpy as np
from app_session import open_app, workspace
from filemakers import bundled_digits, idx_images, idx_labels, npz_bytes


def test_bundled_mnist_is_in_use_with_a_preview(app):
    at = open_app("app_pages/data.py")
    assert at.title[0].value == "Data"
    assert at.get("button_group")[0].value == "mnist"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Samples"] == "5,000" and metrics["One sample"] == "28 × 28"
    assert metrics["Train / val / test"] == "4,000 / 500 / 500"
    counts = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert counts["x"] == [str(d) for d in range(10)] and counts["y"] == [500] * 10
    assert len(at.get("image")) == 10  # one row of examples per digit


def test_switching_to_a_bundled_sensor_recording(app):
    at = open_app("app_pages/data.py")
    at.get("button_group")[0].set_value("bleeding").run()
    ws = workspace(at)
    assert ws.data.name == "bleeding" and ws.data.kind == "sensor"
    assert any("Loaded InternalBleeding16" in s.value for s in at.success)
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    spec = next(s for s in specs if s["layout"]["title"]["text"] == "The whole recording (scaled)")
    assert len(spec["layout"]["shapes"]) >= 1  # the labelled anomaly is shaded


def test_uploading_a_real_idx_pair_replaces_the_data(app):
    images, labels = bundled_digits(100)
    at = open_app("app_pages/data.py")
    at.file_uploader[0].set_value([
        ("t10k-images-idx3-ubyte.gz", gzip.compress(idx_images(images)), "application/octet-stream"),
        ("t10k-labels-idx1-ubyte.gz", gzip.compress(idx_labels(labels)), "application/octet-stream")]).run()
    assert not any(b.label.startswith("Load ") for b in at.button)  # choosing the files loaded them: one action
    ws = workspace(at)
    assert ws.data.name.startswith("t10k-images-idx3-ubyte") and len(ws.data.x) == 100
    np.testing.assert_array_equal(ws.data.y, labels)
    assert ws.data_source.startswith("upload:")
    assert at.metric[0].value == "100"


def test_a_broken_csv_shows_the_engines_message_and_keeps_the_data(app):
    at = open_app("app_pages/data.py")
    before = workspace(at).data
    at.file_uploader[0].set_value(("readings.csv", b"time,a,b\n1,2\n3,4,5,6\n", "text/csv")).run()
    errors = " ".join(e.value for e in at.error)
    assert "readings.csv" in errors and "row" in errors
    assert workspace(at).data is before
    assert not at.exception


def test_a_pickled_npz_is_refused(app):
    at = open_app("app_pages/data.py")
    before = workspace(at).data
    blob = npz_bytes(x=np.array([{"evil": 1}], dtype=object))
    at.file_uploader[0].set_value(("evil.npz", blob, "application/octet-stream")).run()
    assert any("pickle" in e.value for e in at.error)
    assert workspace(at).data is before


def test_a_sensor_csv_upload_loads_at_once_then_its_windows_change_on_reload(app):
    t = np.arange(600)
    rows = "\n".join(f"{i},{np.sin(i / 10):.4f},{np.cos(i / 7):.4f},{int(300 <= i < 310)}" for i in t)
    blob = ("timestamp,temp,vibration,is_anomaly\n" + rows + "\n").encode()
    at = open_app("app_pages/data.py")
    at.file_uploader[0].set_value(("plant.csv", blob, "text/csv")).run()
    data = workspace(at).data
    assert data.kind == "sensor" and data.input_shape == (64, 2) and data.label_kind == "anomaly"
    assert data.channels == ("temp", "vibration")
    window = next(n for n in at.number_input if n.label.startswith("Window length"))
    window.set_value(32).run()
    at.button(key="sensor_1_reload").click().run()
    data = workspace(at).data
    assert data.input_shape == (32, 2) and data.channels == ("temp", "vibration")
    assert workspace(at).data_sensor["window"] == 32 and workspace(at).data_file[0] == "plant.csv"
