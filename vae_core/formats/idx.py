"""MNIST IDX files: `*-images-idx3-ubyte` (magic 0x00000803) and `*-labels-idx1-ubyte` (0x00000801).

Layout (big-endian): magic, count, [rows, cols], then count[*rows*cols] unsigned bytes.
See http://yann.lecun.com/exdb/mnist/ ("FILE FORMATS FOR THE MNIST DATABASE").
"""
from __future__ import annotations

import re
import struct

import numpy as np

from ..dataset import DataError, Dataset
from .common import check_pixel_count, image_dataset

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
_NAME = re.compile(r"idx[13]-ubyte(\.gz)?$", re.IGNORECASE)


def looks_like_idx_name(name: str) -> bool:
    """True for names such as train-images-idx3-ubyte or t10k-labels.idx1-ubyte.gz."""
    return bool(_NAME.search(name))


def idx_role(data: bytes) -> str | None:
    """'images', 'labels' or None, read from the magic number."""
    if len(data) < 4:
        return None
    return {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}.get(struct.unpack(">I", data[:4])[0])


def role_from_name(name: str) -> str | None:
    """'images' for *idx3-ubyte names, 'labels' for *idx1-ubyte names, else None."""
    found = _NAME.search(name)
    return None if not found else ("images" if found.group(0).lower().startswith("idx3") else "labels")


def labels_name_candidates(images_name: str) -> list[str]:
    """File names the labels of an images file may have, e.g. train-labels-idx1-ubyte[.gz]."""
    stem = re.sub(r"\.gz$", "", images_name, flags=re.IGNORECASE)
    swapped = stem.replace("images", "labels").replace("idx3", "idx1")
    return [swapped, swapped + ".gz"] if swapped != stem else []


def _check_magic(data: bytes, name: str, want: int, what: str) -> None:
    if len(data) < 4:
        raise DataError(f"'{name}' is only {len(data)} bytes, too short for an IDX {what} file: download it again")
    magic = struct.unpack(">I", data[:4])[0]
    if magic != want:
        hint = {IMAGES_MAGIC: " (that is an images file)", LABELS_MAGIC: " (that is a labels file)"}.get(magic, "")
        raise DataError(f"'{name}' starts with 0x{magic:08x}{hint}, not 0x{want:08x} as an IDX {what} file must: "
                        f"give the *-{what}-idx{3 if what == 'images' else 1}-ubyte file")


def _check_length(data: bytes, name: str, header: int, count: int, item: int, what: str) -> None:
    expected = header + count * item
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "longer than its header says"
        raise DataError(f"'{name}' header announces {count:,} {what} ({expected:,} bytes) but the file has "
                        f"{len(data):,} bytes: it is {problem} or corrupt; download it again")


def parse_images(data: bytes, name: str) -> np.ndarray:
    """IDX images bytes -> uint8 (N, rows, cols)."""
    _check_magic(data, name, IMAGES_MAGIC, "images")
    if len(data) < 16:
        raise DataError(f"'{name}' is {len(data)} bytes, shorter than the 16-byte IDX images header: download it again")
    count, rows, cols = struct.unpack(">III", data[4:16])
    if rows == 0 or cols == 0:
        raise DataError(f"'{name}' header says images are {rows}x{cols} pixels: the file is corrupt; download it again")
    check_pixel_count(name, count * rows * cols)
    _check_length(data, name, 16, count, rows * cols, f"images of {rows}x{cols}")
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, rows, cols)


def parse_labels(data: bytes, name: str) -> np.ndarray:
    """IDX labels bytes -> uint8 (N,)."""
    _check_magic(data, name, LABELS_MAGIC, "labels")
    if len(data) < 8:
        raise DataError(f"'{name}' is {len(data)} bytes, shorter than the 8-byte IDX labels header: download it again")
    (count,) = struct.unpack(">I", data[4:8])
    _check_length(data, name, 8, count, 1, "labels")
    return np.frombuffer(data, dtype=np.uint8, offset=8)


def load_idx(images: bytes, images_name: str, labels: bytes | None = None, labels_name: str = "") -> Dataset:
    """An IDX images file and optionally its labels file -> image Dataset (N, 1, rows, cols)."""
    pixels = parse_images(images, images_name)
    notes = ["IDX pixel values 0..255 divided by 255"]
    y = label_names = None
    if labels is None:
        notes.append("no labels file, so the images are unlabelled")
    else:
        y = parse_labels(labels, labels_name).astype(np.int64)
        if len(y) != len(pixels):
            raise DataError(f"'{images_name}' has {len(pixels):,} images but '{labels_name}' has {len(y):,} labels: "
                            "give the labels file that belongs to these images (train with train, t10k with t10k)")
        if len(y) and y.max() <= 9:
            label_names = tuple(str(d) for d in range(10))
    x = pixels.astype(np.float32) / np.float32(255)
    return image_dataset(images_name, x, y, label_names, tuple(notes))
