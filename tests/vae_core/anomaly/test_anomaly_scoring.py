"""The whole recording scored by a trained VAE: errors per channel against the analysis module, injected
anomalies found and attributed to their channel, the summary keys, and aeon's bundled labelled ECG series."""
from __future__ import annotations

import importlib.resources

import numpy as np
import pytest
import torch
from sensor_filemakers import INJECTED, INJECTED_LENGTH, injected_recording

from vae_core import anomaly as A
from vae_core import data as D
from vae_core.analysis import reconstruct, reconstruction_errors
from vae_core.config import TrainConfig, default_model_config
from vae_core.data import SensorOptions
from vae_core.runs import new_model
from vae_core.training import train

LENGTH = INJECTED_LENGTH


def trained(data: D.Dataset, epochs: int):
    model = new_model(default_model_config(data.kind, data.input_shape))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two threads stall on a busy 2-core machine (README, Performance)
    try:
        for _ in train(model, data, TrainConfig(epochs=epochs, seed=0)):
            pass
    finally:
        torch.set_num_threads(threads)
    return model


@pytest.fixture(scope="module")
def injected():
    data = D.load_upload([("injected.csv", injected_recording())], SensorOptions(window=32, stride=2))
    model = trained(data, epochs=20)
    scores = A.score_recording(model, data)
    return data, model, scores


def test_channel_errors_add_up_to_the_analysis_modules_window_errors(bleeding):
    model = new_model(default_model_config(bleeding.kind, bleeding.input_shape))
    errors = A.window_channel_errors(model, bleeding, stride=16)
    windows = np.stack([bleeding.series[s:s + 64] for s in errors.starts])
    np.testing.assert_allclose(errors.total, reconstruction_errors(model, windows), rtol=1e-4)
    assert errors.starts[-1] == 7501 - 64 and errors.errors.shape == (len(errors.starts), 1)
    fast = A.window_channel_errors(model, bleeding, stride=16, bfloat16=True)  # bfloat16 autocast: close, not equal
    np.testing.assert_allclose(fast.total, errors.total, rtol=0.05)
    # one window covering the span exactly: its reconstruction is the analysis module's
    span = A.reconstruct_span(model, bleeding, 640, 704, stride=64)
    np.testing.assert_allclose(span, reconstruct(model, bleeding.series[None, 640:704])[0], rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_each_injected_event_is_found_by_some_method_and_named_by_channel(injected):
    data, model, scores = injected
    assert scores.total.shape == (LENGTH,) and scores.channels.shape == (LENGTH, 3)
    assert scores.channel_names == ("a", "b", "c") and scores.parts[3300] == 2
    rule = A.ThresholdRule()
    candidates = {"vae": scores.total} | A.baseline_scores(data, stride=2)
    alarms = {name: rule.alarms(s, rule.threshold(A.validation_scores(s, scores.parts, scores.labels)))
              for name, s in candidates.items()}
    threshold = rule.threshold(scores.validation())
    events = A.detect_events(scores.total, threshold, channel_scores=scores.channels, channels=scores.channel_names)
    for what, (steps, channel) in INJECTED.items():
        finders = [n for n, spans in alarms.items()
                   if ((spans[:, 0] < steps.stop) & (spans[:, 1] >= steps.start)).any()]
        assert finders, f"nobody found the {what}"
        hit = [e for e in events if e.start < steps.stop and e.end >= steps.start]
        assert hit and hit[0].top_channels[0][0] == channel, (what, hit)  # the VAE's event names the channel


@pytest.mark.slow
def test_summary_keys_for_the_cli(injected):
    data, model, scores = injected
    summary = A.anomaly_summary(model, data, scores=scores, stride=2)
    for key in ("point_auc", "point_ap", "vus_roc", "vus_pr", "event_f1", "events_detected", "events_total",
                "threshold"):
        assert f"anomaly_{key}" in summary and key in summary["anomaly_test"]
        for name in ("random", "zscore", "pca", "iforest"):
            assert key in summary["anomaly_baselines"][name] and key in summary["anomaly_baselines"][name]["test"]
    assert summary["anomaly_events_total"] == 3 and summary["anomaly_part"] == "all"
    assert summary["anomaly_point_auc"] > summary["anomaly_baselines"]["random"]["point_auc"]
    frame = A.scores_frame(scores, summary["anomaly_threshold"], times=data.series_time)
    assert list(frame.columns) == ["time", "part", "score", "score_a", "score_b", "score_c", "label", "alarm"]
    assert len(frame) == LENGTH and frame["label"].sum() == 253 and set(frame["alarm"]) <= {0, 1}
    assert frame["time"].iloc[-1] == LENGTH - 1


def test_unlabelled_recordings_have_no_anomaly_metrics():
    daphnet = D.load_bundled("daphnet", SensorOptions(window=32, stride=64))
    model = new_model(default_model_config(daphnet.kind, daphnet.input_shape))
    scores = A.score_recording(model, daphnet, stride=32)
    assert scores.labels is None and scores.total.shape == (7040,)
    assert A.anomaly_summary(model, daphnet, scores=scores) == {}


def aeon_ecg() -> bytes:
    path = importlib.resources.files("aeon") / "datasets" / "data" / "UnitTest" / "ecg-diff-count-3_TEST.csv"
    return path.read_bytes()


def test_aeons_labelled_ecg_with_three_anomalies_whole_recording_scored():
    # trained on steps 0-1499 (normal, the first anomaly starts at 1560); every other step is test
    data = D.load_upload([("ecg-diff-count-3_TEST.csv", aeon_ecg())],
                         SensorOptions(window=64, stride=8, train_range=(0, 1500)))
    assert data.channels == ("value-0",) and data.part_ranges == ((0, 0, 1125), (1, 1125, 1500), (2, 1500, 10000))
    labels, parts = data.series_anomaly, data.step_parts()
    assert A.labelled_spans(labels).tolist() == [[1560, 1659], [6600, 6699], [6940, 7039]]
    rule = A.ThresholdRule()
    found = {}
    for name, s in A.baseline_scores(data, stride=8).items():
        found[name] = A.part_metrics(s, labels, parts, rule, max_buffer=16)["all"]
    assert found["pca"]["point_auc"] > 0.9 and found["random"]["point_auc"] == pytest.approx(0.5, abs=0.05)
    assert max(m["events_detected"] for m in found.values()) == 3
