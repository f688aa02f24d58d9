"""The server's registry of workspaces: one per browser, found again after a reload or a restart, never
evicted while it holds something the store cannot give back.

A browser reload starts a new Streamlit session, which would orphan a running job. So each browser gets a
workspace keyed by a hash of its own secret: Streamlit's XSRF cookie token, which the browser sends with
every connection and nobody else knows. Without that cookie (tests, XSRF protection off) a workspace lives as
long as its session. On a shared server each workspace has a code (80 random bits, vae_core.store): the
runs it owns are filed under it, a browser's code is remembered on disk (codes.sqlite in the run store), so
the same browser finds its runs after a restart, and the code reopens them anywhere else.

Memory stays bounded: at most MAX_WORKSPACES live; to make room, idle workspaces that hold nothing the store
cannot give back (no job, no uploaded data) go first; when none can go, a new visitor is told the server is
full instead of taking someone else's place. A closed browser leaves no thread behind for long: a watchdog
stops the job of a workspace none of whose sessions has been connected for ORPHAN_SECONDS (a reload
reconnects well within that); the stopped run is saved in the store.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from vae_core.store import RunStore, new_workspace_code, normalize_code

from .workspace import DataFor, Workspace

IDLE_SECONDS = 6 * 3600  # a workspace not seen this long goes (its runs stay in the store), unless it trains
MAX_WORKSPACES = int(os.environ.get("VAE_EXPLORER_MAX_WORKSPACES", "500"))
ORPHAN_SECONDS = 120  # a job whose every browser session has been gone this long is stopped
WATCH_SECONDS = 15  # how often the watchdog looks
CODES_FILE = "codes.sqlite"


class ServerFull(RuntimeError):
    """No room for another workspace: every one holds a job or uploaded data."""


class BrowserCodes:
    """Which workspace code each browser (by key) had, on disk beside the runs; in memory if it cannot be."""

    def __init__(self, folder: Path | None) -> None:
        self._lock = threading.Lock()
        self._memory: dict[str, str] = {}
        self._path = folder / CODES_FILE if folder is not None else None

    def _db(self) -> sqlite3.Connection | None:
        if self._path is None:
            return None
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self._path, timeout=5)
            db.execute("CREATE TABLE IF NOT EXISTS codes (browser TEXT PRIMARY KEY, code TEXT NOT NULL)")
            return db
        except (OSError, sqlite3.Error):  # read-only or corrupt: remember for this process only
            self._path = None
            return None

    def get(self, browser: str) -> str | None:
        with self._lock:
            if browser in self._memory:
                return self._memory[browser]
            db = self._db()
            if db is None:
                return None
            with db:
                row = db.execute("SELECT code FROM codes WHERE browser = ?", (browser,)).fetchone()
            db.close()
            return row[0] if row else None

    def set(self, browser: str, code: str) -> None:
        with self._lock:
            self._memory[browser] = code
            db = self._db()
            if db is not None:
                with db:
                    db.execute("INSERT OR REPLACE INTO codes VALUES (?, ?)", (browser, code))
                db.close()


class WorkspaceStore:
    """Workspaces by browser key. The only server-wide registry: keys are hashes of per-browser secrets.

    `shared`: each workspace owns only its runs, under a code; otherwise every workspace shows every run of the
    store (a personal machine). `is_alive(session_id)` says whether a browser session is still connected (the
    dashboard asks Streamlit's runtime; by default every session counts as alive, so nothing is orphaned).
    """

    def __init__(self, runs: RunStore, shared: bool = True, data_for: DataFor | None = None,
                 is_alive: Callable[[str], bool] | None = None, orphan_seconds: float = ORPHAN_SECONDS,
                 after_save: Callable[[Path], None] | None = None, max_workspaces: int = MAX_WORKSPACES) -> None:
        self.runs = runs
        self.shared = shared
        self.codes = BrowserCodes(None if self.runs.read_only else self.runs.root)
        self._data_for, self._after_save = data_for, after_save
        self._lock = threading.Lock()
        self._spaces: dict[str, Workspace] = {}
        self._sources: dict[str, tuple[str, dict | None]] = {}  # data choices of workspaces that made room
        self._is_alive = is_alive or (lambda session_id: True)
        self.orphan_seconds = orphan_seconds
        self.max_workspaces = max_workspaces
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
        """The workspace of browser `key` (made, with its remembered or a new code, when it has none here).

        ServerFull when there are max_workspaces already and none of them can go.
        """
        with self._lock:
            space = self._spaces.get(key)
            if space is None:
                self._make_room()
                space = self._spaces[key] = self._new(key, self._code_of(key))
                self._restore_data(key, space)
            space.touch()
            return space

    def reopen(self, key: str, code: str) -> Workspace:
        """Browser `key` switches to the workspace of `code` (StoreError when it is no code): its runs show."""
        code = normalize_code(code)
        with self._lock:
            old = self._spaces.get(key)
            space = self._spaces[key] = self._new(key, code)
            if old is not None:
                space.set_data(old.data, old.data_source, old.data_sensor, old.data_file)  # the data stays
                space.sessions = set(old.sessions)
                old.close()
            self.codes.set(key, code)
            return space

    def __len__(self) -> int:
        return len(self._spaces)

    def _code_of(self, key: str) -> str | None:
        if not self.shared:
            return None
        code = self.codes.get(key)
        if code is None:
            code = new_workspace_code()
            self.codes.set(key, code)
        return code

    def _restore_data(self, key: str, space: Workspace) -> None:
        """A workspace made again after it made room gets its data choice back (its runs are in the store)."""
        source, sensor = self._sources.pop(key, ("", None))
        kind, _, name = source.partition(":")
        data = self._data_for({"source": name if kind == "bundled" else source, "sensor": sensor}) \
            if source and self._data_for else None
        if data is not None:
            space.set_data(data, source, sensor)

    def _new(self, key: str, code: str | None) -> Workspace:
        return Workspace(key, self.runs, code, self._data_for, self._after_save)

    def _make_room(self) -> None:
        now = time.time()
        for k, s in list(self._spaces.items()):  # gone for hours and not training: its runs are on disk
            if now - s.last_seen > IDLE_SECONDS and not (s.job is not None and s.job.active):
                self._spaces.pop(k).close()
        if len(self._spaces) < self.max_workspaces:
            return
        for k in sorted((k for k, s in self._spaces.items() if s.disposable), key=lambda k: self._spaces[k].last_seen):
            gone = self._spaces.pop(k)
            gone.close()
            if gone.data_source and len(self._sources) < 10 * self.max_workspaces:
                self._sources[k] = (gone.data_source, gone.data_sensor)  # bundled: made again on return
            if len(self._spaces) < self.max_workspaces:
                return
        raise ServerFull(f"this server holds {len(self._spaces)} workspaces that are training or hold uploaded "
                         "data, its limit; try again in a few minutes")


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
