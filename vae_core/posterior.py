"""One input's posterior q(z|x) on a 2-D view of the latent space, and the way back from the view to a code.

`LatentPlane` is the view: the code itself when it is 2-D, else the plane of the codes' first two principal
directions through their mean. q(z|x) = N(μ, diag σ²) projects onto a plane as a Gaussian too (covariance
V diag(σ²) Vᵀ), so its μ ± 2σ contour is an exact ellipse there. Going back, a point of the plane is the code
at that point of the plane (the other directions at the codes' mean), which the decoder can draw.

`drawing_to_input` turns a drawing (a canvas's RGBA pixels) into an input shaped like the data's images, the
way MNIST's digits were made: the ink's bounding box scaled to fit 20 of 28 pixels, centred by its centre of mass.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class LatentPlane:
    mean: np.ndarray  # (D,) a point of the plane
    basis: np.ndarray  # (2, D) orthonormal rows
    explained: tuple[float, float]  # share of the codes' variance along each direction (1, 0 for a 2-D code)

    @classmethod
    def of(cls, means: np.ndarray) -> LatentPlane:
        """The view for these codes' means (N, D)."""
        d = means.shape[1]
        if d <= 2:
            basis = np.eye(2, d)
            return cls(np.zeros(d), basis, (1.0, 0.0) if d == 1 else (1.0, 1.0))
        centre = means.mean(0)
        _, s, vt = np.linalg.svd(means - centre, full_matrices=False)
        var = s ** 2
        share = var[:2] / max(var.sum(), 1e-12)
        return cls(centre, vt[:2], (float(share[0]), float(share[1])))

    @property
    def is_code(self) -> bool:
        """The plane is the whole latent space (a 2-D code): points on it are codes, no projection."""
        return self.basis.shape[1] == 2 and np.allclose(self.basis, np.eye(2)) and not self.mean.any()

    def to_plane(self, z: np.ndarray) -> np.ndarray:
        """Codes (..., D) -> their coordinates on the plane (..., 2)."""
        return (z - self.mean) @ self.basis.T

    def from_plane(self, coords: np.ndarray) -> np.ndarray:
        """Plane coordinates (..., 2) -> the codes at those points of the plane (..., D)."""
        return self.mean + np.asarray(coords) @ self.basis

    def ellipse(self, mu: np.ndarray, sigma: np.ndarray, n_sigma: float = 2.0, points: int = 72) -> np.ndarray:
        """The contour of q(z|x) = N(mu, diag sigma²) at `n_sigma` standard deviations, projected: (points, 2)."""
        cov = self.basis @ np.diag(sigma ** 2) @ self.basis.T
        values, vectors = np.linalg.eigh(cov)
        angle = np.linspace(0, 2 * np.pi, points)
        circle = np.stack([np.cos(angle), np.sin(angle)], 1)
        return self.to_plane(mu) + n_sigma * (circle * np.sqrt(np.maximum(values, 0))) @ vectors.T


def background_level(images: np.ndarray) -> float:
    """The data's background brightness in [0, 1]: the median of its images' border pixels."""
    sample = images[: min(len(images), 500)].reshape(-1, *images.shape[-2:])
    border = np.concatenate([sample[:, 0], sample[:, -1], sample[:, :, 0], sample[:, :, -1]], axis=1)
    return float(np.median(border))


def drawing_to_input(rgba: np.ndarray, shape: tuple[int, ...], background: float = 0.0) -> np.ndarray | None:
    """A drawing (h, w, 4) uint8 (ink drawn white on black) -> an input of `shape` ((1, H, W) or (H, W)), in [0, 1];
    dark ink on light when the data's `background` is light. None when nothing is drawn."""
    ink = rgba[..., :3].astype(np.float32).mean(-1) / 255.0
    ink[rgba[..., 3] == 0] = 0.0
    rows, cols = np.nonzero(ink > 0.1)
    if not len(rows):
        return None
    h, w = shape[-2:]
    box = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    fit = max(1, round(min(h, w) * 20 / 28))  # MNIST's 20 pixels of 28
    scale = fit / max(box.shape)
    size = (max(1, round(box.shape[1] * scale)), max(1, round(box.shape[0] * scale)))
    small = np.asarray(Image.fromarray((box * 255).astype(np.uint8)).resize(size, Image.LANCZOS), np.float32) / 255
    canvas = np.zeros((h, w), np.float32)
    ys, xs = np.indices(small.shape)
    total = max(float(small.sum()), 1e-6)
    cy, cx = (ys * small).sum() / total, (xs * small).sum() / total  # the ink's centre of mass
    top = int(np.clip(round(h / 2 - cy), 0, h - small.shape[0]))
    left = int(np.clip(round(w / 2 - cx), 0, w - small.shape[1]))
    canvas[top:top + small.shape[0], left:left + small.shape[1]] = small
    canvas = np.clip(canvas, 0, 1)
    if background > 0.5:
        canvas = 1.0 - canvas
    return canvas.reshape(shape).astype(np.float32)
