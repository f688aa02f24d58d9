"""Training jobs in the server: the threads they train on, and runs that repeat exactly beside other visitors."""
from __future__ import annotations

import hashlib

import pytest
import torch

import vae_core.runs
from dashboard.jobs import TrainJob
from dashboard.workspaces import WorkspaceStore
from vae_core.config import TrainConfig, default_model_config
from vae_core.runs import fit
from vae_core.store import RunStore
from vae_core.tasks import Slots


def small(data):
    return default_model_config("image", data.input_shape, hidden=(32,), latent_dim=2, dropout=0.1)


def digest(model) -> str:
    return hashlib.sha256(b"".join(v.numpy().tobytes() for v in model.state_dict().values())).hexdigest()


def threads_seen_while_training(monkeypatch, data, cfg: TrainConfig) -> list[int]:
    """torch's thread count in the job's own thread at every event it trains through."""
    seen: list[int] = []
    real = vae_core.runs.train

    def spy(*args, **kwargs):
        for event in real(*args, **kwargs):
            seen.append(torch.get_num_threads())
            yield event

    monkeypatch.setattr(vae_core.runs, "train", spy)
    job = TrainJob.new(data, small(data), cfg, Slots(2), lambda job: None).start()
    assert job.done.wait(120) and job.status == "finished", job.snapshot().message
    return seen


def test_a_job_trains_on_its_runs_threads_and_the_server_keeps_its_own(monkeypatch, mnist_small):
    # a 2-thread job beside the server and a browser on 2 cores trained 12x slower than with 1 thread, and a
    # thread count that followed the number of jobs would make a run depend on who else trains
    before = torch.get_num_threads()
    assert set(threads_seen_while_training(monkeypatch, mnist_small, TrainConfig(epochs=1, batch_size=256))) == {1}
    assert set(threads_seen_while_training(monkeypatch, mnist_small,
                                           TrainConfig(epochs=1, batch_size=256, threads=2))) == {2}
    assert torch.get_num_threads() == before  # the setting stayed in the job's thread


def test_two_visitors_training_at_once_get_the_weights_of_a_run_trained_alone(mnist_small, tmp_path):
    cfg = TrainConfig(epochs=2, batch_size=64, seed=7)
    alone = fit(mnist_small, small(mnist_small), cfg, iwae_k=0)
    store, slots = WorkspaceStore(RunStore(tmp_path)), Slots(2)
    jobs = []
    for key in ("visitor-a", "visitor-b"):
        space = store.get(key)
        space.set_data(mnist_small, "bundled:mnist")
        space.job = space.new_job(small(mnist_small), cfg, slots).start()
        jobs.append(space.job)
    for job in jobs:
        assert job.done.wait(300) and job.status == "finished", job.snapshot().message
    assert digest(jobs[0].run.model) == digest(jobs[1].run.model) == digest(alone.model)
    assert [r.id for r in store.get("visitor-a").runs] == [jobs[0].run.id]  # each run went to its own workspace
    assert digest(RunStore(tmp_path).load(jobs[1].run.id, store.get("visitor-b").code).model) == digest(alone.model)


def test_two_runs_in_one_workspace_and_stop_and_continue_match_a_straight_run(mnist_small, tmp_path):
    cfg = TrainConfig(epochs=3, batch_size=64, seed=3)
    space = WorkspaceStore(RunStore(tmp_path)).get("one")
    space.set_data(mnist_small, "bundled:mnist")
    slots = Slots(1)
    weights = []
    for _ in range(2):
        space.job = space.new_job(small(mnist_small), cfg, slots).start()
        assert space.job.done.wait(300)
        weights.append(digest(space.job.run.model))
    # stop the third one after a few steps, then continue it up to the same 3 epochs
    job = space.new_job(small(mnist_small), cfg, slots)

    class StopAfterStep11(list):
        def append(self, event):
            super().append(event)
            if event.kind == "step" and event.step == 11:
                job.stop()

    job.run.events = StopAfterStep11()
    space.job = job.start()
    assert job.done.wait(300) and job.status == "stopped"
    run = space.run(job.run.id)
    run.events = list(run.events)
    assert run is not None and run.state.step == 11
    space.job = space.continue_job(run, 3, slots).start()
    assert space.job.done.wait(300) and space.job.status == "finished"
    assert weights[0] == weights[1] == digest(run.model)


def test_a_full_server_makes_room_only_from_workspaces_the_store_can_give_back(mnist_small, tmp_path):
    from dashboard.workspaces import ServerFull

    spaces = WorkspaceStore(RunStore(tmp_path), max_workspaces=3,
                            data_for=lambda info: mnist_small if info.get("source") == "mnist" else None)
    keeper = spaces.get("uploaded")
    keeper.set_data(mnist_small, "upload:my.csv")  # an upload: only this visitor has it
    trainer = spaces.get("training")
    trainer.set_data(mnist_small, "bundled:mnist")
    trainer.job = trainer.new_job(small(mnist_small), TrainConfig(epochs=200), Slots(1)).start()
    try:
        idle = spaces.get("idle")
        idle.set_data(mnist_small, "bundled:mnist")
        code = idle.code
        for n in range(5):  # a flood of new visitors: each one evicts the idle bundled-data workspace only
            spaces.get(f"flood-{n}")
        assert spaces.get("uploaded") is keeper and spaces.get("training") is trainer and trainer.job.active
        back = spaces.get("idle")  # made again: the same code (its runs), the same data choice
        assert back is not idle and back.code == code and back.data_source == "bundled:mnist"
        keeper2 = spaces.get("uploaded")
        assert keeper2 is keeper
        spaces.get("idle").set_data(mnist_small, "upload:other.csv")
        with pytest.raises(ServerFull, match="training or hold uploaded data"):
            spaces.get("one-too-many")  # nothing can go: the newcomer is told, nobody is evicted
        assert {"uploaded", "training", "idle"} <= set(spaces._spaces)
    finally:
        trainer.job.stop()
        trainer.job.done.wait(60)


def test_a_full_workspace_quota_fails_the_job_with_a_message_and_writes_nothing(mnist_small, tmp_path):
    store = RunStore(tmp_path, quota_bytes=50_000)  # far less than one run's weights and state
    space = WorkspaceStore(store).get("full")
    space.set_data(mnist_small, "bundled:mnist")
    job = space.new_job(small(mnist_small), TrainConfig(epochs=1), Slots(1)).start()
    assert job.done.wait(60) and job.status == "failed"
    assert "disk space is full" in job.snapshot().message and "nothing was written" in job.snapshot().message
    assert space.entries() == [] and not any((tmp_path / "workspaces").rglob("config.json"))
