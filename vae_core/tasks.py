"""The one background-task type: work in a daemon thread that an app polls, and the slots that ration the cores.

A `Task` runs `work(task)` once in a daemon thread. The work reports progress with `task.report(fraction)`,
which also tells it whether it was asked to stop (cooperative), and may set a message. An app keeps the task
somewhere that outlives its script run and polls `snapshot()`. Nothing here touches a UI: training jobs, sweeps,
lessons and t-SNE maps in the dashboard are all Tasks, and so is anything else slow.

`Slots` lets only a few heavy tasks run at once per process (2 cores); the others wait first come, first
served and can see their place in the queue.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Hashable, MutableMapping
from dataclasses import dataclass
from typing import Any

from .config import ConfigError
from .dataset import DataError
from .run import Status

Report = Callable[[float], bool]  # report(fraction done in [0, 1]) -> True when asked to stop


class Slots:
    """At most `limit` heavy tasks at once, process-wide; the others wait first come, first served."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._cond = threading.Condition()
        self._running = 0
        self._queue: deque[str] = deque()

    def acquire(self, task_id: str, should_stop: Callable[[], bool]) -> bool:
        """Wait for a free slot; False if `should_stop()` turned true while waiting."""
        with self._cond:
            self._queue.append(task_id)
            while self._running >= self.limit or self._queue[0] != task_id:
                if should_stop():
                    self._queue.remove(task_id)
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

    def position(self, task_id: str) -> int | None:
        """1-based place of a waiting task in the queue, None once it runs (or was never queued)."""
        with self._cond:
            return self._queue.index(task_id) + 1 if task_id in self._queue else None

    @property
    def running(self) -> int:
        with self._cond:
            return self._running


@dataclass(frozen=True)
class TaskSnapshot:
    """A consistent copy of a task's state for one redraw."""

    status: Status  # queued | running | evaluating | finished | stopped | failed (training jobs: a run's status)
    progress: float  # 0..1
    message: str  # what it is doing (or, failed, why)
    error: str  # one line when failed, else ""
    seconds: float  # since start (or until the end)
    queue_position: int | None  # waiting for a slot: its place in line


class Task:
    """Runs `work(task)` once in a daemon thread; keeps its result or error. Stop is cooperative.

    With `slots`, the work starts only once a slot is free (status "queued" until then). When the work
    returns, the status becomes `final_status(result)`: "stopped" if it was asked to stop, else "finished";
    an exception makes it "failed" with the message. A stopped task's result is dropped. `on_done(task)` runs in the
    thread before `done` is set.
    """

    def __init__(self, work: Callable[[Task], Any], name: str = "task", slots: Slots | None = None,
                 on_done: Callable[[Task], None] | None = None) -> None:
        self.id = uuid.uuid4().hex
        self.name = name
        self._work, self._slots, self._on_done = work, slots, on_done
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.done = threading.Event()
        self.progress = 0.0
        self.status: Status = "queued" if slots is not None else "running"
        self.message = ""
        self.result: Any = None
        self.error = ""
        self.started = time.time()
        self.ended: float | None = None
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"{name}-{self.id[:8]}")

    def start(self) -> Task:
        self.thread.start()
        return self

    def stop(self) -> None:
        """Ask the work to stop at its next report (or while it waits for a slot)."""
        self.stop_event.set()

    @property
    def active(self) -> bool:
        return not self.done.is_set()

    @property
    def stopping(self) -> bool:
        return self.stop_event.is_set()

    def report(self, fraction: float) -> bool:
        """Progress in [0, 1]; returns True when the work should stop."""
        with self.lock:
            self.progress = min(1.0, max(self.progress, float(fraction)))
        return self.stop_event.is_set()

    def set(self, **fields: Any) -> None:
        """Change fields (status, message, ...) under the lock, so a snapshot never sees half an update."""
        with self.lock:
            for k, v in fields.items():
                setattr(self, k, v)

    def snapshot(self) -> TaskSnapshot:
        position = self._slots.position(self.id) if self._slots is not None else None
        with self.lock:
            end = self.ended if self.ended is not None else time.time()
            return TaskSnapshot(self.status, self.progress, self.error or self.message, self.error, end - self.started,
                                position)

    def final_status(self, result: Any) -> Status:
        """The status once the work has returned (subclasses: e.g. the status of the run it trained)."""
        return "stopped" if self.stop_event.is_set() else "finished"

    def _run(self) -> None:
        acquired = False
        try:
            if self._slots is not None:
                acquired = self._slots.acquire(self.id, self.stop_event.is_set)
                if not acquired:
                    self.set(status="stopped", message="stopped while waiting in the queue; nothing was done")
                    return
                self.set(status="running")
            result = self._work(self)
            status = self.final_status(result)
            # a stopped task's result is dropped (a partial t-SNE map); a training job keeps its run in job.run
            self.set(status=status, result=None if status == "stopped" else result)
            if status == "finished":
                self.set(progress=1.0)
        except Exception as exc:  # noqa: BLE001 - the thread must end cleanly and say why
            self.set(status="failed", error=_failure(exc))
        finally:
            if acquired:
                self._slots.release()
            self.set(ended=time.time())
            try:
                if self._on_done is not None:
                    self._on_done(self)  # hand the result over before anyone can see `done`
            finally:
                self.done.set()


def _failure(exc: Exception) -> str:
    """A user's mistake (bad data or settings) speaks for itself; anything else names its type."""
    return str(exc) if isinstance(exc, (DataError, ConfigError)) else f"{type(exc).__name__}: {exc}"


def get_or_start(registry: MutableMapping[Hashable, Any], key: Hashable, make: Callable[[], Task],
                 lock: threading.RLock | threading.Lock) -> Task:
    """The task under `key` in `registry`, or a new one from `make()` started there; never two per key.

    A task asked to stop is replaced; a running, finished or failed one is returned as it is (the caller
    decides whether a failure should be retried: `registry.pop(key)` first).
    """
    with lock:
        task = registry.get(key)
        if task is None or task.stopping:
            task = registry[key] = make().start()
        return task
