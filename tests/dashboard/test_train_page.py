"""The Train page headless: defaults, a real tiny run, Stop, divergence, no duplicate jobs, isolation."""
from __future__ import annotations

import json
import time

import pytest
from app_session import open_app, spec, train_tiny, workspace
from test_sweep_page import pills


def chart_specs(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_first_screen_is_train_with_mnist_loaded_and_explained_controls(app):
    assert app.title[0].value == "Train"
    assert "mnist" in app.markdown[0].value and "5,000 images of 28×28" in app.markdown[0].value
    assert app.slider(key="set_epochs").value == 20
    assert app.slider(key="set_latent_dim").value == 16
    assert app.select_slider(key="set_beta").value == 1.0
    assert app.selectbox(key="set_loss").value == "bce"
    for widget in (*app.slider, *app.select_slider, *app.selectbox):
        assert widget.help and len(widget.help) > 30, widget.key  # every control explains itself
    assert app.button(key="train_stop").disabled
    assert "Press **Train** to start" in app.info[0].value


def test_a_tiny_run_trains_and_is_recorded(app):
    ws = train_tiny(app, epochs=2)
    assert len(ws.runs) == 1
    run = ws.runs[0]
    assert run.status == "finished" and run.summary["epochs"] == 2
    assert any("Finished: trained 2 epochs" in s.value for s in app.success)
    assert any(f"test neg. ELBO **{run.summary['test_neg_elbo']:.2f}**" in m.value for m in app.markdown)
    curves, live_map = chart_specs(app)
    steps = [t for t in curves["data"] if t["name"] == "total"][0]
    assert len(steps["y"]) == sum(e.kind == "step" for e in run.events)
    assert sorted(t["name"] for t in live_map["data"]) == [str(d) for d in range(10)]  # one colour per digit
    assert "Latent means, epoch 2" in live_map["layout"]["title"]["text"]
    assert not app.button(key="train_start").disabled


def test_stop_keeps_what_was_learned_and_the_run_can_continue(app):
    app.slider(key="set_epochs").set_value(200).run()
    app.button(key="train_start").click().run()
    ws = workspace(app)
    job = ws.job
    deadline = time.time() + 60
    while not any(e.kind == "epoch" for e in job.snapshot().events):
        assert time.time() < deadline
        time.sleep(0.05)
    app.button(key="train_stop").click().run()
    assert job.done.wait(60)
    app.run()
    run = ws.runs[-1]
    assert run.status == "stopped" and 1 <= run.state.epoch < 200
    assert any(i.value.startswith("Stopped: stopped by you after") for i in app.info)
    done = run.state.epoch
    app.slider(key="continue_epochs").set_value(1)
    app.button(key="train_continue").click().run()
    assert ws.job.done.wait(60)
    app.run()
    assert len(ws.runs) == 1  # continued in place, not a new run
    assert run.state.epoch == done + 1 and run.status == "finished"


def test_touching_widgets_while_training_neither_kills_nor_duplicates_the_job(app):
    app.slider(key="set_epochs").set_value(30).run()
    app.button(key="train_start").click().run()
    ws = workspace(app)
    job = ws.job
    app.select_slider(key="set_beta").set_value(4.0).run()  # a rerun mid-training
    app.switch_page("app_pages/data.py").run()
    app.switch_page("app_pages/train.py").run()
    assert ws.job is job and job.thread.is_alive()
    assert app.button(key="train_start").disabled
    job.stop()
    assert job.done.wait(60)


def test_a_diverging_run_says_what_happened_and_what_to_try(app):
    ws = train_tiny(app, epochs=3, lr=10.0)
    assert ws.runs[-1].status == "diverged"
    error = " ".join(e.value for e in app.error)
    assert "Training diverged" in error and "Try a lower learning rate (now 10)" in error


def test_two_sessions_never_see_each_others_runs(app):
    ws_a = train_tiny(app, epochs=1)
    other = open_app()
    ws_b = workspace(other)
    assert ws_b is not ws_a and ws_b.runs == [] and ws_b.job is None
    other.switch_page("app_pages/runs.py").run()
    assert not other.exception
    page_text = " ".join(str(getattr(e, "value", "")) for e in other.main)
    assert ws_a.runs[0].label not in page_text


@pytest.mark.slow
def test_sensor_data_gets_sensor_defaults(app):
    app.switch_page("app_pages/data.py").run()
    app.get("button_group")[0].set_value("bleeding").run()  # the bundled-data segmented control
    app.switch_page("app_pages/train.py").run()
    assert app.selectbox(key="set_arch").value == "conv1d"
    assert app.selectbox(key="set_loss").options == ["Gaussian (squared error)", "Laplace (absolute error)",
                                                     "Huber (squared near 0, absolute far out)"]
    ws = train_tiny(app, epochs=2)
    assert ws.runs[-1].summary["anomaly_auc"] is not None


def captions(at) -> str:
    return " ".join(c.value for c in at.caption)


@pytest.mark.slow
def test_the_right_side_shows_the_run_chosen_in_the_sidebar_not_the_last_job(app):
    ws = train_tiny(app, epochs=1)  # the last job: run 1, a 16-D code
    job_run = ws.runs[0]
    assert f"Showing **{job_run.label}**, the run chosen in the sidebar" in captions(app)

    app.switch_page("app_pages/sweep.py").run()  # a one-trial sweep: β = 4, a 2-D code, opened as run 2
    app.session_state["train_settings"] = {"kind": "image", "arch": "mlp", "hidden": (32,)}
    pills(app, "sweep_betas").set_value([4.0])
    pills(app, "sweep_latents").set_value([2])
    app.slider(key="sweep_epochs").set_value(1)
    app.run()
    app.button(key="sweep_start").click().run()
    assert ws.background["sweep"].done.wait(180)
    app.run()
    app.button(key="sweep_open").click().run()
    trial = ws.current_run()
    assert trial is not job_run and trial.train_cfg.beta == 4.0 and trial.model.cfg.latent_dim == 2

    app.switch_page("app_pages/train.py").run()
    assert not app.exception, app.exception
    assert f"Showing **{trial.label}**, the run chosen in the sidebar" in captions(app)
    assert job_run.label not in captions(app) + " ".join(m.value for m in app.markdown)
    curves, latent = chart_specs(app)
    total = next(t for t in curves["data"] if t["name"] == "total")
    assert len(total["y"]) == sum(e.kind == "step" for e in trial.events)  # the trial's own history
    title = latent["layout"]["title"]["text"]
    assert title == "Latent means, test part (2-D code)", title  # never the job's live map
    points = sum(len(t["x"]) for t in spec(app.get("plotly_chart")[1])["data"])
    assert points == len(trial.data.indices("test"))  # every test digit's mean, from the trial's model
    assert sorted(t["name"] for t in latent["data"]) == [str(d) for d in range(10)]
    assert any(f"test neg. ELBO **{trial.summary['test_neg_elbo']:.2f}**" in m.value for m in app.markdown)
    assert not any("trained 1 epoch" in s.value for s in app.success)  # the job's message stays with the job

    picker = next(s for s in app.selectbox if s.label == "Run to explore")
    picker.set_value(job_run.id).run()  # back to the job's run: its live map again
    assert f"Showing **{job_run.label}**" in captions(app)
    assert "Latent means, epoch 1" in chart_specs(app)[1]["layout"]["title"]["text"]
