"""Slow analysis off the script thread: a daemon thread runs one function and never touches Streamlit.

A page starts a `BackgroundTask`, keeps it somewhere that outlives the script run (the workspace's
`background` dict), and polls `snapshot()` from an `st.fragment(run_every=...)`. The function gets a
`report(fraction) -> bool` callback: it reports progress and learns whether it should stop.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, MutableMapping
from dataclasses import dataclass
from typing import Any

Report = Callable[[float], bool]  # report(fraction done in [0, 1]) -> True when asked to stop


@dataclass(frozen=True)
class TaskSnapshot:
    """A consistent copy of a task's state for one redraw."""

    status: str  # running | finished | stopped | failed
    progress: float  # 0..1
    error: str  # one line when failed, else ""
    seconds: float  # since start (or until the end)


class BackgroundTask:
    """Runs `work(report)` once in a daemon thread; keeps its result or error. Stop is cooperative."""

    def __init__(self, work: Callable[[Report], Any], name: str = "task",
                 on_done: Callable[["BackgroundTask"], None] | None = None) -> None:
        self.name = name
        self._work, self._on_done = work, on_done
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.done = threading.Event()
        self.progress = 0.0
        self.status = "running"
        self.result: Any = None
        self.error = ""
        self.started = time.time()
        self.ended: float | None = None
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"bg-{name}")

    def start(self) -> "BackgroundTask":
        self.thread.start()
        return self

    def stop(self) -> None:
        """Ask the work to stop at its next progress report; its result is then dropped."""
        self.stop_event.set()

    @property
    def active(self) -> bool:
        return not self.done.is_set()

    def snapshot(self) -> TaskSnapshot:
        with self.lock:
            end = self.ended if self.ended is not None else time.time()
            return TaskSnapshot(self.status, self.progress, self.error, end - self.started)

    def _report(self, fraction: float) -> bool:
        with self.lock:
            self.progress = min(1.0, max(self.progress, float(fraction)))
        return self.stop_event.is_set()

    def _run(self) -> None:
        try:
            result = self._work(self._report)
            with self.lock:
                if self.stop_event.is_set():
                    self.status = "stopped"
                else:
                    self.result, self.progress, self.status = result, 1.0, "finished"
        except Exception as exc:  # noqa: BLE001 - the thread must end cleanly and say why
            with self.lock:
                self.status, self.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            with self.lock:
                self.ended = time.time()
            try:
                if self._on_done is not None:
                    self._on_done(self)  # hand the result over before anyone can see `done`
            finally:
                self.done.set()


def get_or_start(registry: MutableMapping[Hashable, Any], key: Hashable, make: Callable[[], BackgroundTask],
                 lock: threading.RLock | threading.Lock) -> BackgroundTask:
    """The task under `key` in `registry`, or a new one from `make()` started there; never two per key.

    A task asked to stop is replaced; a running, finished or failed one is returned as it is (the caller
    decides whether a failure should be retried: `registry.pop(key)` first).
    """
    with lock:
        task = registry.get(key)
        if task is None or task.stop_event.is_set():
            task = registry[key] = make().start()
        return task
