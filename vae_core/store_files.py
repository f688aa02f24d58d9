"""File primitives of the run store: atomic writes, the live-writer lock of a run folder, sizes, signatures.

An atomic write goes to a temporary file in the same folder, is flushed to disk, then renamed over the old
file (a rename within one file system is atomic): a process killed at any moment leaves the old file or the
new one, never half of one. A run folder being trained holds an exclusive `flock` on the folder itself; the
kernel drops it when the process ends, however it ends (SIGKILL too), so a folder whose lock can be taken
has no live writer. Linux and macOS; flock over NFS depends on the server.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

TEMP_PREFIX = ".tmp-"  # files and folders being written; never listed, removed when stale
JOURNAL = ".commit.json"  # names the finished temporary files of a checkpoint still to be renamed into place
STALE_SECONDS = 600  # a temporary left this long is from a process that died while writing


class StoreError(ValueError):
    """The run store cannot do what was asked; the message says why and what to do."""


class QuotaError(StoreError):
    """A workspace's disk quota has no room for what was to be written (nothing was written)."""


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a crash leaves the old content or the new, never a mix."""
    tmp = path.parent / _write_temp(path.parent, path.name, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def commit_files(folder: Path, files: dict[str, bytes]) -> None:
    """Replace several files of `folder` as one: after a crash they are all old or, once rolled forward, all new.

    Each new file is written in full to a temporary first; then a journal naming them is written atomically,
    and only then are they renamed into place. A process killed before the journal exists leaves the old
    files; one killed after it leaves a journal that `roll_forward` completes.
    """
    temps: dict[str, str] = {}
    try:
        for name, blob in files.items():
            temps[name] = _write_temp(folder, name, blob)
        write_atomic(folder / JOURNAL, json.dumps(temps).encode())
    except BaseException:
        for tmp in temps.values():
            (folder / tmp).unlink(missing_ok=True)
        raise
    fsync_dir(folder)
    roll_forward(folder)


def _write_temp(folder: Path, name: str, data: bytes) -> str:
    """Write `data` in full to a new temporary file in `folder`, flushed to disk; returns its name."""
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{name}.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return os.path.basename(tmp)


def roll_forward(folder: Path) -> None:
    """Finish a checkpoint whose journal was written (see commit_files); nothing to do without a journal."""
    journal = folder / JOURNAL
    try:
        temps = json.loads(journal.read_bytes())
    except FileNotFoundError:
        return
    except ValueError:  # not ours: written atomically, a journal is whole
        temps = {}
    for name, tmp in temps.items() if isinstance(temps, dict) else ():
        plain = all(isinstance(n, str) and "/" not in n and n not in ("", ".", "..") for n in (name, tmp))
        if plain and tmp.startswith(TEMP_PREFIX) and (folder / tmp).exists():  # never outside the folder
            os.replace(folder / tmp, folder / name)
    fsync_dir(folder)
    journal.unlink()


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (renames, new files) to disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def lock_folder(folder: Path, tries: int = 40) -> int:
    """Take the folder's writer lock (an open descriptor: keep it, pass it to unlock); OSError when it is held."""
    fd = os.open(folder, os.O_RDONLY)
    for _ in range(tries):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            time.sleep(0.05)  # a reader's probe holds the lock for microseconds; a writer holds it for good
    os.close(fd)
    raise BlockingIOError(f"{folder} is being written by another process")


def unlock_folder(fd: int) -> None:
    """Release a lock taken with lock_folder."""
    os.close(fd)  # closing the descriptor drops the flock


def has_live_writer(folder: Path) -> bool:
    """True while some process (this one included) holds the folder's writer lock."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # shared: two readers probing at once do not collide
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def tidy(folder: Path) -> None:
    """In a folder no process writes to: finish a checkpoint cut short, delete temporaries left by a killed writer."""
    try:
        fd = lock_folder(folder, tries=1)  # held while tidying, so that no writer starts meanwhile
    except OSError:
        return  # a writer holds it (or the folder is gone): nothing is stale
    try:
        roll_forward(folder)
        remove_stale_temps(folder, now=float("inf"))
    except OSError:
        pass  # read-only: the listing is right anyway, only the disk is not tidied
    finally:
        unlock_folder(fd)


def signature(folder: Path, names: tuple[str, ...]) -> str:
    """Size and modification time of each named file: changes whenever one of them is written or replaced."""
    parts = []
    for name in names:
        try:
            st = os.stat(folder / name)
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
        except FileNotFoundError:
            pass
    return "|".join(parts)


def folder_bytes(folder: Path) -> int:
    """Bytes of every file under `folder` (what it takes on disk, give or take the blocks)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except FileNotFoundError:  # removed meanwhile
                pass
    return total


def remove_stale_temps(folder: Path, now: float | None = None) -> None:
    """Delete temporary files and folders in `folder` left by a process that died while writing them."""
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(TEMP_PREFIX):
            try:
                if now - entry.stat(follow_symlinks=False).st_mtime > STALE_SECONDS:
                    shutil.rmtree(entry.path) if entry.is_dir(follow_symlinks=False) else os.unlink(entry.path)
            except OSError:
                pass  # read-only or gone: harmless, it is never listed


def can_write(folder: Path) -> str | None:
    """None when files can be created in `folder`; else why not (e.g. 'Read-only file system')."""
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=TEMP_PREFIX):
            return None
    except OSError as exc:
        return exc.strerror or str(exc)
