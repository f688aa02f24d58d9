"""Run store: what saving a run while it trains costs, the disk one run takes, and a restart with 100 runs.

- Checkpoints: the default image run (MLP 784-400-16, 20 epochs, batch 128) on the bundled 5,000 digits and on
  60,000 (the 5,000 tiled, 3 epochs), trained with a RunWriter (a checkpoint at every epoch end and at the end,
  each fsynced) against the same run without one, interleaved. The writer's own timer gives the cost of one
  checkpoint.
- Disk: the bytes of that finished run's folder.
- Restart: a store of 100 run folders (copies of that run); a fresh process opens it and lists the runs, with
  its index and after the index was deleted (rebuilt from the folders); the baseline loads every run's weights.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from vae_core.config import configs_for
from vae_core.data import load_bundled
from vae_core.dataset import Dataset, random_split
from vae_core.runs import finish_run, new_run, train_run
from vae_core.store import RunStore
from vae_core.store_files import folder_bytes

from .common import ROOT, Row, median, mnist_uint8

N_RUNS = 100
LIST_SCRIPT = """
import json, sys, time
t0 = time.perf_counter()
from vae_core.store import RunStore
from vae_core.checkpoint import load_run
t1 = time.perf_counter()
store = RunStore(sys.argv[1])
entries = store.list()
t2 = time.perf_counter()
if sys.argv[2] == "load":
    for e in entries:
        load_run(e.path)
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "open_list": t2 - t1, "load": t3 - t2, "runs": len(entries),
                  "notes": store.notes}))
"""


def _train(data: Dataset, epochs: int, store: RunStore | None) -> tuple[float, float, float, list[float], object]:
    """(whole run s, s the training thread waited in writer.event per epoch, s for the writer's start and finish,
    each checkpoint's background write in s, the run)."""
    run = new_run(data, *configs_for(data.kind, data.input_shape, {"epochs": epochs}), source="mnist")
    start = time.perf_counter()
    writer = store.writer(run) if store is not None else None
    fixed, in_events = time.perf_counter() - start, 0.0
    for ev in train_run(run):
        if writer is not None:
            t = time.perf_counter()
            writer.event(ev)
            in_events += time.perf_counter() - t
    finish_run(run, iwae_k=0)
    if writer is not None:
        t = time.perf_counter()
        writer.finished()
        fixed += time.perf_counter() - t
    return (time.perf_counter() - start, in_events / epochs, fixed, writer.checkpoint_seconds if writer else [],
            run)


def _sixty_thousand(bundled: Dataset) -> Dataset:
    """60,000 real digits (the bundled 5,000 tiled), split 80/10/10 as the loaders do."""
    images, labels = mnist_uint8(60_000)
    return replace(bundled, x=(images.astype("float32") / 255.0)[:, None], y=labels.astype(bundled.y.dtype),
                   split=random_split(60_000))


def _open_list(root: Path, mode: str) -> dict:
    done = subprocess.run([sys.executable, "-c", LIST_SCRIPT, str(root), mode], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(repeats: int = 3) -> list[Row]:
    bundled = load_bundled("mnist")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for k, (name, data, epochs) in enumerate((("5,000 digits, 20 epochs", bundled, 20),
                                                  ("60,000 digits, 3 epochs", _sixty_thousand(bundled), 3))):
            with_writer, without, blocked, fixed, checkpoints = [], [], [], [], []
            for i in range(repeats):  # interleaved: load on the machine hits both alike
                seconds, waited, start_end, ckpt, run = _train(data, epochs, RunStore(tmp / f"train-{k}-{i}"))
                if k == 0:
                    folder = tmp / f"train-{k}-{i}" / run.id
                with_writer.append(seconds)
                blocked.append(waited)
                fixed.append(start_end)
                checkpoints += ckpt
                without.append(_train(data, epochs, None)[0])
            epoch = median(without) / epochs
            rows.append(Row("store", f"default run, {name}: trained while saved (checkpoint each epoch)",
                            f"{median(with_writer):.2f} s", f"not saved {median(without):.2f} s",
                            median(with_writer) / median(without), "x"))
            rows.append(Row("store", f"per epoch, training waits for the writer (serialising the checkpoint), {name}",
                            f"{median(blocked) * 1000:.1f} ms", f"epoch {epoch * 1000:.0f} ms",
                            median(blocked) / epoch, "x epoch"))
            rows.append(Row("store", f"once per run, the writer's start and finish (synchronous checkpoints), {name}",
                            f"{median(fixed) * 1000:.0f} ms"))
            rows.append(Row("store", f"one checkpoint written and fsynced (background thread), {name}",
                            f"{median(checkpoints) * 1000:.1f} ms", f"epoch {epoch * 1000:.0f} ms",
                            median(checkpoints) / epoch, "x epoch"))
        size = folder_bytes(folder)
        rows.append(Row("store", "disk per run (default MNIST run, 20 epochs: 5 files)", f"{size / 2**20:.2f} MB"))

        store = tmp / "hundred"
        for i in range(N_RUNS):
            shutil.copytree(folder, store / f"run-{i:03d}")
        RunStore(store)  # build the index once
        warm = [_open_list(store, "list") for _ in range(repeats)]
        cold = []
        for _ in range(repeats):
            (store / "index.sqlite").unlink()
            cold.append(_open_list(store, "list"))
        loaded = _open_list(store, "load")
        assert all(r["runs"] == N_RUNS for r in warm + cold)
        rows.append(Row("store", f"restart: open the store and list {N_RUNS} runs (index kept)",
                        f"{median([r['open_list'] for r in warm]) * 1000:.0f} ms",
                        f"load all {N_RUNS} runs {loaded['load']:.2f} s",
                        median([r['open_list'] for r in warm]) / loaded["load"], "x"))
        rows.append(Row("store", f"restart: open and list {N_RUNS} runs, index deleted (rebuilt)",
                        f"{median([r['open_list'] for r in cold]) * 1000:.0f} ms"))
        rows.append(Row("store", "restart: importing vae_core.store in a fresh process (torch)",
                        f"{median([r['import'] for r in warm]):.2f} s"))
    return rows
