"""Real file bytes for tests: MNIST IDX, NPZ, PNG and zip writers (the formats users upload)."""
from __future__ import annotations

import io
import struct
import zipfile

import numpy as np
from PIL import Image

from vae_core import data as D


def bundled_digits(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n real MNIST digits (n, 28, 28) uint8 and labels (n,), every class present (the file is sorted by class)."""
    arrays = np.load(D.SAMPLE_DATA_DIR / "mnist_5k.npz", allow_pickle=False)
    pick = np.arange(0, 5000, 5000 // n)[:n]
    return arrays["images"][pick], arrays["labels"][pick]


def idx_images(images: np.ndarray) -> bytes:
    return struct.pack(">IIII", 0x803, *images.shape) + images.astype(np.uint8).tobytes()


def idx_labels(labels: np.ndarray) -> bytes:
    return struct.pack(">II", 0x801, len(labels)) + labels.astype(np.uint8).tobytes()


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def png_bytes(image: np.ndarray, mode: str = "L") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()
