"""Trains a lesson's runs one after another, in the background, through the normal training machinery.

Each run is an ordinary `TrainJob` set as the workspace's job, so it waits its turn in the server-wide
`Slots` queue, shows up in the sidebar and on the Train page while it trains, and becomes an ordinary run
(Runs page, Latent space, ...) when it ends. The runner itself is a vae_core `Task` that strings the jobs
together; it never touches Streamlit. The Learn page polls `snapshot()`.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from vae_core.config import ModelConfig, TrainConfig
from vae_core.dataset import Dataset
from vae_core.run import Run, Status
from vae_core.tasks import Slots, Task

from ..jobs import JobSnapshot, TrainJob
from ..workspace import Workspace
from .common import Step

POLL = 0.2


def key(number: int) -> tuple[str, int]:
    """Where a lesson's runner lives in the workspace's `background` dict."""
    return ("lesson", number)


@dataclass
class LessonSnapshot:
    """A consistent copy of a runner's progress for one redraw."""

    status: Status  # running | finished | stopped | failed
    index: int  # step being trained (0-based); == total when all are done
    total: int
    names: list[str]
    run_ids: list[str]  # runs trained so far, in step order
    job: JobSnapshot | None  # the job training now
    epochs: int  # epochs the current step trains
    waiting_for_own_job: bool  # the visitor's own training job is using the workspace
    analysing: bool  # every run trained; the lesson's slow analysis (t-SNE, ...) is running
    error: str
    seconds: float


class LessonRunner(Task):
    """Runs `plans` (step, model config, train config) on `data`, one TrainJob after another."""

    def __init__(self, number: int, data: Dataset, plans: list[tuple[Step, ModelConfig, TrainConfig]],
                 ws: Workspace, slots: Slots, after: Callable[[list[Run]], None] | None = None) -> None:
        super().__init__(self._work, name=f"lesson-{number}")
        self.number = number
        self.data, self.plans, self._after = data, plans, after
        self.analysing = False
        self._ws, self._slots = ws, slots
        self.run_ids: list[str] = []
        self.index = 0
        self.job: TrainJob | None = None
        self.waiting = False

    def stop(self) -> None:
        """Stop the lesson: the run in training keeps what it learned (as a stopped run); the rest never start."""
        super().stop()
        job = self.job
        if job is not None:
            job.stop()

    def snapshot(self) -> LessonSnapshot:
        task = super().snapshot()
        with self.lock:
            job = self.job
            index = self.index
            run_ids = list(self.run_ids)
            waiting = self.waiting
            analysing = self.analysing
        epochs = self.plans[min(index, len(self.plans) - 1)][2].epochs
        return LessonSnapshot(task.status, index, len(self.plans), [s.name for s, _, _ in self.plans], run_ids,
                              job.snapshot() if job is not None and job.active else None, epochs, waiting,
                              analysing, self.error, task.seconds)

    # ---- the background thread -------------------------------------------------------------------------
    def _work(self, _: Task) -> list[str]:
        report = self.report
        total = len(self.plans)
        for i, (step, model_cfg, train_cfg) in enumerate(self.plans):
            with self.lock:
                self.index = i
            job = self._start_job(model_cfg, train_cfg, lambda i=i: report(i / total))
            if job is None:
                return self.run_ids
            while not job.done.wait(POLL):
                if report((i + self._fraction(job)) / total):
                    job.stop()
            run = self._run_of(job)
            if run is not None:
                with self.lock:
                    self.run_ids.append(run.id)
            if self.stopping:
                return self.run_ids
            if run is None:  # the settings did not fit the data, or training crashed: say so, go no further
                raise RuntimeError(f"{step.name}: {job.message or job.status}")
        with self.lock:
            self.index, self.analysing = total, self._after is not None
        if self._after is not None:
            runs = [self._ws.run(i) for i in self.run_ids]
            if all(r is not None for r in runs):
                self._after(runs)
        return self.run_ids

    def _start_job(self, model_cfg: ModelConfig, train_cfg: TrainConfig, stopped) -> TrainJob | None:
        """Make this step the workspace's job once the visitor's own job (if any) has ended."""
        ws = self._ws
        while True:
            with ws.lock:
                if ws.job is None or not ws.job.active:
                    job = ws.new_job(model_cfg, train_cfg, self._slots, data=self.data)
                    with self.lock:
                        self.job, self.waiting = job, False
                    ws.job = job.start()
                    return job
            with self.lock:
                self.waiting = True
            if stopped():
                return None
            time.sleep(POLL)

    @staticmethod
    def _fraction(job: TrainJob) -> float:
        snap = job.snapshot()
        last = next((e for e in reversed(snap.events) if e.kind == "step"), None)
        return min(1.0, last.step / max(last.total_steps, 1)) if last else 0.0

    def _run_of(self, job: TrainJob) -> Run | None:
        """The run the finished job handed to the workspace (None when it failed before training)."""
        return self._ws.run(job.run.id)
