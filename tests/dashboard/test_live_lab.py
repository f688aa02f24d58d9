"""The live lab's engine in the server: knobs turned from another thread while a job trains, pause, step and resume,
and the latent map kept over the epochs. Real training throughout; runs compared by their weights' digest."""
from __future__ import annotations

import hashlib
import io
import time

import numpy as np
import pytest

from dashboard.components.charts import change_marks, loss_curves
from dashboard.jobs import TrainJob, saved_history
from vae_core.config import TrainConfig, default_model_config
from vae_core.latent_history import HistoryError, LatentHistory, align
from vae_core.runs import fit, new_run
from vae_core.store import RunStore
from vae_core.tasks import Slots
from vae_core.training import Change


def small(data):
    return default_model_config("image", data.input_shape, hidden=(32,), latent_dim=3, dropout=0.1)


def digest(model) -> str:
    return hashlib.sha256(b"".join(v.numpy().tobytes() for v in model.state_dict().values())).hexdigest()


def job_for(data, cfg, changes=()) -> TrainJob:
    return TrainJob(new_run(data, small(data), cfg, changes=changes), Slots(2), lambda job: None)


def wait_until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_knobs_turned_from_another_thread_replay_to_the_same_weights(mnist_small):
    # a teacher's slider moves while the training thread runs: each change is recorded at the step it really took
    # effect at, so a run planned with the recorded changes ends with the very same weights
    cfg = TrainConfig(epochs=4, batch_size=16, seed=3)  # 240 steps
    job = job_for(mnist_small, cfg).start()
    for name, value, after in (("beta", 8.0, 10), ("lr", 0.002, 40), ("free_bits", 0.5, 80), ("beta", 1.0, 120)):
        wait_until(lambda after=after: job.run.state.step >= after)
        job.change(name, value)
    assert job.done.wait(120) and job.status == "finished", job.snapshot().message
    made = list(job.run.state.changes)
    assert [c.name for c in made] == ["beta", "lr", "free_bits", "beta"]
    marks = [e for e in job.run.events if e.kind == "change"]
    assert [(e.step, e.reason, e.value) for e in marks] == [(c.step, c.name, c.value) for c in made]
    steps = {e.step: e for e in job.run.events if e.kind == "step"}
    assert steps[made[0].step].beta == 8.0 and steps[made[0].step - 1].beta == 1.0  # in force from its own step
    planned = fit(mnist_small, small(mnist_small), cfg, iwae_k=0, changes=made)
    assert digest(planned.model) == digest(job.run.model)


def test_pause_holds_step_takes_one_step_and_the_run_ends_as_one_never_paused(mnist_small):
    cfg = TrainConfig(epochs=6, batch_size=16, seed=5)  # 360 steps: still training when it is paused
    straight = fit(mnist_small, small(mnist_small), cfg, iwae_k=0)
    job = job_for(mnist_small, cfg).start()
    wait_until(lambda: job.run.state.step >= 5)
    job.pause()
    assert job.wait_held(0)
    held_at = job.run.state.step
    time.sleep(0.3)
    assert job.run.state.step == held_at and job.snapshot().held  # nothing moves while paused
    for k in range(1, 4):
        job.step_once()
        assert job.wait_held(held_at + k)
        assert job.run.state.step == held_at + k  # exactly one optimiser step per press
    seen = job.while_held(lambda model: digest(model))
    assert seen is not None
    job.resume()
    assert job.done.wait(120) and job.status == "finished"
    assert job.while_held(lambda model: 1) is None  # not held: no look at a model that may be training
    assert digest(job.run.model) == digest(straight.model)


def test_stop_while_paused_ends_the_job_and_keeps_what_it_learned(mnist_small):
    job = job_for(mnist_small, TrainConfig(epochs=6, batch_size=16, seed=1)).start()
    wait_until(lambda: job.run.state.step >= 3)
    job.pause()
    assert job.wait_held(0)
    job.stop()
    assert job.done.wait(60)
    assert job.status == "stopped" and job.run.state.step >= 3


def test_latent_history_keeps_one_frame_per_epoch_in_one_frame_of_reference(mnist_small, tmp_path):
    store = RunStore(tmp_path)
    run = new_run(mnist_small, small(mnist_small), TrainConfig(epochs=3, batch_size=64, seed=2))
    job = TrainJob(run, Slots(2), lambda job: None, writer=lambda r: store.writer(r)).start()
    assert job.done.wait(120) and job.status == "finished"
    history = saved_history(store.find(run.id).path)
    assert history is not None and [f.epoch for f in history.frames] == [0, 1, 2, 3]
    assert history.method == "PCA" and len(history.labels) == len(history.index)
    for before, after in zip(history.frames, history.frames[1:], strict=False):
        # each frame turned towards the one before: never farther from it than its own mirror image would be
        assert np.linalg.norm(after.coords - before.coords) <= np.linalg.norm(-after.coords - before.coords) + 1e-4
    x0, x1, y0, y1 = history.extent()
    every = np.concatenate([f.coords for f in history.frames])
    assert x0 < every[:, 0].min() and every[:, 0].max() < x1 and y0 < every[:, 1].min() and every[:, 1].max() < y1


def test_align_undoes_a_flip_and_a_rotation():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(200, 2)).astype(np.float32) * [3, 1]
    angle = 0.7
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = (points @ turn) * [1, -1]
    np.testing.assert_allclose(align(moved, points), points - points.mean(0), atol=1e-4)


def test_a_crafted_latent_history_is_refused_with_a_message():
    good = LatentHistory(np.arange(3), ["a", "b", "c"])
    good.add(0, np.random.default_rng(0).normal(size=(3, 2)))
    assert LatentHistory.from_bytes(good.to_bytes()).frames[0].coords.shape == (3, 2)
    with pytest.raises(HistoryError, match="cannot be read"):
        LatentHistory.from_bytes(b"not a zip at all")
    bad = LatentHistory(np.arange(4), ["a", "b", "c"])  # labels for 3 of 4 points
    bad.frames = good.frames
    with pytest.raises(HistoryError, match="do not fit"):
        LatentHistory.from_bytes(bad.to_bytes())
    buf = io.BytesIO()
    np.savez_compressed(buf, index=np.arange(3), labels=np.array(["a"] * 3), method=np.array("z"),
                        epochs=np.zeros(10**6, np.int64), coords=np.zeros((1, 3, 2), np.float32))
    with pytest.raises(HistoryError, match="too large"):  # a small file that unzips to megabytes
        LatentHistory.from_bytes(buf.getvalue())


def test_each_change_is_a_labelled_dotted_line_on_the_loss_chart(mnist_small):
    changes = [Change(20, "beta", 16.0), Change(20, "free_bits", 0.5), Change(60, "lr", 0.002)]
    run = fit(mnist_small, small(mnist_small), TrainConfig(epochs=5, batch_size=64, seed=0), iwae_k=0,
              changes=changes)
    shapes, notes = change_marks(run.events)
    assert [s["x0"] for s in shapes] == [20, 60]
    assert [n["text"] for n in notes] == ["β → 16, Free bits → 0.5", "Learning rate → 0.002"]
    layout = loss_curves(run.events).to_dict()["layout"]
    assert len(layout["shapes"]) == 2
    beta = next(t for t in loss_curves(run.events).to_dict()["data"] if t["name"] == "β in force")
    assert max(beta["y"]) == 16.0  # the β line follows the change


def test_a_change_while_the_loop_is_between_reading_and_taking_a_step_goes_to_the_next_step(mnist_small):
    # the race the claim closes: the loop read step s's values, then the slider moved; the change must not be
    # recorded at s (where it did not act) but at s + 1
    run = new_run(mnist_small, small(mnist_small), TrainConfig(epochs=1, batch_size=64, seed=0))
    state = run.state
    state.claim(state.step + 1)  # the loop has read the next step's values
    change = state.change("beta", 4.0)
    assert change.step == state.step + 2


def test_stop_is_said_before_the_closing_evaluation_which_goes_on_visibly(mnist_small):
    # Stop used to wait for the IWAE evaluation on the test part (1.8-4.6 s) before the page could say stopped
    job = job_for(mnist_small, TrainConfig(epochs=50, batch_size=16, seed=1)).start()
    wait_until(lambda: job.run.state.step >= 3)
    job.stop()
    wait_until(lambda: job.snapshot().status == "stopped", timeout=30)
    first = job.snapshot()
    scored_already = bool(job.run.summary)
    assert first.evaluating and not scored_already and "stopped by you" in first.message
    assert job.done.wait(60)
    last = job.snapshot()
    assert last.status == "stopped" and not last.evaluating and job.run.summary["test_neg_elbo"] > 0
