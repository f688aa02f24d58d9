"""The Diagnostics page headless: collapse verdicts on real tiny runs, one-click fixes, a run in training."""
from __future__ import annotations

import time

import pytest
from app_session import metrics, open_app, spec, train_tiny

from vae_core import analysis

PAGE = "app_pages/diagnostics.py"


@pytest.fixture(scope="module")
def trained():
    """One session with two real one-epoch MNIST runs of 250 steps: β = 64 (run 1) and β = 1 (run 2)."""
    at = open_app()
    ws = train_tiny(at, epochs=1, beta=64.0, batch_size=16)  # enough steps for a verdict (over 200)
    high = ws.runs[-1]
    train_tiny(at, epochs=1, beta=1.0, batch_size=16)
    plain = ws.runs[-1]
    assert (high.train_cfg.beta, plain.train_cfg.beta) == (64.0, 1.0)
    return at, ws, high, plain


def show(at, ws, run):
    ws.selected_run = run.id
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def expected(run):
    x, _ = run.data.part("test")
    return analysis.diagnose(run.model, x, run.so_far())






def test_without_a_run_the_page_points_to_training():
    at = open_app(PAGE)
    assert at.title[0].value == "Diagnostics"
    assert "No trained model yet" in at.info[0].value
    link = at.get("page_link")[0]
    assert link.value == "Go to Train" and link.proto.page_script_hash


@pytest.mark.slow
def test_a_high_beta_run_is_diagnosed_as_posterior_collapse(trained):
    at, ws, high, _ = trained
    show(at, ws, high)
    diag = expected(high)
    assert diag.verdict == "collapsed"  # β = 64 after one epoch: the test itself checks the premise
    errors = " ".join(e.value for e in at.error)
    assert "posterior collapse" in errors.lower() and "the decoder ignores z" in errors
    assert f"in {int((diag.kl_per_dim < analysis.NEAR_ZERO_KL).sum())} of {len(diag.kl_per_dim)} dimensions" in errors
    shown = metrics(at)
    assert shown["Active units"] == f"{diag.active_units} of {len(diag.kl_per_dim)}"
    assert shown["Total KL"] == f"{diag.kl:.2f} nats"
    bars = spec(at.get("plotly_chart")[0])["data"][0]
    assert bars["y"] == sorted(bars["y"], reverse=True) and len(bars["y"]) == high.model.cfg.latent_dim
    assert {b.key for b in at.button} >= {"fix_warmup", "fix_free_bits", "fix_beta"}
    assert at.button(key="fix_beta").label == "Lower β to 1"


@pytest.mark.slow
def test_a_beta_one_run_is_not_called_collapsed(trained):
    at, ws, _, plain = trained
    show(at, ws, plain)
    diag = expected(plain)
    page = " ".join(e.value for e in (*at.error, *at.info, *at.success))
    assert "posterior collapse" not in page.lower()
    assert diag.reason in page
    assert metrics(at)["Active units"] == f"{diag.active_units} of {len(diag.kl_per_dim)}"
    fixes = {"fix_warmup", "fix_free_bits", "fix_beta"} & {b.key for b in at.button}
    assert bool(fixes) == (diag.verdict != "healthy")  # fixes only for a code that is not fully used


@pytest.mark.slow
def test_each_suggested_fix_sets_up_the_train_page_in_one_click(trained):
    at, ws, high, _ = trained
    at.switch_page("app_pages/train.py").run()
    at.select_slider(key="set_beta").set_value(8.0)  # the settings drifted since run 1
    at.slider(key="set_epochs").set_value(7).run()
    show(at, ws, high).button(key="fix_beta").click().run()
    assert at.title[0].value == "Train"
    assert at.select_slider(key="set_beta").value == 1.0
    assert at.slider(key="set_epochs").value == high.train_cfg.epochs  # the rest is run 1's settings
    assert any("β = 1" in s.value and "run 1" in s.value for s in at.success)

    show(at, ws, high).button(key="fix_warmup").click().run()
    assert at.title[0].value == "Train"
    assert at.selectbox(key="set_warmup").value == "linear"
    assert at.slider(key="set_warmup_epochs").value == 10
    assert at.slider(key="set_epochs").value == 20  # room for the ramp
    assert at.select_slider(key="set_beta").value == 64.0

    show(at, ws, high).button(key="fix_free_bits").click().run()
    assert at.slider(key="set_free_bits").value == 0.5
    assert at.selectbox(key="set_warmup").value == "none"


@pytest.mark.slow
def test_a_run_in_training_is_left_alone(trained):
    at, ws, _, plain = trained
    ws.selected_run = plain.id
    at.switch_page("app_pages/train.py").run()
    at.slider(key="continue_epochs").set_value(200)
    at.button(key="train_continue").click().run()
    job = ws.job
    try:
        assert ws.busy_run_id() == plain.id
        at.switch_page(PAGE).run()
        assert not at.exception
        assert any("is being trained (or scored on its test part) right now" in i.value for i in at.info)
        assert not at.metric and not at.get("plotly_chart")
    finally:
        job.stop()
        assert job.done.wait(60)
    deadline = time.time() + 10
    while ws.busy_run_id() is not None and time.time() < deadline:
        time.sleep(0.05)
    at.run()
    assert at.metric  # back to the diagnosis once training ended
