"""One visitor's workspace: the data in use, the training job, background work, and its runs in the run store.

Runs live on disk in the run store (vae_core.store), the same folders the CLI writes, so a restart loses
nothing: a workspace lists them from there (`entries()`) and keeps in memory only the few it has opened
(`run(id)`, at most MAX_LOADED). On a personal server the owner is None and every run of the store shows;
on a shared server the owner is the workspace's code, and only its own runs show.

The registry of workspaces (one per browser, keyed by a hash of its XSRF secret) is in workspaces.py.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from vae_core.checkpoint import CheckpointError
from vae_core.config import ModelConfig, TrainConfig
from vae_core.dataset import Dataset
from vae_core.run import Run, run_number
from vae_core.runs import new_run
from vae_core.store import RunStore, StoreError
from vae_core.store_index import RunEntry
from vae_core.tasks import Slots
from vae_core.training import check_compatible

from .jobs import TrainJob

MAX_LOADED = 8  # runs a workspace keeps in memory (weights, maps); the others stay on disk until opened
LIST_SECONDS = 2.0  # a listing of the store is reused this long (a page run asks several times; runs the CLI
                    # adds on a personal machine show within it)

DataFor = Callable[[dict], "Dataset | None"]  # a run's data_info -> its data set, when it can be loaded again


class Workspace:
    """Everything one visitor has. Pages read and change it only through its methods or under `lock`."""

    def __init__(self, key: str, runs: RunStore, owner: str | None = None, data_for: DataFor | None = None,
                 after_save: Callable[[Path], None] | None = None) -> None:
        self.key = key
        self.store = runs
        self.owner = owner  # the workspace code on a shared server; None: a personal server, every run shows
        self.lock = threading.RLock()
        self.data: Dataset | None = None
        self.data_source = ""  # "bundled:mnist", "upload:my.csv" or "lesson:5"
        self.data_sensor: dict | None = None  # the sensor options the data was loaded with
        self.data_file: tuple[str, bytes] | None = None  # an uploaded sensor table, kept to reload it with new roles
        self.job: TrainJob | None = None
        self.selected_run: str | None = None
        self.background: dict[Hashable, Any] = {}  # other background work (t-SNE, sweeps, lessons) by key
        self.last_seen = time.time()
        self.sessions: set[str] = set()  # Streamlit session ids that opened this workspace
        self.orphaned_since: float | None = None  # when its last session was first seen gone
        self._loaded: OrderedDict[str, Run] = OrderedDict()  # opened runs, least recently used first
        self._listing: tuple[float, list[RunEntry]] | None = None  # (when, entries): the last listing
        self._data_for = data_for or (lambda info: None)
        self._after_save = after_save or (lambda folder: None)

    @property
    def code(self) -> str | None:
        """The code that reopens this workspace elsewhere (shared servers only)."""
        return self.owner

    def touch(self) -> None:
        self.last_seen = time.time()

    def attach(self, session_id: str) -> None:
        """Remember a browser session showing this workspace (the watchdog checks they are still there)."""
        with self.lock:
            self.sessions.add(session_id)
            self.orphaned_since = None

    def set_data(self, data: Dataset, source: str, sensor: dict | None = None,
                 file: tuple[str, bytes] | None = None) -> None:
        """The data in use, where it came from, the sensor options it was loaded with and (an uploaded sensor
        table) the file itself, so the Data page can load it again with other column roles or windows."""
        with self.lock:
            self.data, self.data_source, self.data_sensor, self.data_file = data, source, sensor, file

    @property
    def disposable(self) -> bool:
        """Nothing here that the store or the server's caches cannot give back: no job, no uploaded data."""
        job = self.job
        return not (job is not None and job.active) and not self.data_source.startswith("upload:")

    # ---- runs ---------------------------------------------------------------------------------------------
    def entries(self) -> list[RunEntry]:
        """This workspace's runs as the store lists them (no weights loaded), oldest first."""
        with self.lock:
            if self._listing is None or time.monotonic() - self._listing[0] > LIST_SECONDS:
                self._listing = (time.monotonic(), self.store.list(self.owner))
            return list(self._listing[1])

    def changed(self) -> None:
        """Runs were added, deleted or trained: the next listing reads the store."""
        with self.lock:
            self._listing = None

    @property
    def runs(self) -> list[Run]:
        """Every run of this workspace, opened (loads weights: pages list `entries()` instead)."""
        return [r for r in (self.run(e.id) for e in self.entries() if e.status != "broken") if r is not None]

    def run(self, run_id: str | None) -> Run | None:
        """The run with this id, opened from the store (or the one a job is training), or None."""
        if not run_id:
            return None
        with self.lock:
            job = self.job
            if job is not None and job.run.id == run_id and (job.active or run_id not in self._loaded):
                return job.run
            if run_id in self._loaded:
                self._loaded.move_to_end(run_id)
                run = self._loaded[run_id]
                if run.data is None:  # its data may have been loaded since
                    run.data = self._fit_data(run)
                return run
        try:
            run = self.store.load(run_id, self.owner)
        except (StoreError, CheckpointError):
            return None
        run.data = self._fit_data(run)
        return self._keep(run)

    def current_id(self, entries: list[RunEntry] | None = None) -> str | None:
        """Id of the run chosen in the sidebar, else of the newest one that is not being trained for the first time."""
        ids = [e.id for e in (self.entries() if entries is None else entries) if e.status != "broken"]
        if self.selected_run in ids:
            return self.selected_run
        job = self.job
        training_new = job.run.id if job is not None and job.active and job.continues is None else None
        return next((i for i in reversed(ids) if i != training_new), None)

    def current_run(self) -> Run | None:
        """The run the pages explore (see current_id), opened."""
        return self.run(self.current_id())

    def add_run(self, run: Run) -> Run:
        """Save a run brought in whole (an uploaded zip, a sweep trial) to the store, named and selected.

        StoreError (QuotaError) when the store cannot take it: nothing is kept then.
        """
        with self.lock:
            self.store.save(run, self.owner, self.next_name())
            self._keep(run)
            self.selected_run = run.id
            self.changed()
        self._after_save(self.store.find(run.id, self.owner).path)
        return run

    def delete_run(self, run_id: str) -> None:
        """Remove a run and its folder (StoreError while it trains)."""
        with self.lock:
            self.store.delete(run_id, self.owner)
            self.changed()
            self._stop_tasks_of(run_id)
            self._loaded.pop(run_id, None)
            if self.selected_run == run_id:
                self.selected_run = None

    def next_name(self) -> str:
        """'run N', one past the highest N in this workspace (read afresh: names must not repeat)."""
        self.changed()
        return f"run {max((run_number(e.name) for e in self.entries()), default=0) + 1}"

    def _keep(self, run: Run) -> Run:
        with self.lock:
            self._loaded[run.id] = run
            self._loaded.move_to_end(run.id)
            keep = {self.selected_run, self.job.run.id if self.job else None}
            for old in list(self._loaded):
                if len(self._loaded) <= MAX_LOADED:
                    break
                if old not in keep:
                    self._loaded.pop(old)
                    self._stop_tasks_of(old)
            return run

    def _fit_data(self, run: Run) -> Dataset | None:
        """The data a run was trained on: the data in use when it is that data, else loaded again when it can be."""
        info, data = run.data_info, self.data
        if (data is not None and data.name == info.get("name")
                and list(data.input_shape) == list(info.get("input_shape", []))):
            return data
        return self._data_for(info)

    # ---- training -----------------------------------------------------------------------------------------
    def source_info(self) -> dict:
        """What a new run records about the data in use, so it can be loaded again after a restart."""
        kind, _, name = self.data_source.partition(":")
        return {"source": name if kind == "bundled" else self.data_source, "sensor": self.data_sensor}

    def new_job(self, model_cfg: ModelConfig, train_cfg: TrainConfig, slots: Slots,
                data: Dataset | None = None) -> TrainJob:
        """A job that trains a new run on `data` (the data in use by default), saved to the store as it trains."""
        data = data if data is not None else self.data
        run = new_run(data, model_cfg, train_cfg, **self.source_info())
        check_compatible(run.model, data)  # a bad fit is said at once, before a folder is made for it
        name = self.next_name()
        return TrainJob(run, slots, self.job_finished, writer=lambda r: self._writer(r, name),
                        after_save=self._after_save)

    def continue_job(self, run: Run, epochs: int, slots: Slots) -> TrainJob:
        """A job that trains `run` further (to `epochs` in all), in its own folder of the store."""
        return TrainJob(run, slots, self.job_finished, epochs=epochs, writer=self._writer, after_save=self._after_save)

    def _writer(self, run: Run, name: str | None = None):
        writer = self.store.writer(run, self.owner, name)
        self.changed()  # its folder is listed from now on
        return writer

    def job_finished(self, job: TrainJob) -> None:
        """Called from the job's thread when it ends: its run is the one the pages show now."""
        if job.status == "failed":
            return
        with self.lock:
            self._keep(job.run)
            self._stop_tasks_of(job.run.id)  # continued: maps and scores being computed are stale
            self.selected_run = job.run.id
            self.changed()

    def _stop_tasks_of(self, run_id: str) -> None:
        """Stop background work computed from one run's model (its keys hold the run id)."""
        for key, task in list(self.background.items()):
            if isinstance(key, tuple) and run_id in key:
                task.stop()
                self.background.pop(key, None)

    def busy_run_id(self) -> str | None:
        """The run a job is training right now (its model must not be read meanwhile)."""
        job = self.job
        return job.run.id if job is not None and job.active else None

    def close(self) -> None:
        """Stop background work (the visitor is gone; the runs stay on disk)."""
        if self.job is not None:
            self.job.stop()
        for task in self.background.values():
            task.stop()
