"""One visitor's data, runs and training job, and the store that keeps them across page reloads.

A browser reload starts a new Streamlit session, which would orphan a running job. So each browser
gets a workspace keyed by a hash of its own secret: Streamlit's XSRF cookie token, which the browser
sends with every connection and nobody else knows. A fresh private window or another browser gets
another workspace. Without that cookie (tests, XSRF protection off) a workspace lives as long as
its session. Workspaces idle for hours are dropped and their jobs stopped, so memory stays bounded.

A closed browser leaves no thread behind for long: a watchdog stops the job of a workspace none of whose
sessions has been connected for ORPHAN_SECONDS (a reload reconnects well within that). The job keeps what
it learned, so a visitor who comes back within IDLE_SECONDS finds the stopped run in their list.
"""
from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from vae_core.dataset import Dataset
from vae_core.run import Run

from .jobs import TrainJob

MAX_RUNS = 30  # per workspace; the oldest unpinned run goes first
IDLE_SECONDS = 6 * 3600
MAX_WORKSPACES = 500
ORPHAN_SECONDS = 120  # a job whose every browser session has been gone this long is stopped
WATCH_SECONDS = 15  # how often the watchdog looks


class Workspace:
    """Everything one visitor owns. Pages read and change it only through its methods or under `lock`."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.lock = threading.RLock()
        self.data: Dataset | None = None
        self.data_source = ""  # e.g. "bundled:mnist" or "upload:my.csv"
        self.runs: list[Run] = []
        self.job: TrainJob | None = None
        self.selected_run: str | None = None
        self.background: dict[Hashable, Any] = {}  # other background work (t-SNE, sweeps) by key
        self.last_seen = time.time()
        self.sessions: set[str] = set()  # Streamlit session ids that opened this workspace
        self.orphaned_since: float | None = None  # when its last session was first seen gone
        self._numbers = itertools.count(1)

    def touch(self) -> None:
        self.last_seen = time.time()

    def attach(self, session_id: str) -> None:
        """Remember a browser session showing this workspace (the watchdog checks they are still there)."""
        with self.lock:
            self.sessions.add(session_id)
            self.orphaned_since = None

    def set_data(self, data: Dataset, source: str) -> None:
        with self.lock:
            self.data, self.data_source = data, source

    def run(self, run_id: str | None) -> Run | None:
        with self.lock:
            return next((r for r in self.runs if r.id == run_id), None)

    def current_run(self) -> Run | None:
        """The selected run, else the newest."""
        with self.lock:
            return self.run(self.selected_run) or (self.runs[-1] if self.runs else None)

    def add_run(self, run: Run) -> Run:
        """Keep a run (numbered in this workspace) and select it; the oldest go beyond MAX_RUNS."""
        with self.lock:
            run.number = next(self._numbers)
            self.runs.append(run)
            self.selected_run = run.id
            while len(self.runs) > MAX_RUNS:
                self.runs.pop(0)
            return run

    def delete_run(self, run_id: str) -> None:
        with self.lock:
            self._stop_tasks_of(run_id)
            self.runs = [r for r in self.runs if r.id != run_id]
            if self.selected_run == run_id:
                self.selected_run = self.runs[-1].id if self.runs else None

    def job_finished(self, job: TrainJob) -> None:
        """Called from the job's thread when it ends: its run joins the list (or, continued, is refreshed)."""
        if job.status == "failed":
            return
        with self.lock:
            if self.run(job.run.id) is None:
                self.add_run(job.run)
            else:
                self._stop_tasks_of(job.run.id)  # the model changed: maps and scores being computed are stale
                self.selected_run = job.run.id

    def _stop_tasks_of(self, run_id: str) -> None:
        """Stop background work computed from one run's model (its keys hold the run id)."""
        for key, task in list(self.background.items()):
            if isinstance(key, tuple) and run_id in key:
                task.stop()
                self.background.pop(key, None)

    def busy_run_id(self) -> str | None:
        """The listed run a job is training further right now (its model must not be read meanwhile)."""
        job = self.job
        return job.continues if job is not None and job.active else None

    def close(self) -> None:
        """Stop background work (the visitor is gone)."""
        if self.job is not None:
            self.job.stop()
        for task in self.background.values():
            task.stop()


class WorkspaceStore:
    """Workspaces by key. The only server-wide registry: keys are hashes of per-browser secrets.

    `is_alive(session_id)` says whether a browser session is still connected (the dashboard asks
    Streamlit's runtime; by default every session counts as alive, so nothing is ever orphaned).
    """

    def __init__(self, is_alive: Callable[[str], bool] | None = None, orphan_seconds: float = ORPHAN_SECONDS) -> None:
        self._lock = threading.Lock()
        self._spaces: dict[str, Workspace] = {}
        self._is_alive = is_alive or (lambda session_id: True)
        self.orphan_seconds = orphan_seconds
        self._watchdog: threading.Thread | None = None

    def start_watchdog(self, every: float = WATCH_SECONDS) -> None:
        """A daemon thread that calls stop_orphans() every `every` seconds (once per store)."""
        with self._lock:
            if self._watchdog is None:
                def watch() -> None:
                    while True:
                        time.sleep(every)
                        self.stop_orphans()
                self._watchdog = threading.Thread(target=watch, daemon=True, name="workspace-watchdog")
                self._watchdog.start()

    def stop_orphans(self, now: float | None = None) -> list[str]:
        """Stop the jobs of workspaces whose sessions have all been gone for orphan_seconds; their keys."""
        now = time.time() if now is None else now
        with self._lock:
            spaces = list(self._spaces.items())
        stopped = []
        for key, space in spaces:
            with space.lock:
                had_sessions = bool(space.sessions)
                space.sessions = {s for s in space.sessions if self._is_alive(s)}  # reloads leave dead ids
                job = space.job
                gone = not space.sessions and (had_sessions or space.orphaned_since is not None)
                if job is None or not job.active or not gone:
                    space.orphaned_since = None
                    continue
                space.orphaned_since = space.orphaned_since or now
                if now - space.orphaned_since >= self.orphan_seconds:
                    job.stop()
                    stopped.append(key)
        return stopped

    def get(self, key: str) -> Workspace:
        with self._lock:
            self._evict_idle()
            space = self._spaces.get(key)
            if space is None:
                space = self._spaces[key] = Workspace(key)
            space.touch()
            return space

    def __len__(self) -> int:
        return len(self._spaces)

    def _evict_idle(self) -> None:
        now = time.time()
        idle = [k for k, s in self._spaces.items()
                if now - s.last_seen > IDLE_SECONDS and not (s.job is not None and s.job.active)]
        overflow = sorted(self._spaces, key=lambda k: self._spaces[k].last_seen)[:max(0, len(self._spaces) - MAX_WORKSPACES)]
        for k in set(idle) | set(overflow):
            self._spaces.pop(k).close()


def browser_key(xsrf_cookie: str | None) -> str | None:
    """A stable, non-reversible key from Streamlit's XSRF cookie ('2|mask|masked token|time'), or None."""
    parts = (xsrf_cookie or "").split("|")
    if len(parts) < 3:
        return None
    try:
        mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
    except ValueError:
        return None
    if not mask or len(masked) < 16:
        return None
    token = bytes(b ^ mask[i % len(mask)] for i, b in enumerate(masked))  # Tornado masks the token per response
    return hashlib.sha256(b"vae-explorer-workspace|" + token).hexdigest()
