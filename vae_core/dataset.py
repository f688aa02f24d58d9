"""The one container every loader returns and every model, page and test consumes."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PARTS = ("train", "val", "test")  # split codes 0, 1, 2
KINDS = ("image", "sensor")


_BLOCK_VALUES = 1 << 20


def all_finite(values: np.ndarray) -> bool:
    """np.isfinite(values).all() without its boolean array: min and max are NaN when any value is, and show an inf."""
    return values.size == 0 or bool(np.isfinite(values.min()) and np.isfinite(values.max()))


class DataError(ValueError):
    """Data that cannot be used. The message says what was wrong and how to fix it."""


@dataclass(frozen=True)
class Scaling:
    """Per-channel affine map fitted on the training part: scaled = (raw - center) / scale."""

    method: str  # none | zscore | minmax
    center: np.ndarray  # (C,)
    scale: np.ndarray  # (C,)

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """Raw values (..., C) -> scaled (..., C) float32, computed in float64 a block of rows at a time (no
        float64 temporaries the size of the whole input)."""
        raw = np.asarray(raw)
        if raw.ndim < 2:
            return ((raw - self.center) / self.scale).astype(np.float32)
        out = np.empty(np.broadcast_shapes(raw.shape, self.center.shape), np.float32)
        rows = max(1, _BLOCK_VALUES // max(1, out[0].size))
        for first in range(0, len(out), rows):
            out[first:first + rows] = (raw[first:first + rows] - self.center) / self.scale
        return out

    def undo(self, scaled: np.ndarray) -> np.ndarray:
        """Scaled values (..., C) -> raw units (..., C)."""
        return scaled * self.scale + self.center

    def to_dict(self) -> dict:
        return {"method": self.method, "center": self.center.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "Scaling":
        return cls(str(d["method"]), np.asarray(d["center"], np.float64), np.asarray(d["scale"], np.float64))


@dataclass
class Dataset:
    """Samples ready for a VAE plus what is needed to explain them.

    x: float32, images (N, C, H, W) in [0, 1]; sensor windows (N, T, C), scaled.
    split: (N,) int8, 0 train / 1 val / 2 test. Sensor splits are time-ordered, never shuffled.
    y: (N,) int64 or None. label_kind "class": index into label_names; "anomaly": 1 if the window
    holds a labelled anomalous time step, else 0.
    """

    name: str
    kind: str
    x: np.ndarray
    split: np.ndarray
    y: np.ndarray | None = None
    label_names: tuple[str, ...] | None = None
    label_kind: str = "class"
    channels: tuple[str, ...] = ()
    scaling: Scaling | None = None
    # Sensor recordings cut into windows keep the whole series for plots over time.
    series: np.ndarray | None = None  # (L, C) scaled
    series_anomaly: np.ndarray | None = None  # (L,) 0/1 per time step
    window_starts: np.ndarray | None = None  # (N,) first time step of each window in `series`
    split_starts: tuple[int, int] | None = None  # time steps where val and test begin
    part_ranges: tuple[tuple[int, int, int], ...] | None = None  # (part code, first step, stop) per stretch of series
    series_time: np.ndarray | None = None  # (L,) the time column per step: numbers, or datetime64 in UTC
    notes: tuple[str, ...] = field(default_factory=tuple)  # what the loader did, e.g. NaNs filled

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DataError(f"kind must be image or sensor, not {self.kind!r}")
        want_ndim = 4 if self.kind == "image" else 3
        if self.x.ndim != want_ndim:
            raise DataError(f"{self.kind} data must have {want_ndim} axes, got shape {self.x.shape}")
        if len(self.x) == 0:
            raise DataError("the data set is empty: it needs at least one sample")
        if self.x.dtype != np.float32:
            self.x = self.x.astype(np.float32)
        if not all_finite(self.x):
            raise DataError("the data holds NaN or infinite values; clean or fill them first")
        if self.split.shape != (len(self.x),):
            raise DataError(f"split must have one entry per sample ({len(self.x)}), got {self.split.shape}")
        if self.y is not None and self.y.shape != (len(self.x),):
            raise DataError(f"{len(self.x)} samples but {len(self.y)} labels: they must match one to one")
        if self.label_kind not in ("class", "anomaly"):
            raise DataError(f"label_kind must be class or anomaly, not {self.label_kind!r}")

    def step_parts(self) -> np.ndarray | None:
        """Part code of each time step of `series` (L,): 0 train, 1 val, 2 test; None without a series."""
        if self.series is None:
            return None
        parts = np.full(len(self.series), 2, dtype=np.int8)
        if self.part_ranges is not None:
            for code, begin, end in self.part_ranges:
                parts[begin:end] = code
        elif self.split_starts is not None:
            parts[:self.split_starts[0]] = 0
            parts[self.split_starts[0]:self.split_starts[1]] = 1
        return parts

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one sample: (C, H, W) or (T, C)."""
        return tuple(self.x.shape[1:])

    @property
    def in_unit_interval(self) -> bool:
        """True when every value lies in [0, 1] (required by the Bernoulli losses)."""
        return bool(self.x.min() >= 0.0 and self.x.max() <= 1.0)

    @property
    def classes(self) -> int:
        """How many classes its labels name (0 when unlabelled or labelled normal/anomalous): a conditional model's
        label input."""
        if self.y is None or self.label_kind != "class" or len(self.y) == 0:
            return 0
        return max(len(self.label_names or ()), int(self.y.max()) + 1)

    def indices(self, part: str) -> np.ndarray:
        """Sample indices of one part: 'train', 'val', 'test' or 'all'."""
        if part == "all":
            return np.arange(len(self.x))
        return np.flatnonzero(self.split == PARTS.index(part))

    def part(self, part: str) -> tuple[np.ndarray, np.ndarray | None]:
        """(x, y) of one part; y is None for unlabelled data."""
        idx = self.indices(part)
        return self.x[idx], (None if self.y is None else self.y[idx])

    def label_text(self, index: int) -> str:
        """Readable label of sample `index` ('' when unlabelled)."""
        if self.y is None:
            return ""
        v = int(self.y[index])
        if self.label_kind == "anomaly":
            return "anomaly" if v else "normal"
        return self.label_names[v] if self.label_names else str(v)

    def describe(self) -> dict:
        """Facts for a preview: shape, counts per part and per label, value range."""
        counts = {p: int((self.split == i).sum()) for i, p in enumerate(PARTS)}
        info = {"name": self.name, "kind": self.kind, "samples": len(self.x), "sample_shape": list(self.input_shape),
                "parts": counts, "min": float(self.x.min()), "max": float(self.x.max()),
                "notes": list(self.notes)}
        if self.y is not None:
            values, n = np.unique(self.y, return_counts=True)
            info["label_counts"] = {self.label_text(int(np.flatnonzero(self.y == v)[0])): int(c)
                                    for v, c in zip(values, n, strict=True)}
        if self.channels:
            info["channels"] = list(self.channels)
        return info


def held_out_note(split: np.ndarray, what: str = "sample") -> str | None:
    """A note when nothing is held out for testing: 'test' figures then come from the samples trained on."""
    counts = np.bincount(split, minlength=3)
    if counts[2]:
        return None
    n = int(counts.sum())
    return (f"only {n} {what}{'' if n == 1 else 's'} ({counts[0]} train, {counts[1]} val, 0 test): "
            "nothing is held out, so the 'test' figures are computed on "
            f"{'the training ' + what if n == 1 else f'all {n} {what}s, including those trained on'}; they "
            "say how well the model fits it, not how it does on new data")


def random_split(n: int, fractions: tuple[float, float] = (0.8, 0.1), seed: int = 0) -> np.ndarray:
    """Seeded random split codes (n,) for independent samples: train/val fractions, rest test."""
    order = np.random.default_rng(seed).permutation(n)
    n_train, n_val = int(round(n * fractions[0])), int(round(n * fractions[1]))
    split = np.full(n, 2, dtype=np.int8)
    split[order[:n_train]] = 0
    split[order[n_train:n_train + n_val]] = 1
    return split
