"""The Train page's live lab headless: knobs that act while a real run trains, Pause, Step with the ELBO written
out before and after, Resume, and the latent map replayed over the epochs afterwards."""
from __future__ import annotations

import time

import pytest
from app_session import open_app, spec, train_tiny, workspace


def wait_until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def training():
    """The Train page with a long real run under way (stopped at the end)."""
    app = open_app("app_pages/train.py")
    app.slider(key="set_epochs").set_value(200).run()
    app.button(key="train_start").click().run()
    job = workspace(app).job
    wait_until(lambda: job.run.state.step >= 3)
    app.run()
    yield app, job
    job.stop()
    job.done.wait(60)


def widget(app, key: str):
    return next(w for w in app.main if getattr(w, "key", None) == key)


def test_a_knob_moved_while_training_acts_from_the_next_step_and_is_marked_on_the_curves(training):
    app, job = training
    knob = widget(app, f"live_beta_{job.id[:8]}")
    assert knob.value == 1.0 and "KL" in knob.label
    knob.set_value(16.0).run()
    [change] = job.run.state.changes
    assert change.name == "beta" and change.value == 16.0
    assert any(f"β set to 16 from step {change.step}" in s.value for s in app.success)
    wait_until(lambda: job.run.state.step >= change.step + 2)
    app.run()
    curves = spec(app.get("plotly_chart")[0])
    assert [s["x0"] for s in curves["layout"]["shapes"]] == [change.step]
    assert curves["layout"]["annotations"][0]["text"] == "β → 16"
    beta = next(t for t in curves["data"] if t["name"] == "β in force")
    assert max(beta["y"]) == 16.0
    assert widget(app, f"live_beta_{job.id[:8]}").value == 16.0  # the knob shows the value in force


def test_pause_step_shows_the_elbo_of_one_input_before_and_after_one_step(training):
    app, job = training
    app.button(key="train_pause").click().run()
    assert job.wait_held(0)
    app.run()
    held = job.run.state.step
    assert any(f"Paused after step {held}" in i.value for i in app.info)
    formula = app.get("latex")[0].value  # the chosen input's loss, its own numbers filled in
    terms = job.while_held(lambda model: None)  # still held: the page only looked
    assert terms is None and r"\underbrace{\beta}_{1}" in formula and r"\text{nats}" in formula
    app.button(key="train_step").click().run()
    assert job.run.state.step == held + 1
    table = app.dataframe[-1].value
    assert list(table.columns) == ["term (nats)", f"after step {held}", f"after step {held + 1}", "change"]
    total = table.set_index("term (nats)").loc["total (this input's loss)"]
    assert total["change"] == pytest.approx(total[f"after step {held + 1}"] - total[f"after step {held}"])
    assert any("moved this input's loss by" in c.value for c in app.caption)
    app.button(key="train_resume").click().run()
    wait_until(lambda: job.run.state.step >= held + 5)


def test_the_finished_run_replays_its_latent_map_over_the_epochs():
    app = open_app()
    train_tiny(app, epochs=3)
    scrubber = next(w for w in app.select_slider if w.key and w.key.startswith("scrub_"))
    assert scrubber.options == ["0", "1", "2", "3"] and scrubber.value == 3
    scrubber.set_value(1).run()
    maps = [spec(c) for c in app.get("plotly_chart") if "Latent means" in spec(c)["layout"]["title"]["text"]]
    assert "Latent means, epoch 1" in maps[0]["layout"]["title"]["text"]
    assert maps[0]["layout"]["xaxis"]["range"][0] < maps[0]["layout"]["xaxis"]["range"][1]  # fixed axes
