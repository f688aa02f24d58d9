"""The Anomalies page headless: real runs on the bundled InternalBleeding16 and BasicMotions recordings."""
from __future__ import annotations

import numpy as np
import pytest
from app_session import metrics, open_app, spec, train_tiny, workspace

from vae_core import analysis
from vae_core.config import TrainConfig, default_model_config
from vae_core.data import load_bundled
from vae_core.runs import new_run

PAGE = "app_pages/anomalies.py"






def chart(at, key: str) -> dict:
    """The plotly chart drawn with `key` (keyed elements carry the key in their id)."""
    return spec(next(c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")))


@pytest.fixture(scope="module")
def bleeding_run():
    """A real two-epoch run on InternalBleeding16, chosen on the Data page like a visitor would."""
    at = open_app("app_pages/data.py")
    at.get("button_group")[0].set_value("bleeding").run()
    ws = train_tiny(at, epochs=2, beta=1.0)
    run = ws.runs[-1]
    assert run.data.name == ws.data.name and run.data.label_kind == "anomaly"
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at, run


def test_without_a_run_the_page_points_to_training():
    at = open_app(PAGE)
    assert "No trained model yet" in at.info[0].value
    assert at.get("page_link")[0].value == "Go to Train"


def test_an_image_run_is_sent_to_sensor_data():
    at = open_app()
    ws = workspace(at)
    mnist = ws.data
    ws.add_run(new_run(mnist, default_model_config("image", mnist.input_shape), TrainConfig()))
    at.switch_page(PAGE).run()
    assert not at.exception
    assert "This page is for sensor recordings" in at.info[0].value and "InternalBleeding16" in at.info[0].value
    assert at.get("page_link")[0].value == "Choose sensor data"
    assert not at.metric and not at.slider


@pytest.mark.slow
def test_auc_and_ap_on_bleeding_equal_vae_core_on_the_same_model(bleeding_run):
    at, run = bleeding_run
    x, y = run.data.part("test")
    want = analysis.anomaly_metrics(analysis.reconstruction_errors(run.model, x), y)
    shown = metrics(at)
    assert 0 < want["auc"] < 1 and 0 < want["ap"] < 1
    assert shown["ROC-AUC"] == f"{want['auc']:.3f}"
    assert shown["Average precision"] == f"{want['ap']:.3f}"
    roc = chart(at, "anomaly_roc")
    model_curve = next(t for t in roc["data"] if t["name"].startswith("model"))
    assert np.allclose(model_curve["x"], want["fpr"]) and np.allclose(model_curve["y"], want["tpr"])
    timeline = chart(at, "anomaly_timeline")
    errors = next(t for t in timeline["data"] if t["name"] == "reconstruction error")
    assert len(errors["y"]) == len(run.data.x)  # one point per window, placed over time
    assert len([s for s in timeline["layout"]["shapes"] if s["type"] == "rect"]) >= 1  # the labelled anomaly


@pytest.mark.slow
def test_moving_the_threshold_changes_the_flagged_count(bleeding_run):
    at, run = bleeding_run
    errors = analysis.reconstruction_errors(run.model, run.data.x)
    val, test = errors[run.data.indices("val")], errors[run.data.indices("test")]
    y_test = run.data.part("test")[1].astype(bool)
    counts = {}
    for pct in (99.0, 90.0):
        at.slider(key="anomaly_percentile").set_value(pct).run()
        threshold = analysis.anomaly_threshold(val, pct)
        flagged = test > threshold
        shown = metrics(at)
        assert shown["Threshold"] == f"{threshold:.3g} nats"
        assert shown["Flagged test windows"] == f"{int(flagged.sum())} of {len(test)}"
        hits = int((flagged & y_test).sum())
        assert shown["Recall"] == f"{hits / y_test.sum():.2f}"
        counts[pct] = int(flagged.sum())
    assert counts[90.0] > counts[99.0]


@pytest.mark.slow
def test_class_labelled_motions_get_a_box_plot_and_no_anomaly_scores():
    at = open_app()
    ws = workspace(at)
    ws.set_data(load_bundled("basicmotions"), "bundled:basicmotions")
    train_tiny(at, epochs=2, beta=1.0)
    at.switch_page(PAGE).run()
    assert not at.exception
    boxes = chart(at, "anomaly_by_class")
    assert sorted(t["name"] for t in boxes["data"]) == sorted(ws.data.label_names)
    assert sum(len(t["y"]) for t in boxes["data"]) == len(ws.data.x)
    assert any("no anomaly labels" in i.value for i in at.info)
    assert "ROC-AUC" not in metrics(at) and "Flagged test windows" in metrics(at)
