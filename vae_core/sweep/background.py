"""A sweep as a background Task, for an app that polls it (the dashboard's Sweep page). No UI calls here.

Trials run one after another in this process (the in-process engine, same driver as the CLI) on a data
set already in memory. With `slots`, each trial waits for a process-wide training slot, so sweeps and
training jobs share the cores; each trial trains on its config's threads.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..dataset import Dataset
from ..run import Run, Status
from ..tasks import Slots, Task
from . import search
from .engines import InlineEngine
from .trial import TrialTask


@dataclass(frozen=True)
class SweepSnapshot:
    """A consistent copy of a background sweep's progress for one redraw."""

    status: Status  # queued | running | finished | stopped | failed
    rows: list[dict[str, Any]]  # one per finished trial, in the order they finished (failed ones too)
    total: int  # trials planned
    current: dict[str, Any] | None  # the swept values of the trial running or waiting now
    message: str
    seconds: float


class SweepTask(Task):
    """Runs `search.run(plan, InlineEngine(data))` in a daemon thread; Stop ends it after the current step."""

    def __init__(self, plan: search.Plan, data: Dataset, slots: Slots | None = None) -> None:
        super().__init__(self._sweep, name="sweep")
        self.plan, self.data, self._trial_slots = plan, data, slots
        self.rows: list[dict[str, Any]] = []
        self.runs: dict[str, Run] = {}  # trial key -> its trained run
        self.total = 0
        self.current: dict[str, Any] | None = None

    def snapshot(self) -> SweepSnapshot:
        task = super().snapshot()
        with self.lock:
            return SweepSnapshot(task.status, list(self.rows), self.total, self.current, task.message, task.seconds)

    def run_of(self, key: str) -> Run | None:
        """The trained run of a finished trial (by its key)."""
        with self.lock:
            return self.runs.get(key)

    def _before(self, task: TrialTask) -> bool:
        self.set(current=task.params, status="queued" if self._trial_slots else "running")
        if self._trial_slots is not None and not self._trial_slots.acquire(self.id, self.stop_event.is_set):
            return False
        self.set(status="running")
        return True

    def _after(self) -> None:
        if self._trial_slots is not None:
            self._trial_slots.release()

    def _progress(self, p: search.Progress) -> None:
        with self.lock:
            self.total = p.total
            if p.row is not None:
                self.rows.append(p.row)
            if p.run is not None:
                self.runs[p.row["key"]] = p.run

    def _sweep(self, _: Task) -> search.Outcome:
        engine = InlineEngine(self.data, should_stop=self.stop_event.is_set, acquire=self._before, release=self._after)
        outcome = search.run(self.plan, engine, None, on_progress=self._progress, should_stop=self.stop_event.is_set)
        self.set(current=None, message=outcome.note or f"{len(outcome.new)} of {outcome.total} trials finished")
        return outcome

    def final_status(self, result: search.Outcome) -> Status:
        return "stopped" if result.stopped else "finished"
