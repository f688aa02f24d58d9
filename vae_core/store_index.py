"""The run store's index: what each run folder holds, read without loading weights, cached in SQLite.

`read_entry(folder)` reads a run folder's config, summary and the headers of its safetensors files (never
the weights) and checks them: names and shapes against the config, file sizes against the headers. A folder
that fails is a "broken" entry carrying the reason. `Index` keeps these entries in DIR/index.sqlite, each
with the signature (sizes and times) of the files it was read from, so listing a store re-reads only the
folders that changed. The index is only a cache: unreadable, from another version or missing, it is
rebuilt from the folders and says so in `note`.
"""
from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from safetensors import SafetensorError, safe_open

from .checkpoint import FILES, CheckpointError, _checked_config
from .config import variant_words
from .family import skeleton
from .run import Status
from .run_limits import MAX_SAFETENSORS_HEADER_BYTES, check_safetensors_header, check_size, file_limit

ListedStatus = Literal[Status, "broken"]  # "running": a live process trains it; "broken": the folder fails to load
ENDED: tuple[Status, ...] = ("finished", "early_stopped", "stopped", "diverged")
SCHEMA_VERSION = 2  # bump when the columns change: an older index is rebuilt
# the summary's headline figures an entry carries, so a runs table needs no weights
RESULTS = ("recon", "kl", "iwae_nll", "anomaly_auc", "anomaly_ap", "seconds", "latent_dim", "collapsed")


@dataclass(frozen=True)
class RunEntry:
    """One run folder of the store as listed: what it is, how far it got, what it scored. No weights."""

    id: str  # the folder's name
    path: Path
    owner: str | None  # the workspace's folder name (a hash of its code); None: not in a workspace
    status: ListedStatus
    message: str = ""  # why it is broken, how far an interrupted run got, how a run ended
    name: str = ""
    data: str = ""
    settings: dict[str, Any] = field(default_factory=dict)  # model and train settings, as in config.json
    test_neg_elbo: float | None = None
    active_units: int | None = None
    epochs: int = 0  # epochs trained (to its last checkpoint, for an unfinished run)
    epochs_planned: int | None = None
    created: float = 0.0  # seconds since the epoch
    updated: float = 0.0
    can_continue: bool = False  # it has a training state (state.safetensors)
    results: dict[str, Any] = field(default_factory=dict)  # RESULTS of its summary, when it has one

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (path as text)."""
        return {**asdict(self), "path": str(self.path)}


def read_entry(folder: Path, owner: str | None = None) -> RunEntry:
    """The entry of one run folder; status "broken" with the reason when its files do not fit together."""
    times = [st.st_mtime for name in FILES if (st := _stat(folder / name)) is not None]
    updated = max(times, default=0.0)
    try:
        return _read(folder, owner, updated, min(times, default=0.0))
    except Exception as exc:  # noqa: BLE001 - one odd folder must not stop the listing of the others
        return RunEntry(folder.name, folder, owner, "broken", _why(exc), name=folder.name, updated=updated,
                        created=min(times, default=0.0))


def _why(exc: Exception) -> str:
    if isinstance(exc, CheckpointError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"cannot read it ({exc.strerror or exc})"
    return f"it could not be read ({type(exc).__name__}: {str(exc)[:200]})"


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None


def _read(folder: Path, owner: str | None, updated: float, oldest: float) -> RunEntry:
    if not (folder / "config.json").exists():
        raise CheckpointError("the folder has no config.json, so it is not a complete saved run")
    config, model_cfg, train_cfg, _ = _checked_config(_bounded_read(folder / "config.json"))  # the run limits
    if not (folder / "model.safetensors").exists():
        raise CheckpointError("the folder has no model.safetensors (the weights)")
    shapes, _ = _header(folder / "model.safetensors")
    expected = {k: tuple(v.shape) for k, v in skeleton(model_cfg).state_dict().items()}
    if shapes != expected:
        wrong = sorted(set(shapes.items()) ^ set(expected.items()))[:2]
        raise CheckpointError(f"model.safetensors does not match config.json (e.g. {wrong})")
    counters: dict[str, Any] = {}
    if (folder / "state.safetensors").exists():
        counters = json.loads(_header(folder / "state.safetensors")[1].get("counters", "{}"))
    summary = _json(folder / "summary.json") if (folder / "summary.json").exists() else None
    if summary is not None and not isinstance(summary, dict):
        raise CheckpointError("summary.json is not a JSON object")
    data = config.get("data") if isinstance(config.get("data"), dict) else {}
    if summary is not None:
        status = summary.get("stop_reason") if summary.get("stop_reason") in ENDED else "finished"
        message, epochs = str(summary.get("stop_message") or ""), _int(summary.get("epochs")) or 0
    else:  # no summary yet: training now, or interrupted (the store tells which from the folder's lock)
        status, message, epochs = "running", "", _int(counters.get("epoch")) or 0
    created = config.get("created")
    return RunEntry(
        folder.name, folder, owner, status, message,
        name=str(config.get("name") or describe(str(data.get("name", "?")), config["model"], config["train"])),
        data=str(data.get("name", "")), settings={**config["model"], **config["train"]},
        test_neg_elbo=_float(summary.get("test_neg_elbo")) if summary else None,
        active_units=_int(summary.get("active_units")) if summary else None,
        epochs=epochs, epochs_planned=train_cfg.epochs,
        created=float(created) if isinstance(created, (int, float)) else oldest, updated=updated,
        can_continue=(folder / "state.safetensors").exists(),
        results={k: summary.get(k) for k in RESULTS if isinstance(summary.get(k), (int, float, bool))} if summary
        else {})


def describe(data: str, model: dict[str, Any], train: dict[str, Any]) -> str:
    """A short name from the settings, e.g. 'mnist · mlp · β=1 · z=16 · bce' (' · hierarchical VAE' for the family)."""
    name = f"{data} · {model.get('arch')} · β={train.get('beta'):g} · z={model.get('latent_dim')} · {model.get('loss')}"
    family = variant_words({**model, **train})
    return name if family == "VAE" else f"{name} · {family}"


def _bounded_read(path: Path) -> bytes:
    """The file's bytes, refused before reading when it is larger than a run's file of that name may be."""
    check_size(path.name, path.stat().st_size, file_limit(path.name))
    return path.read_bytes()


def _json(path: Path) -> Any:
    try:
        return json.loads(_bounded_read(path).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path.name} is not valid JSON ({exc})") from None


def _header(path: Path) -> tuple[dict[str, tuple[int, ...]], dict[str, str]]:
    """(name -> shape, metadata) of a safetensors file from its header alone, never its tensors."""
    with path.open("rb") as f:
        head = f.read(8)
        head += f.read(min(int.from_bytes(head, "little"), MAX_SAFETENSORS_HEADER_BYTES + 1)) if len(head) == 8 else b""
    check_safetensors_header(head, path.name)  # the run limits: header size and entries, before parsing it again
    try:
        with safe_open(str(path), framework="pt") as st:  # also checks that the tensors cover the file exactly
            return {k: tuple(st.get_slice(k).get_shape()) for k in st.keys()}, st.metadata() or {}
    except (SafetensorError, ValueError, OSError) as exc:
        raise CheckpointError(f"{path.name} is not a valid safetensors file ({exc})") from None


def _int(v: Any) -> int | None:
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def _float(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


_COLUMNS = ("key", "signature", "id", "path", "owner", "status", "message", "name", "data", "settings",
            "test_neg_elbo", "active_units", "epochs", "epochs_planned", "created", "updated", "can_continue",
            "results")


class Index:
    """Run entries cached in SQLite, each with the signature of the files it was read from.

    `path` None keeps the cache in memory (a read-only store). Writes are best effort: when another process
    holds the database or the disk refuses, the listing is still right, only slower next time.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()  # one connection, shared by a server's threads
        self.note = ""  # what happened to an index that could not be used, for the store's notes
        self.rebuilt = False  # the entries are being read from the folders (missing, corrupt or older index)
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            self._discard(f"could not be read ({exc})")
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        existed = self.path is not None and self.path.exists() and self.path.stat().st_size > 0
        db = sqlite3.connect(":memory:" if self.path is None else str(self.path), timeout=10,
                             isolation_level=None, check_same_thread=False)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if existed and version != SCHEMA_VERSION:
                db.execute("DROP TABLE IF EXISTS runs")
                self.note = self.note or f"the run index {self.path} was from another version; rebuilt it"
            self.rebuilt = self.rebuilt or not existed or version != SCHEMA_VERSION
            db.execute(f"CREATE TABLE IF NOT EXISTS runs ({', '.join(_COLUMNS)}, PRIMARY KEY (key))")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("SELECT count(*) FROM runs").fetchone()  # reads the table: a corrupt file fails here
        except BaseException:
            db.close()
            raise
        return db

    def _discard(self, why: str) -> None:
        """Delete an unusable index file (and its journal) so that a fresh one is built from the folders."""
        assert self.path is not None  # an in-memory database cannot be corrupt
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.note = f"the run index {self.path} {why}; rebuilt it from the run folders, no run was lost"
        self.rebuilt = True

    def entries(self, prefix: str = "") -> dict[str, tuple[str, RunEntry]]:
        """key -> (signature, entry) of the cached folders whose key starts with `prefix`."""
        try:
            with self._lock:
                rows = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM runs WHERE key >= ? AND key < ?",
                                        (prefix, prefix + "\uffff")).fetchall()
        except sqlite3.OperationalError:  # busy beyond the timeout: read every folder this time
            return {}
        except sqlite3.DatabaseError as exc:  # corrupted while open (another process, a disk error)
            self._reset(exc)
            return {}
        return {row[0]: (row[1], _entry(row)) for row in rows}

    def update(self, changed: list[tuple[str, str, RunEntry]], gone: list[str]) -> None:
        """Store re-read entries (key, signature, entry) and forget folders that are gone."""
        if not changed and not gone:
            return
        try:
            with self._lock, self._db:
                self._db.execute("BEGIN")
                self._db.executemany("DELETE FROM runs WHERE key = ?", [(k,) for k in gone])
                self._db.executemany(f"INSERT OR REPLACE INTO runs VALUES ({', '.join('?' * len(_COLUMNS))})",
                                     [_row(k, s, e) for k, s, e in changed])
        except sqlite3.OperationalError:
            pass  # busy or read-only: the cache is only a cache
        except sqlite3.DatabaseError as exc:
            self._reset(exc)

    def _reset(self, exc: Exception) -> None:
        with self._lock:
            self._db.close()
            if self.path is not None:
                self._discard(f"could not be read ({exc})")
            self._db = self._open()

    def close(self) -> None:
        """Close the database."""
        self._db.close()


def _row(key: str, signature: str, e: RunEntry) -> tuple:
    return (key, signature, e.id, str(e.path), e.owner, e.status, e.message, e.name, e.data, json.dumps(e.settings),
            e.test_neg_elbo, e.active_units, e.epochs, e.epochs_planned, e.created, e.updated, int(e.can_continue),
            json.dumps(e.results))


def _entry(row: tuple) -> RunEntry:
    values = dict(zip(_COLUMNS, row, strict=True))
    values.pop("key"), values.pop("signature")
    return RunEntry(**{**values, "path": Path(values["path"]), "settings": json.loads(values["settings"] or "{}"),
                       "can_continue": bool(values["can_continue"]), "results": json.loads(values["results"] or "{}")})


def marked_broken(entry: RunEntry, message: str) -> RunEntry:
    """The entry of a folder whose full load failed after its listing passed (e.g. NaN weights)."""
    return replace(entry, status="broken", message=message)
