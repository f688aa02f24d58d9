"""The latent map as it forms: one fixed set of inputs encoded after every epoch, drawn in one frame that does not
flip or spin between epochs, and kept so the map can be replayed after the run (an epoch scrubber).

A 2-D latent is drawn as it is. A larger one is drawn on its first two principal directions, and each new epoch's
projection is turned (an orthogonal Procrustes fit, Schönemann 1966) to lie as close as it can to the previous
epoch's: a principal direction's sign or order is arbitrary, so without the turn the map would jump each epoch.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

import numpy as np

from .analysis import pca_2d

FILE = "latent_maps.npz"  # in a run's folder of the run store
MAX_FRAMES = 400  # kept per run: past it every other frame goes (a long run still replays from start to end)
MAX_POINTS = 5000
MAX_FILE_BYTES = 64 * 2**20  # a saved history larger than this is not read (a crafted folder)


class HistoryError(ValueError):
    """A saved latent history that cannot be read (damaged or crafted)."""


@dataclass
class LatentFrame:
    epoch: int  # epochs trained when the means were taken (0: before training)
    coords: np.ndarray  # (n, 2) float32


@dataclass
class LatentHistory:
    """The maps of one run over its epochs: the same inputs (`index` into its data), their label texts."""

    index: np.ndarray  # (n,) positions of the inputs in the data set
    labels: list[str]  # (n,) or [] without labels
    method: str = ""  # "z" (the code is 2-D) or "PCA"
    frames: list[LatentFrame] = field(default_factory=list)

    def add(self, epoch: int, means: np.ndarray) -> LatentFrame:
        """The map after `epoch` from the inputs' latent means (n, D); replaces a frame of the same epoch."""
        if means.shape[1] == 2:
            coords, self.method = means.astype(np.float32), "z"
        else:
            coords, self.method = pca_2d(means)[0], "PCA"
            if self.frames:
                coords = align(coords, self.frames[-1].coords)
        frame = LatentFrame(int(epoch), np.ascontiguousarray(coords, dtype=np.float32))
        self.frames = [f for f in self.frames if f.epoch != frame.epoch] + [frame]
        if len(self.frames) > MAX_FRAMES:
            self.frames = self.frames[:-1:2] + self.frames[-1:]  # thin evenly, always keep the latest
        return frame

    def extent(self) -> tuple[float, float, float, float]:
        """(x_min, x_max, y_min, y_max) over every frame, padded: fixed axes, so points move and the frame stays."""
        if not self.frames:
            return (-1.0, 1.0, -1.0, 1.0)
        every = np.concatenate([f.coords for f in self.frames])
        every = every[np.isfinite(every).all(1)]
        if not len(every):
            return (-1.0, 1.0, -1.0, 1.0)
        low, high = every.min(0), every.max(0)
        pad = 0.05 * np.maximum(high - low, 1e-6)
        return float(low[0] - pad[0]), float(high[0] + pad[0]), float(low[1] - pad[1]), float(high[1] + pad[1])

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez_compressed(buf, index=self.index.astype(np.int64), labels=np.asarray(self.labels, dtype=str),
                            method=np.asarray(self.method), epochs=np.asarray([f.epoch for f in self.frames]),
                            coords=np.stack([f.coords for f in self.frames]) if self.frames else
                            np.zeros((0, len(self.index), 2), np.float32))
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> LatentHistory:
        """Read a saved history; HistoryError if it is damaged, too large or not one (never runs code)."""
        if len(blob) > MAX_FILE_BYTES:
            raise HistoryError(f"the saved latent maps take {len(blob):,} bytes, over the {MAX_FILE_BYTES:,} allowed")
        try:
            with np.load(io.BytesIO(blob), allow_pickle=False) as f:
                _check_sizes(f)
                index, labels, method = f["index"], f["labels"], str(f["method"])
                epochs, coords = f["epochs"], f["coords"]
        except HistoryError:
            raise
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise HistoryError(f"the saved latent maps cannot be read ({type(exc).__name__})") from None
        n = len(index)
        if coords.shape != (len(epochs), n, 2) or len(labels) not in (0, n) or method not in ("z", "PCA", ""):
            raise HistoryError("the saved latent maps do not fit together (shapes differ)")
        frames = [LatentFrame(int(e), c.astype(np.float32)) for e, c in zip(epochs, coords, strict=True)]
        return cls(index.astype(np.int64), [str(s) for s in labels], method, frames)


def _check_sizes(f) -> None:
    """Refuse arrays larger than a real history before reading them (a small file can unzip to gigabytes)."""
    limits = {"index": MAX_POINTS, "labels": MAX_POINTS, "method": 1, "epochs": MAX_FRAMES,
              "coords": MAX_FRAMES * MAX_POINTS * 2}
    for name, limit in limits.items():
        info = f.zip.getinfo(f"{name}.npy")
        if info.file_size > limit * 64 + 1024:  # generous bytes per element plus the .npy header
            raise HistoryError(f"the saved latent maps' {name} is too large ({info.file_size:,} bytes)")


def align(coords: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """`coords` turned (rotated or reflected about its centre) to lie closest to `previous` (the same points)."""
    a = coords - coords.mean(0)
    b = previous - previous.mean(0)
    ok = np.isfinite(a).all(1) & np.isfinite(b).all(1)
    if ok.sum() < 3:
        return coords
    u, _, vt = np.linalg.svd(a[ok].T @ b[ok])
    return (a @ (u @ vt)).astype(np.float32)
