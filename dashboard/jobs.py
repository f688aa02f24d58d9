"""Background training: a plain thread runs vae_core's `train` and never touches Streamlit.

The page polls a `TrainJob` through `snapshot()` from an `st.fragment(run_every=...)`. A server-wide
`JobSlots` lets only a few jobs train at once (2 cores); the rest wait in a queue and can see their
place in it. When a job ends, however it ends, it hands its run to the owner's workspace.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from vae_core import analysis
from vae_core.config import ModelConfig, TrainConfig
from vae_core.dataset import DataError, Dataset
from vae_core.models import VAE
from vae_core.runs import new_model, summarize
from vae_core.training import TrainEvent, TrainState, train

LIVE_MAP_POINTS = 1000  # latent means redrawn every epoch: enough to see clusters, cheap to encode
THREADS = torch.get_num_threads()  # torch's intra-op threads (one per core) when the server started


class JobSlots:
    """At most `limit` jobs train at once, server-wide; the others wait first come, first served."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._cond = threading.Condition()
        self._running = 0
        self._queue: deque[str] = deque()

    def acquire(self, job_id: str, should_stop: Callable[[], bool]) -> bool:
        """Wait for a free slot; False if `should_stop()` turned true while waiting."""
        with self._cond:
            self._queue.append(job_id)
            while self._running >= self.limit or self._queue[0] != job_id:
                if should_stop():
                    self._queue.remove(job_id)
                    self._cond.notify_all()
                    return False
                self._cond.wait(0.1)
            self._queue.popleft()
            self._running += 1
            self._cond.notify_all()
            return True

    def release(self) -> None:
        with self._cond:
            self._running -= 1
            self._cond.notify_all()

    def position(self, job_id: str) -> int | None:
        """1-based place of a waiting job in the queue, None once it runs."""
        with self._cond:
            return self._queue.index(job_id) + 1 if job_id in self._queue else None

    @property
    def running(self) -> int:
        with self._cond:
            return self._running


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

    status: str  # queued | running | evaluating | finished | stopped | diverged | early_stopped | failed
    events: list[TrainEvent]
    live_map: LiveMap | None
    queue_position: int | None
    message: str
    seconds: float


@dataclass
class JobResult:
    """What a finished job hands over: the trained model and its history."""

    model: VAE
    train_cfg: TrainConfig
    data: Dataset
    state: TrainState
    events: list[TrainEvent]
    summary: dict
    status: str
    message: str


class TrainJob:
    """Trains one model in a daemon thread; Stop keeps what was learned."""

    def __init__(self, data: Dataset, model_cfg: ModelConfig, train_cfg: TrainConfig, slots: JobSlots,
                 on_done: Callable[["TrainJob"], None], *, model: VAE | None = None, state: TrainState | None = None,
                 history: list[TrainEvent] | None = None, continues: str | None = None) -> None:
        self.id = uuid.uuid4().hex
        self.data, self.model_cfg, self.train_cfg = data, model_cfg, train_cfg
        self.continues = continues  # id of the run this job continues, if any
        self._model, self._state = model, state
        self._history = list(history or [])
        self._slots, self._on_done = slots, on_done
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.done = threading.Event()
        self.events: list[TrainEvent] = []
        self.status = "queued"
        self.message = ""
        self.live_map: LiveMap | None = None
        self.result: JobResult | None = None
        self.started = time.time()
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"train-{self.id[:8]}")
        self._map_index = analysis.subsample(len(data.x), LIVE_MAP_POINTS, seed=0)

    def start(self) -> "TrainJob":
        self.thread.start()
        return self

    def stop(self) -> None:
        """Ask the job to stop after the current step; it keeps what it learned."""
        self.stop_event.set()

    @property
    def active(self) -> bool:
        return not self.done.is_set()

    def snapshot(self) -> JobSnapshot:
        with self.lock:
            return JobSnapshot(self.status, list(self.events), self.live_map, self._slots.position(self.id),
                               self.message, time.time() - self.started)

    def _set(self, **kw) -> None:
        with self.lock:
            for k, v in kw.items():
                setattr(self, k, v)

    def _run(self) -> None:
        acquired = False
        try:
            acquired = self._slots.acquire(self.id, self.stop_event.is_set)
            if not acquired:
                self._set(status="stopped", message="stopped while waiting in the queue; nothing was trained")
                return
            self._set(status="running")
            self._train()
        except DataError as exc:  # the settings do not fit the data: a message, not a crash
            self._set(status="failed", message=str(exc))
        except Exception as exc:  # noqa: BLE001 - the thread must always end cleanly and say why
            self._set(status="failed", message=f"training failed: {type(exc).__name__}: {exc}")
        finally:
            if acquired:
                self._slots.release()
                # threads started later (script runs) take torch's last setting: leave the server's default
                torch.set_num_threads(THREADS)
            try:
                self._on_done(self)  # hand the run over before anyone can see `done`
            finally:
                self.done.set()

    def _train(self) -> None:
        model = self._model or new_model(self.model_cfg, self.train_cfg.seed)
        state = self._state or TrainState(model, self.train_cfg)
        end: TrainEvent | None = None
        self._share_cores()
        self._set(live_map=self._latent_map(model, state.epoch))
        for ev in train(model, self.data, self.train_cfg, state):
            with self.lock:
                self.events.append(ev)
            self._share_cores()
            if ev.kind == "end":
                end = ev
            elif ev.kind == "epoch" and (ev.phase == "val" or not len(self.data.indices("val"))):
                self._set(live_map=self._latent_map(model, ev.epoch))
            if self.stop_event.is_set():
                break
        status = end.reason if end else "stopped"
        message = end.message if end else f"stopped by you after {state.epoch} full epoch{'s' * (state.epoch != 1)}; kept what was learned"
        self._set(status="evaluating", message="evaluating on the test part")
        events = self._history + self.events
        summary = summarize(model, self.data, self.train_cfg, events)
        self.result = JobResult(model, self.train_cfg, self.data, state, events, summary, status, message)
        self._set(status=status, message=message)

    def _share_cores(self) -> None:
        """Give this job's thread its share of torch's threads, leaving one share to the server and the browser.

        OpenMP teams stall at every parallel region when one of their threads is descheduled: on 2 cores,
        a 2-thread job beside the server's script runs and a browser drawing the curves trained at 1,500
        samples/s, the same job with 1 thread at 20,000 (bench/browser.py). So n running jobs share the
        cores n + 1 ways (one thread each on 2 cores, 8 for a lone job on 16). The setting is per thread
        for a running thread, so each job sets its own, between steps.
        """
        threads = max(1, THREADS // (self._slots.running + 1))
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)

    def _latent_map(self, model: VAE, epoch: int) -> LiveMap:
        mu = analysis.encode_means(model, self.data.x[self._map_index])
        coords, method = (mu, "z") if mu.shape[1] == 2 else (analysis.pca_2d(mu)[0], "PCA")
        labels = [self.data.label_text(int(i)) for i in self._map_index] if self.data.y is not None else []
        return LiveMap(epoch, coords, labels, method)
