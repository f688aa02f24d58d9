"""Lesson 7, "Touch the model": a real run steered from the Learn page, and its story told from the run's own curve."""
from __future__ import annotations

import time

import pytest
from app_session import open_app, workspace

from dashboard.lessons.touch import LESSON, segments, story
from vae_core.analysis import NEAR_ZERO_KL
from vae_core.config import TrainConfig, default_model_config
from vae_core.runs import fit
from vae_core.training import Change


def wait_until(predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def steered(mnist):
    """Lesson 7's moves planned at steps 150 and 400 on a real MNIST run (z = 16, batch 64)."""
    cfg = TrainConfig(epochs=10, batch_size=64, seed=0)
    changes = [Change(150, "beta", 32.0), Change(400, "beta", 1.0), Change(400, "free_bits", 0.5)]
    return fit(mnist, default_model_config("image", mnist.input_shape), cfg, iwae_k=0, changes=changes)


def test_the_story_cuts_the_run_at_each_change_and_reads_its_own_numbers(steered):
    segs = segments(steered)
    assert [(s.first, s.beta, s.free_bits) for s in segs] == [(1, 1.0, 0.0), (150, 32.0, 0.0), (400, 1.0, 0.5)]
    steps = [e for e in steered.events if e.kind == "step"]
    tail = [e for e in steps if e.step <= 149][-20:]
    assert segs[0].kl == pytest.approx(sum(e.kl for e in tail) / 20)
    assert segs[1].kl < NEAR_ZERO_KL < segs[0].kl  # β = 32 collapsed the code on real digits
    assert segs[2].kl > NEAR_ZERO_KL  # and lowering it brought the code back
    text = [b.body for b in story(steered)]
    assert f"the KL settled at {segs[0].kl:.2f} nats" in text[0]
    assert f"the KL fell from {segs[0].kl:.2f} to {segs[1].kl:.2f} nats" in text[1]
    assert "That is posterior collapse" in text[1]
    assert f"the KL rose from {segs[1].kl:.2f} to {segs[2].kl:.2f} nats" in text[2]
    assert "The code came back" in text[2]


def test_the_lesson_starts_a_run_and_its_buttons_steer_it():
    app = open_app("app_pages/learn.py")
    app.segmented_control[0].set_value(7).run()
    assert app.header[0].value == f"Lesson 7: {LESSON.title}"
    assert app.button(key="touch_move_0").disabled
    app.button(key="touch_start").click().run()
    job = workspace(app).job
    assert job is not None and job.run.train_cfg.beta == 1.0 and job.run.train_cfg.epochs == 200
    wait_until(lambda: job.run.state.step >= 5)
    app.run()
    app.button(key="touch_move_0").click().run()
    [change] = job.run.state.changes
    assert (change.name, change.value) == ("beta", 32.0)
    wait_until(lambda: job.run.state.step >= change.step + 25)
    app.run()
    assert any(f"From step {change.step}" in m.value for m in [*app.markdown, *app.error])
    app.button(key="touch_move_1").click().run()
    assert {(c.name, c.value) for c in job.run.state.changes[1:]} == {("beta", 1.0), ("free_bits", 0.5)}
    job.stop()
    assert job.done.wait(60)
