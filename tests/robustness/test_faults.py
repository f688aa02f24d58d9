"""Faults: a diverging run from the CLI, and a browser closed mid-training (its job must not run on for long).

Divergence in the engine and on the Train page is tested in tests/vae_core/test_training.py and
tests/dashboard/test_train_page.py; out-of-range settings in a URL in tests/dashboard/test_links.py.
"""
from __future__ import annotations

import time

import torch
from filemakers import bundled_digits, npz_bytes

from dashboard import state
from dashboard.jobs import TrainJob
from dashboard.workspaces import WorkspaceStore
from vae_core import cli
from vae_core.checkpoint import load_run
from vae_core.config import TrainConfig, default_model_config
from vae_core.store import RunStore
from vae_core.tasks import Slots


def test_a_diverging_cli_run_exits_1_and_saves_the_last_good_weights(tmp_path, capsys):
    images, labels = bundled_digits(500)
    source = tmp_path / "digits.npz"
    source.write_bytes(npz_bytes(x=images, y=labels))
    code = cli.main(["train", "--data", str(source), "--lr", "10", "--epochs", "3", "--quiet", "--eval-k", "0",
                     "--out", str(tmp_path / "run")])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_DIVERGED, (out, err)
    assert "error: training diverged" in err and "last good weights were saved" in err and "Traceback" not in err
    run = load_run(tmp_path / "run")  # loads: every tensor finite (load_run refuses NaN/inf)
    assert run.summary["stop_reason"] == "diverged"
    assert all(torch.isfinite(p).all() for p in run.model.parameters())


def long_job(data, store: WorkspaceStore, key: str, session: str) -> TrainJob:
    """A job of 200 epochs (minutes on 2 cores) in the workspace `key`, opened by browser session `session`."""
    space = store.get(key)
    space.attach(session)
    space.set_data(data, "bundled:mnist")
    cfg = default_model_config("image", data.input_shape, hidden=(32,))
    space.job = space.new_job(cfg, TrainConfig(epochs=200), Slots(2)).start()
    return space.job


def test_a_closed_browsers_job_is_stopped_and_its_run_kept(mnist_small, tmp_path):
    alive = {"tab-1": True, "tab-2": True}
    store = WorkspaceStore(RunStore(tmp_path), is_alive=lambda s: alive.get(s, False), orphan_seconds=60)
    mine = long_job(mnist_small, store, "closes", "tab-1")
    other = long_job(mnist_small, store, "stays", "tab-2")
    try:
        t0 = time.time()
        assert store.stop_orphans(t0) == []
        alive["tab-1"] = False  # the first visitor closes the browser
        assert store.stop_orphans(t0) == [] and mine.active  # a reload would reconnect within the grace time
        assert store.stop_orphans(t0 + 61) == ["closes"]
        assert mine.done.wait(30), "the orphaned job did not stop within 30 s"
        assert other.active and not other.stop_event.is_set()  # the other visitor's job trains on
        space = store.get("closes")
        assert space.runs and space.runs[-1].status == "stopped"  # what it learned is kept for their return
    finally:
        other.stop()
        other.done.wait(30)


def test_a_reload_within_the_grace_time_keeps_the_job(mnist_small, tmp_path):
    alive = {"old-tab": True}
    store = WorkspaceStore(RunStore(tmp_path), is_alive=lambda s: alive.get(s, False), orphan_seconds=60)
    job = long_job(mnist_small, store, "reloads", "old-tab")
    try:
        t0 = time.time()
        alive["old-tab"] = False
        store.stop_orphans(t0)
        alive["new-tab"] = True
        store.get("reloads").attach("new-tab")  # the reloaded page opens the same workspace
        assert store.stop_orphans(t0 + 600) == [] and job.active
    finally:
        job.stop()
        job.done.wait(30)


def test_the_watchdog_thread_stops_orphans_by_itself(mnist_small, tmp_path):
    store = WorkspaceStore(RunStore(tmp_path), is_alive=lambda s: False, orphan_seconds=0)
    job = long_job(mnist_small, store, "gone", "closed-tab")
    store.start_watchdog(every=0.05)
    t0 = time.time()
    assert job.done.wait(30), "the watchdog did not stop the job"
    print(f"\nORPHAN STOP: job stopped {time.time() - t0:.2f} s after its only session was gone")


def test_jobs_without_a_browser_session_are_never_orphaned(mnist_small, tmp_path):
    store = WorkspaceStore(RunStore(tmp_path), is_alive=lambda s: False, orphan_seconds=0)
    space = store.get("cli-like")
    space.job = TrainJob.new(mnist_small, default_model_config("image", mnist_small.input_shape, hidden=(32,)),
                             TrainConfig(epochs=200), Slots(2), space.job_finished).start()
    try:
        assert store.stop_orphans(time.time() + 10_000) == []
    finally:
        space.job.stop()
        space.job.done.wait(30)


def test_without_a_server_every_session_counts_as_alive():
    assert state._session_alive("any id") is True
