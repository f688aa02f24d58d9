"""Anomaly scoring of a long recording: 1,000,000 steps x 8 channels, windows of 64 every step (stride 1).

End to end = what `vae_core.anomaly` does for a chart and a summary: per-channel window errors from the
default conv1d VAE (latent mean, batched, no grad), mapped to every step, a validation-percentile threshold,
events with their top channels, point-wise AUC/AP. Goal (issue 12): <= 10 s and peak RSS <= 2 GB.
Baselines measured in the same run: the bare encode+decode of the same windows (the model's own floor),
and the step mapping done the usual way, one window at a time, timed on a sample and scaled up.
Each repeat runs in a fresh child process, so its peak RSS is its own; it is measured in float32 and with
the network under bfloat16 autocast (window_channel_errors(bfloat16=True)). VUS is timed on 100,000 steps
only: aeon's implementation loops over thresholds and buffer sizes (vae_core.anomaly.metrics.VUS_MAX_STEPS).

    python -m bench anomaly     # or: python -m bench.anomaly --child [bf16] (one measurement, as JSON)
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np

from .common import ROOT, Row, median

STEPS, CHANNELS, WINDOW = 1_000_000, 8, 64
GOAL_SECONDS, GOAL_RSS_GB = 10.0, 2.0


def recording(steps: int = STEPS, seed: int = 0):
    """A sensor Dataset of `steps` x 8 noisy sines with 20 labelled bursts (few windows cut: x is not scored)."""
    from vae_core.formats.sensor_csv import SensorOptions, build_sensor_dataset

    rng = np.random.default_rng(seed)
    t = np.arange(steps, dtype=np.float64)[:, None]
    raw = np.sin(t / rng.uniform(5, 50, CHANNELS)) + rng.normal(0, 0.05, (steps, CHANNELS))
    flags = np.zeros(steps)
    for start in rng.integers(steps // 2, steps - 500, 20):
        raw[start:start + 50, rng.integers(CHANNELS)] += 2.0
        flags[start:start + 50] = 1
    opts = SensorOptions(window=WINDOW, stride=4096)
    return build_sensor_dataset("bench", raw, flags, tuple(f"ch{c}" for c in range(CHANNELS)), opts, [])


def _peak_rss_gb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2  # Linux reports KiB


def measure(steps: int = STEPS, bfloat16: bool = False) -> dict:
    """One end-to-end scoring of a fresh recording, with the time of each stage (run in a child process)."""
    import torch

    from vae_core import anomaly as A
    from vae_core.config import default_model_config
    from vae_core.runs import new_model

    data = recording(steps)
    model = new_model(default_model_config("sensor", (WINDOW, CHANNELS)))
    stages, t0 = {}, time.perf_counter()

    def lap(name: str) -> None:
        stages[name] = time.perf_counter() - t0 - sum(stages.values())

    errors = A.window_channel_errors(model, data, stride=1, bfloat16=bfloat16)
    lap("window errors (model)")
    per_channel = A.windows_to_steps(errors.errors, errors.starts, WINDOW, steps)
    total = per_channel.sum(axis=1)
    lap("step mapping")
    threshold = A.ThresholdRule().threshold(A.validation_scores(total, data.step_parts(), data.series_anomaly))
    events = A.detect_events(total, threshold, min_length=5, merge_gap=32, channel_scores=per_channel,
                             channels=data.channels)
    lap("threshold + events")
    metrics = A.point_metrics(total, data.series_anomaly)
    lap("point AUC / AP")
    seconds = time.perf_counter() - t0
    floor = _bare_forward(model, data, torch)
    loop = _loop_mapping(errors)
    labels = data.series_anomaly[:100_000].copy()
    labels[50_000:50_050] = 1
    vus_seconds = _timed(lambda: A.vus_metrics(total[:100_000], labels, max_buffer=WINDOW))
    return {"seconds": seconds, "stages": stages, "rss_gb": _peak_rss_gb(), "floor": floor, "loop_mapping": loop,
            "vus_100k": vus_seconds, "windows": int(len(errors.starts)), "events": len(events),
            "auc": metrics["point_auc"], "threads": torch.get_num_threads()}


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _bare_forward(model, data, torch) -> float:
    """encode -> mean -> decode over 100,000 prepared windows, scaled to all windows: the model's floor."""
    n = 100_000
    view = np.lib.stride_tricks.sliding_window_view(data.series[:n + WINDOW - 1], WINDOW, axis=0)
    batches = [torch.from_numpy(np.ascontiguousarray(view[i:i + 1024].transpose(0, 2, 1)))
               for i in range(0, n, 1024)]
    model.eval()
    with torch.no_grad():
        seconds = _timed(lambda: [model.decode(model.encode(b)[0]) for b in batches])
    return seconds * (STEPS - WINDOW + 1) / n


def _loop_mapping(errors, sample: int = 20_000) -> float:
    """The usual mapping, one window at a time (sums[s:s+T] += e), on a sample, scaled to all windows."""
    sums, counts = np.zeros((STEPS, CHANNELS)), np.zeros(STEPS)
    starts, values = errors.starts[:sample], errors.errors[:sample]

    def loop() -> None:
        for s, e in zip(starts, values):
            sums[s:s + WINDOW] += e
            counts[s:s + WINDOW] += 1
    return _timed(loop) * len(errors.starts) / sample


def _child(*args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.anomaly", "--child", *args], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _rows(results: list[dict], mode: str) -> list[Row]:
    seconds, rss = median([r["seconds"] for r in results]), max(r["rss_gb"] for r in results)
    floor = median([r["floor"] for r in results])
    stages = ", ".join(f"{k} {median([r['stages'][k] for r in results]):.2f} s" for k in results[0]["stages"])
    print(f"  anomaly ({mode}): {results[0]['windows']:,} windows, {results[0]['threads']} torch threads; {stages}; "
          f"VUS on 100,000 steps {median([r['vus_100k'] for r in results]):.1f} s", flush=True)
    return [
        Row("anomaly", f"score 1,000,000 steps x 8 channels, window 64, stride 1, end to end ({mode})",
            f"{seconds:.2f} s", f"bare float32 encode+decode {floor:.2f} s", seconds / floor, " x floor",
            f"<= {GOAL_SECONDS:g} s", seconds <= GOAL_SECONDS),
        Row("anomaly", f"peak RSS of that scoring ({mode}, child process)", f"{rss:.2f} GB",
            goal=f"<= {GOAL_RSS_GB:g} GB", met=rss <= GOAL_RSS_GB),
    ]


def run(repeats: int = 3) -> list[Row]:
    full = [_child() for _ in range(repeats)]
    fast = [_child("bf16") for _ in range(repeats)]
    mapping = median([r["stages"]["step mapping"] for r in full])
    loop = median([r["loop_mapping"] for r in full])
    return [*_rows(full, "float32"), *_rows(fast, "bfloat16 autocast"),
            Row("anomaly", "windows -> steps mapping (bincount + cumsum)", f"{mapping:.3f} s",
                f"one window at a time {loop:.1f} s", loop / mapping, " x faster")]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(measure(bfloat16=sys.argv[2:] == ["bf16"])))
    else:
        from .common import table

        print(table(run()))
