"""The Latent space page headless: PCA at once, t-SNE in the background and cached per run, z itself for
2-D latents, selections show the inputs, a busy model is left alone."""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from app_session import open_app, train_on, train_tiny
from streamlit.proto.WidgetStates_pb2 import WidgetStates

from vae_core import analysis

PAGE = "app_pages/latent.py"


def charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def values(trace: dict, field: str) -> np.ndarray:
    """A trace's array, decoded when plotly sent it as typed binary ({'dtype', 'bdata'})."""
    v = trace[field]
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
    return np.asarray(v)


def latent_map(at) -> dict:
    (spec,) = [s for s in charts(at) if "latent means" in s["layout"]["title"]["text"]]
    return spec


def points_by_id(spec: dict) -> dict[int, tuple[float, float]]:
    out = {}
    for t in spec["data"]:
        for i, x, y in zip(values(t, "customdata"), values(t, "x"), values(t, "y"), strict=True):
            out[int(i)] = (float(x), float(y))
    return out


def select(at, sample_ids: list[int]) -> None:
    """Simulate a box selection on the map (AppTest has no API for chart selections: send the widget state)."""
    chart = next(c for c in at.get("plotly_chart")
                 if "latent means" in json.loads(c.proto.spec)["layout"]["title"]["text"])
    states = WidgetStates()
    states.CopyFrom(at._tree.get_widget_states())
    state = states.widgets.add()
    state.id = chart.proto.id
    state.string_value = json.dumps({"selection": {"points": [{"customdata": i} for i in sample_ids],
                                                   "point_indices": list(range(len(sample_ids))), "box": [{}],
                                                   "lasso": []}})
    at._run(states)


@pytest.fixture(scope="module")
def trained():
    """One session with a tiny real MNIST run, on the Latent space page (shared: training costs seconds)."""
    at = open_app()
    ws = train_tiny(at, epochs=1)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at, ws


def test_without_a_run_the_page_sends_you_to_train():
    at = open_app(PAGE)
    assert "Train one first" in at.info[0].value
    assert [link.proto.label for link in at.main.get("page_link")] == ["Go to Train"]
    assert not at.get("plotly_chart")


def test_pca_map_shows_every_test_input_coloured_by_digit(trained):
    at, ws = trained
    run = ws.current_run()
    assert at.radio(key="latent_method_2").value == "pca"  # 16-D latent: no "z itself"
    assert at.radio(key="latent_method_2").options == ["PCA", "t-SNE"]
    spec = latent_map(at)
    assert sorted(t["name"] for t in spec["data"]) == [str(d) for d in range(10)]
    test_ids = run.data.indices("test")  # 500 < the default 2,000 points: all of them
    coords = points_by_id(spec)
    assert sorted(coords) == test_ids.tolist()
    expected, ratio = analysis.pca_2d(analysis.encode_means(run.model, run.data.x[test_ids]))
    got = np.array([coords[i] for i in test_ids])
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    assert f"PC 1 ({ratio[0]:.0%} of the variance)" == spec["layout"]["xaxis"]["title"]["text"]
    for t in spec["data"]:  # hover names each input and its digit
        assert all(text.endswith(f"(digit {t['name']})") and text.startswith("#") for text in t["text"])
    for widget in (*at.slider, *at.selectbox, *at.radio):
        assert widget.help and len(widget.help) > 30, widget.key


def test_points_and_part_choose_a_seeded_sample(trained):
    at, ws = trained
    run = ws.current_run()
    at.selectbox(key="latent_part").set_value("all")
    at.slider(key="latent_points").set_value(1000).run()
    ids = sorted(points_by_id(latent_map(at)))
    assert ids == analysis.subsample(len(run.data.x), 1000, seed=0).tolist()
    at.run()
    assert sorted(points_by_id(latent_map(at))) == ids  # the same sample on every rerun
    at.selectbox(key="latent_part").set_value("test")
    at.slider(key="latent_points").set_value(2000).run()


def test_selected_points_show_their_images(trained):
    at, ws = trained
    assert any("Drag a box over the map" in i.value for i in at.info)  # nothing selected yet: a hint
    data = ws.current_run().data
    test_ids = data.indices("test")
    zeros, five = test_ids[data.y[test_ids] == 0], test_ids[data.y[test_ids] == 5]
    chosen = [int(zeros[0]), int(zeros[1]), int(zeros[2]), int(five[0])]
    select(at, chosen)
    assert not at.exception
    shown = " ".join(m.value for m in at.markdown)
    assert "**4** selected: digit 0 ×3, digit 5 ×1" in shown
    assert any(img.captions == ["4 of the 4 selected inputs, one of each label in turn"] for img in at.image)
    names = [c.value for c in at.caption if c.value.startswith("#")]
    in_turn = [chosen[0], chosen[3], chosen[1], chosen[2]]  # the lone 5 is not hidden behind the zeros
    assert names == [", ".join(f"#{i} (digit {data.label_text(i)})" for i in in_turn)]
    at.run()  # the selection survives other reruns, as in the browser until the user clears it
    assert "**4** selected" in " ".join(m.value for m in at.markdown)


@pytest.mark.slow
def test_tsne_runs_in_the_background_once_and_is_cached_per_run(trained):
    at, ws = trained
    run = ws.current_run()
    at.radio(key="latent_method_2").set_value("tsne").run()
    assert not at.exception, at.exception
    (first,) = [t for k, t in ws.background.items() if k[0] == "tsne"]
    at.slider(key="latent_perplexity").set_value(20).run()  # another setting: only the new map computes
    assert first.stop_event.is_set()
    assert first.done.wait(30) and first.status in ("stopped", "finished")
    tasks = [t for k, t in ws.background.items() if k[0] == "tsne"]
    assert len(tasks) == 1
    task = tasks[0]
    if task.active:  # while it runs: a progress bar and the PCA map in its place
        assert len(at.get("progress")) == 1
        assert "t-SNE is still computing" in latent_map(at)["layout"]["title"]["text"]
        at.run()  # a rerun finds the same task instead of starting another
        assert [t for k, t in ws.background.items() if k[0] == "tsne"] in ([task], [])
    assert task.done.wait(90), "t-SNE did not finish"
    assert task.status == "finished", task.error
    at.run()
    key = ("tsne", 500, 20, "test")
    assert run.memo.peek(key) is not None and run.memo.peek(key).shape == (500, 2)
    assert not [k for k in ws.background if k[0] == "tsne"]  # finished tasks leave the registry
    spec = latent_map(at)
    assert spec["layout"]["title"]["text"].startswith("t-SNE map of the latent means (perplexity 20)")
    coords = points_by_id(spec)
    test_ids = run.data.indices("test")
    np.testing.assert_allclose([coords[i] for i in test_ids], run.memo.peek(key), rtol=1e-5)
    assert not at.get("progress")
    # a later visit is instant: no task, same map
    at.switch_page("app_pages/train.py").run()
    at.switch_page(PAGE).run()
    assert at.radio(key="latent_method_2").value == "tsne"
    assert not ws.background and latent_map(at) == spec
    at.radio(key="latent_method_2").set_value("pca").run()


def test_a_model_in_training_is_left_alone(trained):
    at, ws = trained
    at.switch_page("app_pages/train.py").run()
    at.slider(key="continue_epochs").set_value(200)
    at.button(key="train_continue").click().run()
    try:
        assert ws.busy_run_id() == ws.current_run().id
        at.switch_page(PAGE).run()
        assert "being trained (or scored on its test part) right now" in at.info[0].value
        assert not at.get("plotly_chart") and not at.exception
    finally:
        ws.job.stop()
        assert ws.job.done.wait(60)
    at.run()
    assert latent_map(at)  # the map is back once training has stopped


def test_a_two_dimensional_latent_is_shown_as_it_is():
    at = open_app()
    ws = train_tiny(at, epochs=1, latent_dim=2)
    at.switch_page(PAGE).run()
    radio = at.radio(key="latent_method_3")
    assert radio.options == ["PCA", "t-SNE", "z itself (2-D latent)"] and radio.value == "z"
    run = ws.current_run()
    spec = latent_map(at)
    assert spec["layout"]["xaxis"]["title"]["text"] == "z0"
    test_ids = run.data.indices("test")
    coords = points_by_id(spec)
    np.testing.assert_allclose([coords[i] for i in test_ids],
                               analysis.encode_means(run.model, run.data.x[test_ids]), rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_sensor_windows_are_coloured_by_anomaly_flag_and_selections_draw_windows():
    at, ws = train_on("bleeding", 1, PAGE)
    spec = latent_map(at)
    assert [t["name"] for t in spec["data"]] == ["normal", "anomaly"]  # the rare anomalies drawn on top
    assert spec["layout"]["legend"]["title"]["text"] == "anomaly flag"
    run = ws.current_run()
    n_test = len(run.data.indices("test"))
    assert sum(len(values(t, "x")) for t in spec["data"]) == min(2000, n_test)
    first = spec["data"][0]["text"][0]
    assert first.startswith("window ") and "time steps" in first
    chosen = run.data.indices("test")[:3].tolist()
    select(at, chosen)
    windows = [s for s in charts(at) if s["layout"]["title"]["text"] == "3 selected windows (scaled)"]
    assert len(windows) == 1
    titles = [a["text"] for a in windows[0]["layout"]["annotations"]]
    assert titles == [f"window {i} ({run.data.label_text(i)})" for i in chosen]
