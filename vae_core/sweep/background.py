"""A sweep in a daemon thread, for an app that polls it (the dashboard's Sweep page). No UI calls here.

Trials run one after another in this process (the in-process engine, same driver as the CLI) on a data
set already in memory. `acquire`/`release` let the app hold a server-wide training slot per trial;
`threads` caps torch's threads for this thread's trials (torch's OpenMP backend keeps that per thread),
so slots x threads can match the cores.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..checkpoint import Run
from ..dataset import Dataset
from . import search
from .engines import InlineEngine
from .trial import TrialTask


@dataclass(frozen=True)
class SweepSnapshot:
    """A consistent copy of a background sweep's progress for one redraw."""

    status: str  # starting | queued | running | finished | stopped | failed
    rows: list[dict[str, Any]]  # one per finished trial, in the order they finished (failed ones too)
    total: int  # trials planned
    current: dict[str, Any] | None  # the swept values of the trial running or waiting now
    message: str
    seconds: float


class BackgroundSweep:
    """Runs `search.run(plan, InlineEngine(data))` in a daemon thread; Stop ends it after the current step."""

    def __init__(self, plan: search.Plan, data: Dataset,
                 acquire: Callable[[str, Callable[[], bool]], bool] | None = None,
                 release: Callable[[], None] | None = None, threads: int | None = None) -> None:
        self.id = uuid.uuid4().hex
        self.plan, self.data, self.threads = plan, data, threads
        self._acquire, self._release = acquire, release
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.done = threading.Event()
        self.status, self.message = "starting", ""
        self.rows: list[dict[str, Any]] = []
        self.runs: dict[str, Run] = {}  # trial key -> its trained run
        self.total = 0
        self.current: dict[str, Any] | None = None
        self.started, self.ended = time.time(), None
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"sweep-{self.id[:8]}")

    def start(self) -> "BackgroundSweep":
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop after the current training step; finished trials are kept, the current one is dropped."""
        self.stop_event.set()

    @property
    def active(self) -> bool:
        return not self.done.is_set()

    def snapshot(self) -> SweepSnapshot:
        with self.lock:
            end = self.ended if self.ended is not None else time.time()
            return SweepSnapshot(self.status, list(self.rows), self.total, self.current, self.message,
                                 end - self.started)

    def run_of(self, key: str) -> Run | None:
        """The trained run of a finished trial (by its key)."""
        with self.lock:
            return self.runs.get(key)

    def _set(self, **kw) -> None:
        with self.lock:
            for k, v in kw.items():
                setattr(self, k, v)

    def _before(self, task: TrialTask) -> bool:
        self._set(current=task.params, status="queued" if self._acquire else "running")
        if self._acquire is not None and not self._acquire(self.id, self.stop_event.is_set):
            return False
        self._set(status="running")
        return True

    def _progress(self, p: search.Progress) -> None:
        with self.lock:
            self.total = p.total
            if p.row is not None:
                self.rows.append(p.row)
            if p.run is not None:
                self.runs[p.row["key"]] = p.run

    def _run(self) -> None:
        try:
            engine = InlineEngine(self.data, should_stop=self.stop_event.is_set, acquire=self._before,
                                  release=self._release, threads=self.threads)
            outcome = search.run(self.plan, engine, None, on_progress=self._progress,
                                 should_stop=self.stop_event.is_set)
            status = "stopped" if outcome.stopped else "finished"
            self._set(status=status, current=None,
                      message=outcome.note or f"{len(outcome.new)} of {outcome.total} trials finished")
        except Exception as exc:  # noqa: BLE001 - the thread must end cleanly and say why
            self._set(status="failed", current=None, message=f"{type(exc).__name__}: {exc}")
        finally:
            self._set(ended=time.time())
            self.done.set()
