"""NumPy files: .npz with `x`/`images` (+ `y`/`labels`, `label_names`), or `windows` for sensor data; .npy = x.

Never unpickles: each array's header is checked before np.load(..., allow_pickle=False).
"""
from __future__ import annotations

import io
import math

import numpy as np

from ..dataset import DataError, Dataset, Scaling, held_out_note, random_split
from . import common

X_KEYS = ("x", "images", "windows")
Y_KEYS = ("y", "labels")
_PICKLE = ("needs pickle, which is refused for safety; save with plain numeric arrays "
           "(and text as fixed-width strings, e.g. np.array(names, dtype=str))")


def _header(fp: io.BytesIO) -> tuple[tuple[int, ...], np.dtype]:
    version = np.lib.format.read_magic(fp)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, _fortran, dtype = read(fp)
    return shape, dtype


def parse_npy(data: bytes, what: str) -> np.ndarray:
    """.npy bytes -> array, after checking its header matches its length and needs no pickle."""
    fp = io.BytesIO(data)
    try:
        shape, dtype = _header(fp)
    except (ValueError, TypeError, SyntaxError, KeyError, EOFError, OverflowError) as err:
        raise DataError(f"{what} is not a valid NumPy array ({err}): save it again with np.savez") from None
    if dtype.hasobject:
        raise DataError(f"{what} {_PICKLE}")
    expected = math.prod(shape) * dtype.itemsize
    if len(data) - fp.tell() != expected:
        raise DataError(f"{what}: its header announces shape {shape} ({expected:,} bytes) "
                        f"but {len(data) - fp.tell():,} "
                        "bytes follow: the file is truncated or corrupt; save it again")
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as err:
        message = f"{what} {_PICKLE}" if "pickle" in str(err) else f"{what} cannot be read ({err}); save it again"
        raise DataError(message) from None


def read_npz(data: bytes, name: str) -> dict[str, np.ndarray]:
    """.npz bytes -> {array name: array}, reading each member with a size cap."""
    archive, infos = common.open_zip(data, name)
    arrays = {}
    with archive:
        for info in infos:
            key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            arrays[key] = parse_npy(common.read_member(archive, info, name), f"'{name}': array '{key}'")
    return arrays


def _text(arrays: dict, key: str, name: str) -> tuple[str, ...] | None:
    if key not in arrays:
        return None
    value = arrays[key]
    if value.dtype.kind not in "US" or value.ndim > 1:
        raise DataError(f"'{name}': '{key}' must be a list of text, e.g. np.array(['a', 'b']), "
                        f"not {value.dtype} {value.shape}")
    return tuple(str(v) for v in np.atleast_1d(value))


def _pick(arrays: dict, keys: tuple[str, ...]) -> str | None:
    return next((k for k in keys if k in arrays), None)


def _labels(arrays: dict, name: str, n: int) -> tuple[np.ndarray | None, tuple[str, ...] | None]:
    key = _pick(arrays, Y_KEYS)
    names = _text(arrays, "label_names", name)
    if key is None:
        return None, None
    return common.labels_from_array(arrays[key], f"'{name}' array '{key}'", n, names)


def _check_numeric(x: np.ndarray, name: str, key: str) -> None:
    if x.dtype.kind not in "biuf":
        raise DataError(f"'{name}': '{key}' has dtype {x.dtype}; it must hold numbers (uint8, int or float)")
    if x.size == 0:
        raise DataError(f"'{name}': '{key}' is empty (shape {x.shape}): save at least one sample with data")
    common.check_pixel_count(name, x.size)


def _as_images(x: np.ndarray, name: str, key: str) -> np.ndarray:
    """(N, H, W), (N, 1, H, W) or (N, k*k) -> (N, H, W)."""
    if x.ndim == 4 and x.shape[1] == 1:
        return x[:, 0]
    if x.ndim == 3:
        return x
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side == x.shape[1] and side >= 2:
            return x.reshape(len(x), side, side)
        raise DataError(f"'{name}': '{key}' has {x.shape[1]} values per row, not a square image (k*k): "
                        "save images as (N, H, W)")
    if x.ndim == 4:
        raise DataError(f"'{name}': '{key}' has shape {x.shape}, {x.shape[1]} colour channels; "
                        "VAE Explorer uses grayscale: save (N, H, W) or (N, 1, H, W)")
    raise DataError(f"'{name}': '{key}' has shape {x.shape}; images must be (N, H, W), (N, 1, H, W) or (N, k*k)")


def _image_dataset(arrays: dict, key: str, name: str) -> Dataset:
    images = _as_images(arrays[key], name, key)
    unit, how = common.pixels_to_unit(images, name)
    y, names = _labels(arrays, name, len(images))
    return common.image_dataset(name, unit, y, names, (f"images from array '{key}' {images.shape}", how))


def _sensor_dataset(arrays: dict, key: str, name: str) -> Dataset:
    x = arrays[key]
    if x.ndim != 3:
        raise DataError(f"'{name}': sensor windows '{key}' must be (N, T, C): "
                        f"windows x time steps x channels, not {x.shape}")
    x = x.astype(np.float32)
    if not np.isfinite(x).all():
        raise DataError(f"'{name}': '{key}' holds NaN or infinite values: fill them before saving")
    channels = _text(arrays, "channels", name) or tuple(f"channel {c + 1}" for c in range(x.shape[2]))
    if len(channels) != x.shape[2]:
        raise DataError(f"'{name}': {x.shape[2]} channels in '{key}' but {len(channels)} names in 'channels': "
                        "give one per channel")
    y, names = _labels(arrays, name, len(x))
    n_channels = x.shape[2]
    split = random_split(len(x), (0.8, 0.1), seed=0)
    return Dataset(name=name, kind="sensor", x=x, split=split, y=y, label_names=names, channels=channels,
                   scaling=Scaling("none", np.zeros(n_channels), np.ones(n_channels)),
                   notes=(f"sensor windows from array '{key}' {x.shape}, used as saved (no scaling)",
                          "random split 80/10/10 % (seed 0) of independent windows",
                          *filter(None, [held_out_note(split, "window")])))


def _is_sensor(arrays: dict, name: str) -> bool:
    kind = _text(arrays, "kind", name)
    return "windows" in arrays or (kind is not None and kind[0].strip().lower() == "sensor")


def load_arrays(arrays: dict[str, np.ndarray], name: str) -> Dataset:
    """Named arrays (from .npz or .npy) -> image or sensor Dataset."""
    key = "windows" if "windows" in arrays else _pick(arrays, X_KEYS)
    if key is None:
        raise DataError(f"'{name}' has arrays {sorted(arrays) or 'none'} but no 'x' or 'images': "
                        "save the samples as x (and labels as y), e.g. np.savez(f, x=images, y=labels)")
    _check_numeric(arrays[key], name, key)
    return _sensor_dataset(arrays, key, name) if _is_sensor(arrays, name) else _image_dataset(arrays, key, name)


def load_npz(data: bytes, name: str) -> Dataset:
    """.npz bytes -> Dataset: images (N, 1, H, W) or sensor windows (N, T, C)."""
    return load_arrays(read_npz(data, name), name)


def load_npy(data: bytes, name: str) -> Dataset:
    """.npy bytes of images (N, H, W) -> unlabelled image Dataset."""
    return load_arrays({"x": parse_npy(data, f"'{name}'")}, name)
