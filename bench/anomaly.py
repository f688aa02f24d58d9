"""Anomaly scoring of a long recording: 1,000,000 steps x 8 channels, windows of 64 every step (stride 1).

End to end = what `vae_core.anomaly` does for a chart and a summary: per-channel window errors from the
default conv1d VAE (latent mean, batched, no grad), mapped to every step, a validation-percentile threshold,
events with their top channels, point-wise AUC/AP. Goal (issue 12): <= 10 s and peak RSS <= 2 GB.
Baselines measured in the same run: the bare encode+decode of the same windows (the model's own floor),
and the step mapping done the usual way, one window at a time, timed on a sample and scaled up.
Each repeat runs in a fresh child process, so its peak RSS is its own; it is measured in float32 and with
the network under bfloat16 autocast (window_channel_errors(bfloat16=True)). VUS is timed on 100,000 steps
only: aeon's implementation loops over thresholds and buffer sizes (vae_core.anomaly.metrics.VUS_MAX_STEPS).
The Anomalies page's own end to end (workbench.score_all: the VAE and the four baselines on every step, and
the metrics that need no threshold), with its peak RSS, stands beside the VAE's scoring alone in the same child.

    python -m bench anomaly                              # the full size, 3 repeats
    python -m bench.anomaly --steps 20000 --repeats 1    # a quick look at a small size
    python -m bench.anomaly --child [bf16|workbench] --steps N   # one measurement, as JSON
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np

from .common import ROOT, Row, median

STEPS, CHANNELS, WINDOW = 1_000_000, 8, 64
GOAL_SECONDS, GOAL_RSS_GB = 10.0, 2.0


def recording(steps: int = STEPS, seed: int = 0, stride: int = 4096):
    """A sensor Dataset of `steps` x 8 noisy sines with 20 labelled bursts (few windows cut by default: x is not
    scored, the series is)."""
    from vae_core.formats.sensor_csv import SensorOptions, build_sensor_dataset

    rng = np.random.default_rng(seed)
    t = np.arange(steps, dtype=np.float64)[:, None]
    raw = np.sin(t / rng.uniform(5, 50, CHANNELS)) + rng.normal(0, 0.05, (steps, CHANNELS))
    flags = np.zeros(steps)
    for start in rng.integers(steps // 2, steps - 100, 20):
        raw[start:start + 50, rng.integers(CHANNELS)] += 2.0
        flags[start:start + 50] = 1
    opts = SensorOptions(window=WINDOW, stride=stride)
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
    loop = _loop_mapping(errors, steps)
    vus_steps = min(100_000, steps)
    labels = data.series_anomaly[:vus_steps].copy()
    labels[vus_steps // 2:vus_steps // 2 + 50] = 1
    vus_seconds = _timed(lambda: A.vus_metrics(total[:vus_steps], labels, max_buffer=WINDOW))
    return {"seconds": seconds, "stages": stages, "rss_gb": _peak_rss_gb(), "floor": floor, "loop_mapping": loop,
            "vus_100k": vus_seconds, "windows": int(len(errors.starts)), "events": len(events),
            "auc": metrics["point_auc"], "threads": torch.get_num_threads()}


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def measure_workbench(steps: int = STEPS) -> dict:
    """The Anomalies page's scoring end to end (workbench.score_all), and the VAE's scoring alone, in one child."""
    from vae_core import anomaly as A
    from vae_core.anomaly.baselines import MAX_FIT_WINDOWS
    from vae_core.anomaly.workbench import score_all
    from vae_core.config import default_model_config
    from vae_core.runs import new_model

    # as many training windows as the baselines learn from at most, as a stride-8 upload of this size would give
    data = recording(steps, stride=max(1, int(0.6 * steps) // MAX_FIT_WINDOWS))
    model = new_model(default_model_config("sensor", (WINDOW, CHANNELS)))
    vae_only = _timed(lambda: A.score_recording(model, data))
    seconds = _timed(lambda: score_all(model, data))
    return {"seconds": seconds, "vae_only": vae_only, "rss_gb": _peak_rss_gb(), "steps": steps}


def _bare_forward(model, data, torch) -> float:
    """encode -> mean -> decode over up to 100,000 prepared windows, scaled to all windows: the model's floor."""
    windows = len(data.series) - WINDOW + 1
    n = min(100_000, windows)
    view = np.lib.stride_tricks.sliding_window_view(data.series[:n + WINDOW - 1], WINDOW, axis=0)
    batches = [torch.from_numpy(np.ascontiguousarray(view[i:i + 1024].transpose(0, 2, 1)))
               for i in range(0, n, 1024)]
    model.eval()
    with torch.no_grad():
        seconds = _timed(lambda: [model.decode(model.encode(b)[0]) for b in batches])
    return seconds * windows / n


def _loop_mapping(errors, steps: int, sample: int = 20_000) -> float:
    """The usual mapping, one window at a time (sums[s:s+T] += e), on a sample, scaled to all windows."""
    sums, counts = np.zeros((steps, CHANNELS)), np.zeros(steps)
    starts, values = errors.starts[:sample], errors.errors[:sample]

    def loop() -> None:
        for s, e in zip(starts, values, strict=True):
            sums[s:s + WINDOW] += e
            counts[s:s + WINDOW] += 1
    return _timed(loop) * len(errors.starts) / sample


def _child(steps: int, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.anomaly", "--child", *args, "--steps", str(steps)], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _size(steps: int) -> str:
    return f"{steps:,} steps x {CHANNELS} channels, window {WINDOW}, stride 1"


def _rows(results: list[dict], mode: str, steps: int) -> list[Row]:
    seconds, rss = median([r["seconds"] for r in results]), max(r["rss_gb"] for r in results)
    floor = median([r["floor"] for r in results])
    stages = ", ".join(f"{k} {median([r['stages'][k] for r in results]):.2f} s" for k in results[0]["stages"])
    print(f"  anomaly ({mode}): {results[0]['windows']:,} windows, {results[0]['threads']} torch threads; {stages}; "
          f"VUS on {min(100_000, steps):,} steps {median([r['vus_100k'] for r in results]):.1f} s", flush=True)
    full = steps == STEPS  # the goals are set for the full size
    return [
        Row("anomaly", f"score {_size(steps)}, end to end ({mode})", f"{seconds:.2f} s",
            f"bare float32 encode+decode {floor:.2f} s", seconds / floor, " x floor",
            f"<= {GOAL_SECONDS:g} s" if full else "", seconds <= GOAL_SECONDS if full else None),
        Row("anomaly", f"peak RSS of that scoring ({mode}, child process)", f"{rss:.2f} GB",
            goal=f"<= {GOAL_RSS_GB:g} GB" if full else "", met=rss <= GOAL_RSS_GB if full else None),
    ]


def run(repeats: int = 3, steps: int = STEPS) -> list[Row]:
    full = [_child(steps) for _ in range(repeats)]
    fast = [_child(steps, "bf16") for _ in range(repeats)]
    page = [_child(steps, "workbench") for _ in range(repeats)]
    mapping = median([r["stages"]["step mapping"] for r in full])
    loop = median([r["loop_mapping"] for r in full])
    page_seconds, vae_only = median([r["seconds"] for r in page]), median([r["vae_only"] for r in page])
    return [*_rows(full, "float32", steps), *_rows(fast, "bfloat16 autocast", steps),
            Row("anomaly", "windows -> steps mapping (bincount + cumsum)", f"{mapping:.3f} s",
                f"one window at a time {loop:.1f} s", loop / mapping, " x faster"),
            Row("anomaly", f"Anomalies page's scoring (VAE + 4 baselines + ranking metrics), {_size(steps)}",
                f"{page_seconds:.2f} s", f"the VAE's scoring alone {vae_only:.2f} s", page_seconds / vae_only,
                " x the VAE alone"),
            Row("anomaly", "peak RSS of the page's scoring (child process)",
                f"{max(r['rss_gb'] for r in page):.2f} GB")]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.anomaly", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=STEPS, help=f"time steps of the recording (default {STEPS:,})")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs="?", const="float32", default=None, choices=["float32", "bf16", "workbench"],
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "workbench":
        print(json.dumps(measure_workbench(args.steps)))
    elif args.child is not None:
        print(json.dumps(measure(args.steps, bfloat16=args.child == "bf16")))
    else:
        from .common import table

        print(table(run(args.repeats, args.steps)))


if __name__ == "__main__":
    main()
