"""Image grids for st.image and PNG downloads: arrays in [0, 1] -> uint8 mosaics."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image


def as_uint8(images: np.ndarray) -> np.ndarray:
    """(N, 1, H, W) or (N, H, W) floats in [0, 1] -> (N, H, W) uint8."""
    a = np.asarray(images)
    if a.ndim == 4:
        a = a[:, 0]
    return (np.clip(a, 0.0, 1.0) * 255).round().astype(np.uint8)


def mosaic(images: np.ndarray, cols: int, pad: int = 2, upscale: int = 2) -> np.ndarray:
    """Tile N images into rows of `cols` with a light border: -> (rows*h, cols*w) uint8."""
    tiles = as_uint8(images)
    n, h, w = tiles.shape
    rows = max(1, -(-n // cols))
    canvas = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), 235, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        canvas[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = tile
    return canvas.repeat(upscale, 0).repeat(upscale, 1) if upscale > 1 else canvas


def grid(rows: np.ndarray, pad: int = 2, upscale: int = 2) -> np.ndarray:
    """(R, K, 1, H, W) -> one mosaic with R rows of K images (traversals, interpolations)."""
    r, k = rows.shape[:2]
    return mosaic(rows.reshape(r * k, *rows.shape[2:]), cols=k, pad=pad, upscale=upscale)


def png_bytes(array: np.ndarray) -> bytes:
    """A uint8 image array -> PNG file bytes (for download buttons)."""
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()
