"""Cost curves: what a data set of a given size costs before anyone uploads it.

Images (real MNIST digits, the bundled 5,000 tiled and shuffled): 1k, 5k, 20k, 60k, uploaded as a gzipped IDX pair.
Sensor recordings (8 noisy channels with a time column, as a CSV): 10k, 100k, 1M, 2M rows at the default window
(64) and stride (8). For each size, in a fresh child process (so its peak RSS is its own):
- load: `vae_core.data.load_upload` on the file's bytes (parse, check, window, scale);
- train: one epoch of the default model for the kind (MLP for images, conv1d for sensors), threads=1 as the
  dashboard trains; for the sensor recordings over 100k rows the epoch is timed over its first 200 steps and
  scaled to the whole epoch (said in the table);
- map: the Latent space page's t-SNE (vae_core.analysis.tsne_2d) of the latent means, at most 5,000 of them
  (the page's largest map: it subsamples, so the map's cost stops growing there), timed to the end;
- peak RSS of the process after all three.
The baseline of each row is the smallest size's figure; the ratio shows how the cost grows against the size.
Writes artifacts/bench/costs.json and docs/cost-curves.png.

    python -m bench costs      # or: python -m bench.costs --child image 20000
"""
from __future__ import annotations

import gzip
import io
import json
import math
import struct
import subprocess
import sys
import time

import numpy as np

from .common import ARTIFACTS, ROOT, Row, mnist_uint8

IMAGE_SIZES = (1_000, 5_000, 20_000, 60_000)
SENSOR_ROWS = (10_000, 100_000, 1_000_000, 2_000_000)
MAP_POINTS = 5_000
TIMED_STEPS = 200  # steps timed when a whole epoch would take minutes


def idx_files(n: int) -> list[tuple[str, bytes]]:
    images, labels = mnist_uint8(n)
    img = struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes()
    lab = struct.pack(">II", 2049, n) + labels.astype(np.uint8).tobytes()
    return [("train-images-idx3-ubyte.gz", gzip.compress(img, 1)), ("train-labels-idx1-ubyte.gz",
                                                                   gzip.compress(lab, 1))]


def sensor_csv(rows: int, seed: int = 0) -> list[tuple[str, bytes]]:
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    values = np.sin(t[:, None] / rng.uniform(5, 80, 8)) + rng.normal(0, 0.05, (rows, 8))
    buf = io.StringIO()
    buf.write("time," + ",".join(f"ch{c}" for c in range(8)) + "\n")
    np.savetxt(buf, np.column_stack([t, values]), delimiter=",", fmt=["%d"] + ["%.4f"] * 8)
    return [("recording.csv", buf.getvalue().encode())]


def measure(kind: str, size: int) -> dict:
    """Load, one epoch and the map for one size (in this process; run it in a child)."""
    import resource

    import torch

    from vae_core import analysis
    from vae_core.config import TrainConfig, default_model_config
    from vae_core.data import load_upload
    from vae_core.runs import new_model
    from vae_core.training import train

    torch.set_num_threads(1)
    files = idx_files(size) if kind == "image" else sensor_csv(size)
    t = time.perf_counter()
    data = load_upload(files)
    load_s = time.perf_counter() - t
    model = new_model(default_model_config(kind, data.input_shape))
    cfg = TrainConfig(epochs=1, threads=1)
    n_train = len(data.indices("train"))
    steps_per_epoch = math.ceil(n_train / min(cfg.batch_size, n_train))
    timed = steps_per_epoch if kind == "image" or size <= 100_000 else min(TIMED_STEPS, steps_per_epoch)
    t = time.perf_counter()
    for ev in train(model, data, cfg):
        if ev.kind == "step" and ev.step >= timed:
            break
    epoch_s = (time.perf_counter() - t) * steps_per_epoch / timed
    ids = data.indices("all")[analysis.subsample(len(data.x), MAP_POINTS, seed=0)]
    means = analysis.encode_means(model, data.x[ids])
    t = time.perf_counter()
    analysis.tsne_2d(means)
    map_s = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB (Linux reports KiB)
    return {"kind": kind, "size": size, "samples": len(data.x), "load_s": load_s, "epoch_s": epoch_s,
            "epoch_estimated": timed < steps_per_epoch, "map_s": map_s, "map_points": len(ids), "rss_mb": rss,
            "file_mb": sum(len(b) for _, b in files) / 2 ** 20}


def child(kind: str, size: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.costs", "--child", kind, str(size)], cwd=ROOT,
                         capture_output=True, text=True, timeout=1800)
    if out.returncode:
        raise RuntimeError(f"costs child {kind} {size} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def chart(results: list[dict]) -> None:
    """docs/cost-curves.png: seconds (load, one epoch, map) and peak RSS against the data's size, per kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 7), constrained_layout=True)
    for col, (kind, unit) in enumerate((("image", "images"), ("sensor", "rows of 8 channels"))):
        rows = [r for r in results if r["kind"] == kind]
        sizes = [r["size"] for r in rows]
        ax = axes[0, col]
        for key, name in (("load_s", "load"), ("epoch_s", "one training epoch"), ("map_s", "t-SNE map")):
            ax.plot(sizes, [r[key] for r in rows], marker="o", label=name)
        ax.set(xscale="log", yscale="log", xlabel=unit, ylabel="seconds", title=f"{kind}: time")
        ax.legend()
        ax.grid(True, which="both", alpha=0.3)
        ax = axes[1, col]
        ax.plot(sizes, [r["rss_mb"] for r in rows], marker="o", color="tab:red")
        ax.set(xscale="log", xlabel=unit, ylabel="peak RSS (MiB)", title=f"{kind}: memory")
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("What a data set costs on this machine (2 cores, 1 training thread)")
    (ROOT / "docs").mkdir(exist_ok=True)
    fig.savefig(ROOT / "docs" / "cost-curves.png", dpi=110)


def run(repeats: int = 1) -> list[Row]:
    results = []
    for kind, sizes in (("image", IMAGE_SIZES), ("sensor", SENSOR_ROWS)):
        for size in sizes:
            results.append(child(kind, size))
            r = results[-1]
            print(f"  costs: {kind} {size:,}: load {r['load_s']:.2f} s, epoch {r['epoch_s']:.1f} s, "
                  f"map {r['map_s']:.1f} s, RSS {r['rss_mb']:,.0f} MiB", flush=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "costs.json").write_text(json.dumps(results, indent=1))
    chart(results)
    rows = []
    for kind in ("image", "sensor"):
        group = [r for r in results if r["kind"] == kind]
        base = group[0]
        for r in group:
            unit = "images" if kind == "image" else "rows"
            epoch = f"{r['epoch_s']:.1f} s" + (" (est. from 200 steps)" if r["epoch_estimated"] else "")
            rows.append(Row("costs", f"{kind}: {r['size']:,} {unit} ({r['samples']:,} samples)",
                            f"load {r['load_s']:.2f} s, epoch {epoch}, map {r['map_s']:.1f} s, "
                            f"RSS {r['rss_mb']:,.0f} MiB",
                            f"{base['size']:,}: load {base['load_s']:.2f} s, epoch {base['epoch_s']:.2f} s",
                            r["epoch_s"] / base["epoch_s"], f"x epoch time at {r['size'] / base['size']:g}x size"))
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(measure(sys.argv[2], int(sys.argv[3]))))
