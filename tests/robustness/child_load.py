"""Load saved runs in a child process and measure each load: the engine's message, peak memory, seconds.

One child imports torch and vae_core once, then loads each path in turn with `load_run`. Before each load
it resets the kernel's peak-RSS counter (`/proc/self/clear_refs`), so a load's peak is the kernel's own
VmHWM after it minus the resident memory just before it (the baseline: the interpreter with torch and
vae_core imported, plus what earlier loads left). The parent polls the child with psutil and stops it
when it passes `kill_mb`, so a regression fails a test instead of exhausting the machine.
Used by tests/robustness/test_hostile_runs.py and `python -m bench hostile` (which also points it at
another checkout to measure the code before a change).
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
MB = 1024**2

CHILD = r"""
import gc, json, sys, time

def status(field):  # bytes, from the kernel's own accounting of this process
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024

import torch  # noqa: F401 - part of the baseline, as in the server
from vae_core.checkpoint import CheckpointError, load_run

for path in sys.argv[1:]:
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # VmHWM := VmRSS now
    baseline = status("VmRSS")
    t = time.perf_counter()
    try:
        load_run(path)
        error = None
    except CheckpointError as exc:
        error = str(exc)
    seconds = time.perf_counter() - t
    print(json.dumps({"path": path, "baseline": baseline, "peak": status("VmHWM"), "seconds": seconds,
                      "error": error}), flush=True)
"""


@dataclass(frozen=True)
class Load:
    """One load in the child."""

    path: str
    error: str | None  # the CheckpointError's message; None when the run loaded
    baseline_mb: float  # resident memory just before the load (interpreter + torch + vae_core + earlier loads)
    peak_mb: float  # peak resident memory during the load, above the baseline
    seconds: float


@dataclass(frozen=True)
class ChildRun:
    loads: list[Load]
    killed: str  # why the parent stopped the child ('' when it finished)
    max_rss_mb: float  # highest resident memory the parent saw
    stderr: str


def load_in_child(paths: list[str | Path], root: Path = ROOT, kill_mb: float = 2500,
                  give_up_s: float = 600) -> ChildRun:
    """Load each path in one child process (vae_core from `root`); stop it past kill_mb or give_up_s."""
    out, err = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")  # files: a pipe could fill and block it
    proc = subprocess.Popen([sys.executable, "-c", CHILD, *map(str, paths)], cwd=root, stdout=out, stderr=err,
                            text=True)
    watched, killed, max_rss, started = psutil.Process(proc.pid), "", 0.0, time.monotonic()
    while proc.poll() is None:
        try:
            max_rss = max(max_rss, watched.memory_info().rss / MB)
        except psutil.Error:
            break
        if max_rss > kill_mb or time.monotonic() - started > give_up_s:
            killed = f"over {kill_mb:.0f} MB" if max_rss > kill_mb else f"over {give_up_s:.0f} s"
            killed += f" after {time.monotonic() - started:.1f} s"
            proc.kill()
            break
        time.sleep(0.02)
    proc.wait()
    out.seek(0), err.seek(0)
    loads = []
    for line in out.read().splitlines():
        row = json.loads(line)
        loads.append(Load(row["path"], row["error"], row["baseline"] / MB, (row["peak"] - row["baseline"]) / MB,
                          row["seconds"]))
    return ChildRun(loads, killed, max_rss, err.read())
