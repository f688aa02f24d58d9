"""Shared pieces of the benchmarks: result rows, the table, medians, the machine's matmul rate, test data.

Every figure is compared with a baseline measured in the same run (the machine is shared, so absolute
seconds drift); a row carries the measured value, the baseline, their ratio and the goal it is held to.
"""
from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "bench"


@dataclass
class Row:
    """One line of the table: `value` against `baseline`, ratio = value / baseline unless given."""

    bench: str  # train | dashboard | latency | tsne | memory
    what: str
    value: str
    baseline: str = ""
    ratio: float | None = None
    ratio_note: str = ""  # what the ratio means, e.g. "x floor", "x faster"
    goal: str = ""
    met: bool | None = None


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def spread(values: list[float]) -> str:
    """'median (min-max, n=K)' for a note on how noisy a figure was."""
    return f"{median(values):.3g} ({min(values):.3g}-{max(values):.3g}, n={len(values)})"


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def sgemm_gflops(repeats: int = 7, threads: int | None = None) -> float:
    """The machine's measured float32 matmul rate: torch 2048 x 2048 @ 2048 x 2048, median of `repeats`, on
    `threads` torch threads (None: the process's setting); a floor must use the threads its job trains on."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads or before)
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    try:
        for _ in range(2):
            a @ b
        times = [timed(lambda: a @ b) for _ in range(repeats)]
    finally:
        torch.set_num_threads(before)
    # the median, not the best: the same statistic the model's own steps are judged by
    return 2 * 2048 ** 3 / median(times) / 1e9


def mnist_uint8(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n real MNIST digits (n, 28, 28) uint8 with labels: the bundled 5,000 tiled (and shuffled) up to n."""
    arrays = np.load(ROOT / "sample_data" / "mnist_5k.npz", allow_pickle=False)
    images, labels = arrays["images"], arrays["labels"]
    reps = -(-n // len(images))
    order = np.random.default_rng(seed).permutation(len(images) * reps)[:n]
    return np.tile(images, (reps, 1, 1))[order], np.tile(labels, reps)[order]


def machine() -> str:
    import torch

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads), "
            f"Python {platform.python_version()}, load average at start {load:.1f}")


def fmt_ratio(row: Row) -> str:
    if row.ratio is None:
        return ""
    return f"{row.ratio:.2f}{row.ratio_note}"


def table(rows: list[Row]) -> str:
    """The rows as a fixed-width table (also valid Markdown)."""
    head = ["bench", "measure", "value", "baseline", "ratio", "goal", "met"]
    body = [[r.bench, r.what, r.value, r.baseline, fmt_ratio(r), r.goal,
             "" if r.met is None else ("yes" if r.met else "NO")] for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, body)])
