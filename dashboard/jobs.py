"""Background training: a `TrainJob` is a vae_core Task that trains one Run and never touches Streamlit.

The page polls `snapshot()` from an `st.fragment(run_every=...)`. The server-wide `Slots` let only a few
jobs train at once; the rest wait in a queue and can see their place in it. A job can be paused between two
steps (it keeps its slot), stepped one optimiser step at a time, and resumed; a run paused and stepped ends
with the weights of one that never paused. While it trains, the run is
saved to the run store (a checkpoint every epoch and at Stop, through `writer`), so a server killed mid-run
leaves it interrupted at its last checkpoint, not lost. When a job ends, however it ends, it hands its run to
the owner's workspace (`on_done`).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from vae_core import analysis, store_files
from vae_core.config import ModelConfig, TrainConfig
from vae_core.dataset import Dataset
from vae_core.latent_history import FILE as MAPS_FILE
from vae_core.latent_history import HistoryError, LatentHistory
from vae_core.run import Run, Status
from vae_core.runs import finish_run, new_run, train_run
from vae_core.store_writer import RunWriter
from vae_core.tasks import Slots, Task
from vae_core.training import Change, TrainEvent

LIVE_MAP_POINTS = 1000  # latent means redrawn every epoch: enough to see clusters, cheap to encode
T = TypeVar("T")


@dataclass
class LiveMap:
    """Latent means of a fixed subsample after some epoch: 2-D latents as they are, else their PCA (turned to
    match the epoch before), with the axes' extent over every epoch so far (the frame holds still)."""

    epoch: int
    coords: np.ndarray  # (n, 2)
    labels: list[str]  # (n,) for colour
    method: str  # "z" (the latent is 2-D) or "PCA"
    extent: tuple[float, float, float, float] = (-1.0, 1.0, -1.0, 1.0)


@dataclass
class JobSnapshot:
    """A consistent copy of a job's progress for one redraw."""

    status: Status
    events: list[TrainEvent]  # the run's whole history, this job's steps last
    live_map: LiveMap | None
    queue_position: int | None
    message: str
    seconds: float
    paused: bool = False  # Pause was pressed and not resumed
    evaluating: bool = False  # the run is scored on the test part (after it finished or was stopped)
    held: bool = False  # the training thread is waiting between two steps (paused, or after a Step)


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
        index = analysis.subsample(len(self.data.x), LIVE_MAP_POINTS, seed=0)
        labels = [self.data.label_text(int(i)) for i in index] if self.data.y is not None else []
        self.history = LatentHistory(index, labels)
        self._gate = threading.Condition()  # pause, step and resume meet the training thread here
        self._paused = False
        self._steps_allowed = 0  # Step presses not yet taken
        self._held = False
        self.evaluating = False

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
        with self._gate:
            paused, held = self._paused, self._held
        with self.lock:
            return JobSnapshot(task.status, list(self.run.events), self.live_map, task.queue_position, task.message,
                               task.seconds, paused=paused, held=held, evaluating=self.evaluating)

    # ---- knobs, pause, step, resume (called from the page's thread) --------------------------------------------
    def change(self, name: str, value: float) -> Change:
        """Set a live setting (β, learning rate, free bits) from the next step on; ConfigError if not allowed."""
        return self.run.state.change(name, value)

    def pause(self, wait: float = 0.0) -> None:
        """Hold the run before its next step; nothing is lost and it keeps its training slot. With `wait`, wait
        (at most that many seconds) until it holds: the page that reruns next says 'paused' at once."""
        with self._gate:
            self._paused = True
        if wait:
            self.wait_held(0, wait)

    def resume(self) -> None:
        with self._gate:
            self._paused, self._steps_allowed = False, 0
            self._gate.notify_all()

    def step_once(self) -> None:
        """A paused run takes one optimiser step (on its next batch), then holds again."""
        with self._gate:
            if self._paused:
                self._steps_allowed += 1
                self._gate.notify_all()

    def stop_and_wait(self, timeout: float = 1.0) -> None:
        """Ask the run to stop, then wait (at most `timeout`) until it says so: the page that reruns next shows
        'stopped' at once instead of one poll later (the run stops after its current step)."""
        self.stop()
        deadline = time.monotonic() + timeout
        while self.active and self.status in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.02)

    def wait_held(self, after_step: int, timeout: float = 5.0) -> bool:
        """Wait until the run holds after optimiser step `after_step` or later (True), or the job ends (False)."""
        deadline = time.monotonic() + timeout
        with self._gate:
            while not (self._held and self.run.state.step >= after_step):
                left = deadline - time.monotonic()
                if left <= 0 or not self.active:
                    return False
                self._gate.wait(min(left, 0.05))
            return True

    def while_held(self, look: Callable[[object], T]) -> T | None:
        """`look(model)` while the training thread waits between steps, so it sees one consistent model; None when
        the run is not held (it is training: a look now could see weights half-updated)."""
        with self._gate:
            if not self._held:
                return None
            return look(self.run.model)

    def _hold(self) -> None:
        """In the training thread, after a step: wait while paused, unless a Step press lets one more step go."""
        with self._gate:
            while self._paused and not self._steps_allowed and not self.stopping:
                self._held = True
                self._gate.notify_all()
                self._gate.wait(0.1)
            self._held = False
            if self._paused and self._steps_allowed:
                self._steps_allowed -= 1

    def final_status(self, result: Run) -> Status:
        return result.status

    def _train(self, _: Task) -> Run:
        run, data = self.run, self.data
        writer = self._writer(run) if self._writer is not None else None  # a full store fails the job here
        try:
            if writer is not None:
                self._load_history(writer.folder)
            self.set(live_map=self._latent_map(run.state.epoch if run.state else 0, writer))
            for ev in train_run(run, data, self.epochs):
                if writer is not None:
                    writer.event(ev)  # a checkpoint at each epoch's end
                if ev.kind == "epoch" and (ev.phase == "val" or not len(data.indices("val"))):
                    self.set(live_map=self._latent_map(ev.epoch, writer))
                if ev.kind == "step" and not self.stopping:
                    self._hold()
                if self.stopping:
                    break
            done = run.state.epoch
            stopped = f"stopped by you after {done} full epoch{'s' * (done != 1)}; kept what was learned"
            if self.stopping:
                if writer is not None:
                    writer.stopped()  # saved at the step it stopped at, before the evaluation
                # said at once; the evaluation on the test part follows in this thread, visibly (`evaluating`)
                self.set(status="stopped", message=stopped, evaluating=True)
            else:
                self.set(status="evaluating", message="evaluating on the test part", evaluating=True)
            finish_run(run, stopped_message=stopped)
            self.set(evaluating=False)
            if writer is not None:
                writer.finished()
        finally:
            if writer is not None:
                writer.close()
        if writer is not None and self._after_save is not None:
            self._after_save(writer.folder)
        self.set(message=run.message)
        return run

    def _latent_map(self, epoch: int, writer: RunWriter | None) -> LiveMap:
        """The map after `epoch`, added to the run's history (saved beside its checkpoints for the replay)."""
        h = self.history
        labels = self.data.y[h.index] if self.run.model.classes else None  # a conditional model's inputs
        frame = h.add(epoch, analysis.encode_means(self.run.model, self.data.x[h.index], labels))
        if writer is not None:
            store_files.write_atomic(writer.folder / MAPS_FILE, h.to_bytes())
        return LiveMap(frame.epoch, frame.coords, h.labels, h.method, h.extent())

    def _load_history(self, folder: Path) -> None:
        """A continued run's maps so far, so its replay covers every epoch (an unreadable file starts afresh)."""
        try:
            saved = LatentHistory.from_bytes((folder / MAPS_FILE).read_bytes())
        except (OSError, HistoryError):
            return
        if np.array_equal(saved.index, self.history.index):
            self.history = saved


def saved_history(folder: Path) -> LatentHistory | None:
    """The latent maps a run's folder keeps from its training, or None (older runs, uploads, damaged files)."""
    try:
        return LatentHistory.from_bytes((folder / MAPS_FILE).read_bytes())
    except (OSError, HistoryError):
        return None
