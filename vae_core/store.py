"""The run store: a folder of run folders that the CLI and the dashboard share, and that survives restarts.

    DIR/
      index.sqlite                    a cache of what the folders hold (store_index); rebuilt when lost
      <run id>/                       a run folder, as `train --out` writes it; the CLI's and a personal dashboard's
      workspaces/<workspace id>/<run id>/   runs of one workspace on a shared server

A run folder holds config.json, model.safetensors, metrics.csv, state.safetensors while it trains, and
summary.json once it has ended. A folder without summary.json is training while a process holds its lock,
and interrupted otherwise: it loads with its training state at its last checkpoint and continues exactly.
A workspace's runs are found by its code, which never appears on disk: its folder is named by a hash of
it. Every listing rescans the folders (a stat of each file; only changed folders are read again), so runs
added by hand or by another process appear, and runs deleted by hand disappear.
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import shutil
import time
from dataclasses import replace
from pathlib import Path

from .checkpoint import FILES, CheckpointError, load_run
from .run import Run
from .store_files import (
    JOURNAL,
    TEMP_PREFIX,
    QuotaError,
    StoreError,
    can_write,
    folder_bytes,
    has_live_writer,
    remove_stale_temps,
    signature,
    tidy,
)
from .store_index import Index, RunEntry, marked_broken, read_entry
from .store_writer import RunWriter

INDEX_FILE = "index.sqlite"
WORKSPACES = "workspaces"
RUNS_DIR_ENV = "VAE_EXPLORER_RUNS_DIR"
CODE_BYTES = 10  # 80 random bits: 16 base32 characters
_SIGNED = (*FILES, JOURNAL)  # the files whose sizes and times tell that a folder changed


def default_runs_dir() -> Path:
    """$VAE_EXPLORER_RUNS_DIR, else runs/ in the current folder."""
    return Path(os.environ.get(RUNS_DIR_ENV) or "runs")


def new_workspace_code() -> str:
    """A fresh, unguessable workspace code (80 random bits), e.g. 'K3QX-7RTA-M2LP-Q4ZD'."""
    text = base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode()
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def normalize_code(text: str) -> str:
    """A code as typed (any case, spaces or dashes) in its canonical form; StoreError when it cannot be one."""
    plain = re.sub(r"[\s-]", "", str(text)).upper()
    if not re.fullmatch(r"[A-Z2-7]{16}", plain):
        raise StoreError("a workspace code is 16 letters and digits, like K3QX-7RTA-M2LP-Q4ZD")
    return "-".join(plain[i:i + 4] for i in range(0, 16, 4))


def workspace_id(code: str) -> str:
    """The folder name of a workspace: a hash of its code, so the code itself is never written to disk."""
    return hashlib.sha256(f"vae-explorer workspace {normalize_code(code)}".encode()).hexdigest()[:32]


class RunStore:
    """Run folders in `root`, listed through a cached index; `quota_bytes` bounds each workspace's disk use."""

    def __init__(self, root: str | Path | None = None, quota_bytes: int | None = None) -> None:
        self.root = Path(root) if root is not None else default_runs_dir()
        self.quota_bytes = quota_bytes
        self.notes: list[str] = []  # what a user should know: a rebuilt index, a read-only folder
        self.read_only = _why_not_writable(self.root)  # None, or why runs cannot be saved here
        if self.read_only and self.root.is_dir():
            self.notes.append(f"{self.root} is read-only ({self.read_only}): its runs are listed and open, but new "
                              "runs cannot be saved there; choose another folder with --runs-dir")
        # the folder is made by the first run saved (a listing leaves no trace); until then the index is in memory
        self.index = Index(self.root / INDEX_FILE if self.root.is_dir() and not self.read_only else None)
        if self.index.path is not None:  # folders being made or deleted by a process that died meanwhile
            for folder in (self.root, *_subfolders(self.root / WORKSPACES)):
                remove_stale_temps(folder)
        entries = self.list()
        if self.index.note:
            self.notes.append(self.index.note)
        elif self.index.rebuilt and entries and not self.read_only:
            n = len(entries)
            self.notes.append(f"built the run index {self.root / INDEX_FILE} from {n} run folder{'s' * (n != 1)}")

    # ---- listing ------------------------------------------------------------------------------------------
    def list(self, owner: str | None = None) -> list[RunEntry]:
        """The runs of workspace `owner` (its code), or every run in the store when None; oldest first.

        Reads only folders that changed since the index saw them, never the weights.
        """
        prefix = f"{WORKSPACES}/{workspace_id(owner)}/" if owner is not None else ""
        cached = self.index.entries(prefix)
        entries, changed = [], []
        for key, folder, folder_owner in self._folders(owner):
            sig = signature(folder, _SIGNED)
            if JOURNAL in sig and not self.read_only:
                tidy(folder)  # a checkpoint cut short between its journal and its renames (unless being written)
                sig = signature(folder, _SIGNED)
            if not sig:
                continue  # no run file in it: not a run folder
            hit = cached.pop(key, None)
            if hit is not None and hit[0] == sig:
                entry = replace(hit[1], path=folder)  # the same folder, seen from this process's root
            else:
                entry = read_entry(folder, folder_owner)
                changed.append((key, sig, entry))
            entries.append(self._live(entry))
        self.index.update(changed, gone=list(cached))
        return sorted(entries, key=lambda e: (e.created, e.id))

    def _folders(self, owner: str | None) -> list[tuple[str, Path, str | None]]:
        """(index key, folder, workspace id) of every candidate run folder of `owner` (None: all)."""
        if owner is not None:
            wid = workspace_id(owner)
            return [(f"{WORKSPACES}/{wid}/{p.name}", p, wid) for p in _subfolders(self.root / WORKSPACES / wid)]
        found = [(p.name, p, None) for p in _subfolders(self.root) if p.name != WORKSPACES]
        for ws in _subfolders(self.root / WORKSPACES):
            found += [(f"{WORKSPACES}/{ws.name}/{p.name}", p, ws.name) for p in _subfolders(ws)]
        return found

    def _live(self, entry: RunEntry) -> RunEntry:
        """A run without summary is training while its folder is locked, else interrupted at its last checkpoint."""
        if entry.status != "running" or has_live_writer(entry.path):
            return entry
        if not self.read_only:
            tidy(entry.path)  # what a killed writer left half-written goes (it counts against a quota)
        planned = f" of {entry.epochs_planned}" if entry.epochs_planned else ""
        how = "continue it to resume from there" if entry.can_continue else "it has no training state to continue from"
        return replace(entry, status="interrupted",
                       message=f"interrupted at epoch {entry.epochs}{planned} (its last checkpoint); {how}")

    def find(self, ref: str, owner: str | None = None) -> RunEntry:
        """The run whose id is `ref` or starts with it (unique); StoreError when there is none or several."""
        entries = self.list(owner)
        matches = [e for e in entries if e.id == ref] or [e for e in entries if ref and e.id.startswith(ref)]
        where = "in this workspace" if owner is not None else f"in {self.root}"
        if not matches:
            raise StoreError(f"no run {ref!r} {where}; 'vae-explorer runs' lists the runs and their ids")
        if len(matches) > 1:
            ids = ", ".join(e.id for e in matches[:4])
            raise StoreError(f"{ref!r} matches {len(matches)} runs {where} ({ids}{', ...' * (len(matches) > 4)}); "
                             "give more of the id")
        return matches[0]

    # ---- reading, writing, deleting -----------------------------------------------------------------------
    def load(self, ref: str, owner: str | None = None) -> Run:
        """The run (weights, history, training state); an interrupted one continues from its last checkpoint."""
        entry = self.find(ref, owner)
        if entry.status == "broken":
            raise StoreError(f"the run {entry.id} cannot be opened: {entry.message}")
        try:
            run = load_run(entry.path)
        except CheckpointError as exc:  # the listing checks headers only; the full load checks every value
            self.index.update([(self._key(entry), signature(entry.path, _SIGNED), marked_broken(entry, str(exc)))], [])
            raise
        run.id, run.created = entry.id, entry.created
        if entry.status in ("running", "interrupted"):
            run.status, run.message = entry.status, entry.message
        return run

    def writer(self, run: Run, owner: str | None = None, name: str | None = None) -> RunWriter:
        """Start saving `run` (new, or continued in its folder) into the store; see store_writer for the calls."""
        self.check_writable()
        parent = self.root / WORKSPACES / workspace_id(owner) if owner is not None else self.root
        parent.mkdir(parents=True, exist_ok=True)
        if self.index.path is None:  # the store's first run made its folder: the index can live there now
            self.index = Index(self.root / INDEX_FILE)
        try:
            return RunWriter(parent / run.id, run, name, lambda n: self.check_room(owner, n))
        except BlockingIOError:
            raise StoreError(f"the run {run.id} is being trained by another process; stop it there first") from None
        except OSError as exc:
            raise StoreError(f"cannot save the run in {parent}: {exc.strerror or exc}") from None

    def save(self, run: Run, owner: str | None = None, name: str | None = None) -> RunEntry:
        """Save a run that is not training (an uploaded zip, a sweep trial) as it is; its entry in the store."""
        with self.writer(run, owner, name) as writer:
            writer.finished()
        return self.find(run.id, owner)

    def delete(self, ref: str, owner: str | None = None) -> None:
        """Remove a run's folder and its index entry (refused while a process trains it)."""
        self.check_writable()
        entry = self.find(ref, owner)
        if has_live_writer(entry.path):
            raise StoreError(f"the run {entry.id} is training; stop it before deleting it")
        trash = entry.path.with_name(f"{TEMP_PREFIX}deleted-{entry.id}.{time.time_ns()}")
        entry.path.rename(trash)  # one step: the run is gone, never half-listed; the files go next
        shutil.rmtree(trash, ignore_errors=True)
        self.index.update([], gone=[self._key(entry)])

    def _key(self, entry: RunEntry) -> str:
        return entry.path.relative_to(self.root).as_posix()

    # ---- room ---------------------------------------------------------------------------------------------
    def check_writable(self) -> None:
        """StoreError when runs cannot be saved in this store (read-only folder)."""
        if self.read_only:
            raise StoreError(f"cannot save runs in {self.root}: {self.read_only}; nothing was changed there. "
                             "Choose a writable folder with --runs-dir (or VAE_EXPLORER_RUNS_DIR)")

    def usage(self, owner: str) -> int:
        """Bytes that workspace `owner` takes on disk."""
        return folder_bytes(self.root / WORKSPACES / workspace_id(owner))

    def check_room(self, owner: str | None, n_bytes: int) -> None:
        """QuotaError when workspace `owner` cannot take `n_bytes` more (runs outside workspaces are not bounded)."""
        if owner is None or self.quota_bytes is None:
            return
        used = self.usage(owner)
        if used + n_bytes > self.quota_bytes:
            mb = 1024**2
            raise QuotaError(f"this workspace's disk space is full: {used / mb:.1f} MB of {self.quota_bytes / mb:.0f} "
                             f"MB used, and this needs {n_bytes / mb:.1f} MB more. Delete runs you no longer need; "
                             "nothing was written")


def _why_not_writable(root: Path) -> str | None:
    """None when run folders can be made in `root` (or where it would be created), else the reason."""
    if root.exists() and not root.is_dir():
        return "it is a file, not a folder"
    folder = root
    while not folder.is_dir() and folder != folder.parent:  # the nearest existing folder: where root would be made
        folder = folder.parent
    return can_write(folder)


def _subfolders(folder: Path) -> list[Path]:
    try:
        return [Path(e.path) for e in os.scandir(folder)
                if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")]
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []
