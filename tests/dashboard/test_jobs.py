"""Training jobs in the server: how they share the cores."""
from __future__ import annotations

import torch

from dashboard import jobs
from dashboard.jobs import JobSlots, TrainJob
from vae_core.config import TrainConfig, default_model_config


def threads_seen_while_training(monkeypatch, data, slots: JobSlots) -> list[int]:
    """torch's thread count in the job's own thread at every event it trains through."""
    seen: list[int] = []
    real = jobs.train

    def spy(*args, **kwargs):
        for event in real(*args, **kwargs):
            seen.append(torch.get_num_threads())
            yield event

    monkeypatch.setattr(jobs, "train", spy)
    job = TrainJob(data, default_model_config("image", data.input_shape, hidden=(32,), latent_dim=2),
                   TrainConfig(epochs=1, batch_size=256), slots, lambda job: None).start()
    assert job.done.wait(120) and job.result is not None, job.message
    return seen


def test_a_lone_job_leaves_a_share_of_the_cores_to_the_server_and_the_browser(monkeypatch, mnist_small):
    # a 2-thread job beside the server and a browser on 2 cores trained 12x slower than with 1 thread
    monkeypatch.setattr(jobs, "THREADS", 4)
    seen = threads_seen_while_training(monkeypatch, mnist_small, JobSlots(2))
    assert seen and set(seen) == {2}  # 4 cores shared 2 ways: this job and the server


def test_on_two_cores_a_job_trains_on_one_thread_and_the_server_keeps_its_own(monkeypatch, mnist_small):
    monkeypatch.setattr(jobs, "THREADS", 2)
    before = torch.get_num_threads()
    seen = threads_seen_while_training(monkeypatch, mnist_small, JobSlots(2))
    assert seen and set(seen) == {1}
    assert torch.get_num_threads() == before  # the setting stayed in the job's thread
