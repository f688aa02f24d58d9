"""`RunWriter`: saves one run into its folder while it trains, hooked into the one training loop.

    writer = store.writer(run)               # config.json and the starting checkpoint; the folder is locked
    for ev in train_run(run, data):
        writer.event(ev)                     # a checkpoint at every epoch end
        if stop_asked: break
    writer.stopped()                         # after a break: a checkpoint at the exact step (before evaluating)
    finish_run(run)
    writer.finished()                        # summary.json: the run has ended; the folder is unlocked

A checkpoint is model.safetensors, state.safetensors and metrics.csv (the events up to that moment)
replaced as one (store_files.commit_files), so a process killed at any moment leaves a folder that
loads and continues from its last checkpoint with the weights of a run that never stopped. While the
writer lives it holds the folder's lock: a folder without summary.json and without a live lock is
an interrupted run.
"""
from __future__ import annotations

import math
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from . import store_files
from .checkpoint import SAVED_STEPS, config_dict, events_to_csv, model_bytes, state_bytes, to_json
from .run import Run
from .training import TrainEvent

METRICS_ROW_BYTES = 120  # a step row of metrics.csv, for the disk a run will take


class RunWriter:
    """Keeps a run's folder up to date while it trains: checkpoints at epoch ends, at Stop and at the end."""

    def __init__(self, folder: Path, run: Run, name: str | None = None,
                 check_room: Callable[[int], None] | None = None) -> None:
        self.folder, self.run = folder, run
        if name:
            run.name = name  # config.json carries it
        self.checkpoint_seconds: list[float] = []  # time each checkpoint took to reach the disk (for the figures)
        self._writing: threading.Thread | None = None  # the checkpoint being written
        self._error: BaseException | None = None  # why it failed, for the training thread
        self._csv: list[str] = []  # metrics.csv in pieces, header first: rows of events already written
        self._rows_done = 0
        self._check_room = check_room or (lambda n_bytes: None)
        self._epoch_checkpoints = 0
        self._has_val: bool | None = None
        self._created = not folder.exists()
        self._check_room(expected_bytes(run) - (0 if self._created else store_files.folder_bytes(folder)))
        self._lock = self._create() if self._created else self._reopen()

    def _config(self) -> bytes:
        return to_json(config_dict(self.run)).encode()

    def _create(self) -> int:
        """A new folder appears whole: its files are written under a temporary name, then it is renamed."""
        tmp = self.folder.parent / f"{store_files.TEMP_PREFIX}{self.folder.name}.{time.time_ns()}"
        tmp.mkdir(parents=True)
        lock = store_files.lock_folder(tmp)  # the lock belongs to the folder itself, so it survives the rename
        try:
            store_files.commit_files(tmp, self._checkpoint_files())
            tmp.rename(self.folder)
            store_files.fsync_dir(self.folder.parent)
        except BaseException:
            store_files.unlock_folder(lock)
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return lock

    def _reopen(self) -> int:
        """Continue in an existing folder: finish a half-done checkpoint, write the current state, drop the summary."""
        lock = store_files.lock_folder(self.folder)  # BlockingIOError when another process trains it
        try:
            store_files.roll_forward(self.folder)
            store_files.remove_stale_temps(self.folder, now=float("inf"))  # the lock is ours: every temporary is stale
            store_files.commit_files(self.folder, self._checkpoint_files())
            (self.folder / "summary.json").unlink(missing_ok=True)  # it trains again: not ended any more
        except BaseException:
            store_files.unlock_folder(lock)
            raise
        return lock

    def _checkpoint_files(self) -> dict[str, bytes]:
        # config.json too: train_run may have raised the epochs to train, and "epoch k of n" reads it
        files = {"config.json": self._config(), "model.safetensors": model_bytes(self.run),
                 "metrics.csv": self._metrics()}
        if self.run.state is not None:
            files["state.safetensors"] = state_bytes(self.run.state)
        return files

    def _metrics(self) -> bytes:
        """metrics.csv of every event so far; rows already made are kept, so a checkpoint costs only its new rows."""
        events = self.run.events
        if len(events) > SAVED_STEPS:  # a very long run: its steps are thinned evenly over the whole history
            return events_to_csv(events).encode()
        if len(events) < self._rows_done:  # the history was replaced: make it again
            self._csv, self._rows_done = [], 0
        self._csv.append(events_to_csv(events[self._rows_done:], header=not self._csv))
        self._rows_done = len(events)
        return "".join(self._csv).encode()

    def event(self, ev: TrainEvent) -> None:
        """Call with each event of runs.train_run: saves a checkpoint when an epoch has ended (after its validation)."""
        if ev.kind != "epoch":
            return
        if self._has_val is None:
            self._has_val = self.run.data is not None and len(self.run.data.indices("val")) > 0
        if ev.phase == "val" or not self._has_val:
            self.checkpoint()
            self._epoch_checkpoints += 1

    def checkpoint(self, extra: dict[str, bytes] | None = None, wait: bool = False) -> None:
        """Save the weights, the training state and the events so far, as one; written while training goes on.

        The files are taken now, at this very event; a background thread writes them (one at a time), so
        training waits only for the serialising. An error of that write (a full disk) is raised by the next
        call. `wait` returns once they are on disk.
        """
        files = {**self._checkpoint_files(), **(extra or {})}
        self.flush()  # the previous checkpoint is on disk, and its error (if any) raised
        self._check_room(sum(map(len, files.values())))  # the new files sit beside the old until renamed
        self._writing = threading.Thread(target=self._commit, args=(files, time.perf_counter()), daemon=True,
                                         name=f"checkpoint {self.folder.name}")
        self._writing.start()
        if wait:
            self.flush()

    def _commit(self, files: dict[str, bytes], start: float) -> None:
        try:
            store_files.commit_files(self.folder, files)
            self.checkpoint_seconds.append(time.perf_counter() - start)
        except BaseException as exc:  # noqa: BLE001 - handed to the training thread by flush()
            self._error = exc

    def flush(self) -> None:
        """Wait until every checkpoint so far is on disk; raises the error of one that failed."""
        if self._writing is not None:
            self._writing.join()
            self._writing = None
        if self._error is not None:
            error, self._error = self._error, None
            if isinstance(error, OSError):  # e.g. a full disk: one clear line, the last checkpoint is still whole
                raise store_files.StoreError(f"could not save a checkpoint in {self.folder} ({error.strerror or error})"
                                             "; the folder keeps the checkpoint before it") from error
            raise error

    def stopped(self) -> None:
        """Call after breaking out of training: a checkpoint at the very step where it stopped."""
        self.checkpoint(wait=True)

    def finished(self) -> None:
        """Call after runs.finish_run: the last checkpoint with summary.json (the run has ended); unlocks the folder."""
        self.checkpoint({"summary.json": to_json(self.run.summary).encode()}, wait=True)
        self.close()

    def close(self) -> None:
        """Finish the checkpoint in flight and unlock the folder (without finished(): listed as interrupted)."""
        try:
            self.flush()
        finally:
            if self._lock is not None:
                store_files.unlock_folder(self._lock)
                self._lock = None

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
            return
        try:
            self.close()
        except Exception:  # noqa: BLE001 - the error that ended training is the one to report
            pass
        if self._created and self._epoch_checkpoints == 0:
            shutil.rmtree(self.folder, ignore_errors=True)  # failed before learning anything: nothing to keep


def expected_bytes(run: Run) -> int:
    """About how much disk the run's folder will take at the end, plus room for one checkpoint in flight."""
    checkpoint = len(model_bytes(run)) + (len(state_bytes(run.state)) if run.state is not None else 0)
    rows = len(run.events)
    if run.data is not None:
        n_train = len(run.data.indices("train"))
        steps = math.ceil(n_train / max(1, min(run.train_cfg.batch_size, n_train))) if n_train else 0
        rows = (steps + 2) * run.train_cfg.epochs
    return 2 * checkpoint + rows * METRICS_ROW_BYTES + 64 * 1024  # + config.json and summary.json
