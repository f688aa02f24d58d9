"""Background training: a `TrainJob` is a vae_core Task that trains one Run and never touches Streamlit.

The page polls `snapshot()` from an `st.fragment(run_every=...)`. The server-wide `Slots` let only a few
jobs train at once; the rest wait in a queue and can see their place in it. While it trains, the run is
saved to the run store (a checkpoint every epoch and at Stop, through `writer`), so a server killed mid-run
leaves it interrupted at its last checkpoint, not lost. When a job ends, however it ends, it hands its run to
the owner's workspace (`on_done`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_core import analysis
from vae_core.config import ModelConfig, TrainConfig
from vae_core.dataset import Dataset
from vae_core.run import Run, Status
from vae_core.runs import finish_run, new_run, train_run
from vae_core.store_writer import RunWriter
from vae_core.tasks import Slots, Task
from vae_core.training import TrainEvent

LIVE_MAP_POINTS = 1000  # latent means redrawn every epoch: enough to see clusters, cheap to encode


@dataclass
class LiveMap:
    """Latent means of a fixed subsample after some epoch: 2-D latents as they are, else their PCA."""

    epoch: int
    coords: np.ndarray  # (n, 2)
    labels: list[str]  # (n,) for colour
    method: str  # "z" (the latent is 2-D) or "PCA"


@dataclass
class JobSnapshot:
    """A consistent copy of a job's progress for one redraw."""

    status: Status
    events: list[TrainEvent]  # the run's whole history, this job's steps last
    live_map: LiveMap | None
    queue_position: int | None
    message: str
    seconds: float


class TrainJob(Task):
    """Trains `run` (a new one, or one to continue up to `epochs`) in a daemon thread; Stop keeps what was learned."""

    def __init__(self, run: Run, slots: Slots, on_done: Callable[[TrainJob], None], epochs: int | None = None,
                 writer: Callable[[Run], RunWriter] | None = None,
                 after_save: Callable[[Path], None] | None = None) -> None:
        super().__init__(self._train, name="train", slots=slots, on_done=on_done)
        self.run, self.data, self.epochs = run, run.data, epochs
        self._writer, self._after_save = writer, after_save
        self.continues = run.id if run.events else None  # the run this job continues, if any
        self.live_map: LiveMap | None = None
        self._map_index = analysis.subsample(len(self.data.x), LIVE_MAP_POINTS, seed=0)

    @classmethod
    def new(cls, data: Dataset, model_cfg: ModelConfig, train_cfg: TrainConfig, slots: Slots,
            on_done: Callable[[TrainJob], None]) -> TrainJob:
        """A job that trains a fresh run on `data`."""
        return cls(new_run(data, model_cfg, train_cfg), slots, on_done)

    @property
    def train_cfg(self) -> TrainConfig:
        return self.run.train_cfg

    def snapshot(self) -> JobSnapshot:
        task = super().snapshot()
        with self.lock:
            return JobSnapshot(task.status, list(self.run.events), self.live_map, task.queue_position, task.message,
                               task.seconds)

    def final_status(self, result: Run) -> Status:
        return result.status

    def _train(self, _: Task) -> Run:
        run, data = self.run, self.data
        writer = self._writer(run) if self._writer is not None else None  # a full store fails the job here
        try:
            self.set(live_map=self._latent_map(run.state.epoch if run.state else 0))
            for ev in train_run(run, data, self.epochs):
                if writer is not None:
                    writer.event(ev)  # a checkpoint at each epoch's end
                if ev.kind == "epoch" and (ev.phase == "val" or not len(data.indices("val"))):
                    self.set(live_map=self._latent_map(ev.epoch))
                if self.stopping:
                    break
            if self.stopping and writer is not None:
                writer.stopped()  # saved at the step it stopped at, before the evaluation
            self.set(status="evaluating", message="evaluating on the test part")
            done = run.state.epoch
            finish_run(run, stopped_message=f"stopped by you after {done} full epoch{'s' * (done != 1)}; "
                                            f"kept what was learned")
            if writer is not None:
                writer.finished()
        finally:
            if writer is not None:
                writer.close()
        if writer is not None and self._after_save is not None:
            self._after_save(writer.folder)
        self.set(message=run.message)
        return run

    def _latent_map(self, epoch: int) -> LiveMap:
        labels = self.data.y[self._map_index] if self.run.model.classes else None
        mu = analysis.encode_means(self.run.model, self.data.x[self._map_index], labels)
        coords, method = (mu, "z") if mu.shape[1] == 2 else (analysis.pca_2d(mu)[0], "PCA")
        labels = [self.data.label_text(int(i)) for i in self._map_index] if self.data.y is not None else []
        return LiveMap(epoch, coords, labels, method)
