"""Limits and helpers shared by every format reader: bounded gunzip, pixel scaling, image datasets."""
from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import PurePosixPath

import numpy as np

from ..dataset import DataError, Dataset, held_out_note, random_split

MAX_UPLOAD_BYTES = 200 * 1024**2  # one input file, as read or uploaded
MAX_UNPACKED_BYTES = 1024**3  # what gunzip/unzip may produce (guards against zip bombs)
MAX_COLUMNS = 100_000  # columns of a CSV
MAX_PIXEL_VALUES = 200_000_000  # pixels over all images (800 MB as float32)
MAX_IMAGE_PIXELS = 4096 * 4096  # one image inside a zip (Pillow's bomb check is looser)

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


def mb(n_bytes: int) -> str:
    return f"{n_bytes / 1024**2:,.0f} MB" if n_bytes >= 1024**2 else f"{n_bytes:,} bytes"


def base_name(filename: str) -> str:
    """Last part of an uploaded name, for messages and Dataset.name only (never used to open a file)."""
    name = PurePosixPath(str(filename).replace("\\", "/")).name
    return name or "upload"


def check_upload_size(name: str, n_bytes: int) -> None:
    if n_bytes > MAX_UPLOAD_BYTES:
        raise DataError(f"'{name}' is {mb(n_bytes)}, more than the {mb(MAX_UPLOAD_BYTES)} limit: "
                        "use a smaller subset of the data")


def check_unpacked_size(name: str, n_bytes: int) -> None:
    if n_bytes > MAX_UNPACKED_BYTES:
        raise DataError(f"'{name}' unpacks to more than {mb(MAX_UNPACKED_BYTES)}, the limit for unpacked data: "
                        "use a smaller subset of the data")


def gunzip(data: bytes, name: str) -> bytes:
    """Decompress gzip bytes (one or more members), never producing more than MAX_UNPACKED_BYTES."""
    out, total, rest = [], 0, data
    while rest[:2] == GZIP_MAGIC:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            while True:
                # max_length bounds the output of each call, so a bomb never fills memory.
                chunk = inflater.decompress(rest, _CHUNK)
                total += len(chunk)
                check_unpacked_size(name, total)
                out.append(chunk)
                rest = inflater.unconsumed_tail
                if inflater.eof or (not rest and not chunk):
                    break
        except zlib.error as err:
            raise DataError(f"'{name}' is not a valid gzip file ({err}): download or compress it again") from None
        if not inflater.eof:
            raise DataError(f"'{name}' is a truncated gzip file (it ends too early): download or compress it again")
        rest = inflater.unused_data
    if rest.strip(b"\0"):  # padding zeros are harmless, anything else is not gzip
        what = "has bytes after the compressed data" if out else "does not start like a gzip file"
        raise DataError(f"'{name}' {what}: it is corrupt or not gzip; download or compress it again")
    return b"".join(out)


def check_pixel_count(name: str, n_values: int) -> None:
    if n_values > MAX_PIXEL_VALUES:
        raise DataError(f"'{name}' holds {n_values:,} pixel values, more than the limit of {MAX_PIXEL_VALUES:,}: "
                        "use fewer or smaller images")


def pixels_to_unit(values: np.ndarray, name: str) -> tuple[np.ndarray, str]:
    """Pixels (N, ...) as 0..255 or [0, 1] -> float32 in [0, 1], plus a note on what was done."""
    if values.dtype == np.bool_:
        return values.astype(np.float32), "pixels are booleans, used as 0 and 1"
    with np.errstate(over="ignore", invalid="ignore"):  # numbers beyond float32 become inf, refused just below
        values = values.astype(np.float32) if values.dtype != np.float32 else values
    if not np.isfinite(values).all():
        bad = int(np.argwhere(~np.isfinite(values))[0][0])
        raise DataError(f"'{name}': image {bad} holds NaN or infinite pixels: "
                        "every pixel needs a number 0..255 or 0..1")
    low, high = float(values.min()), float(values.max())
    if low < 0 or high > 255:
        bad = int(np.argwhere((values < 0) | (values > 255))[0][0])
        raise DataError(f"'{name}': image {bad} has pixel values outside 0..255 (min {low:g}, max {high:g}): "
                        "pixels must be 0..255 or 0..1")
    if high <= 1:
        return values, "pixel values already lie in [0, 1], kept as they are"
    return values / np.float32(255), "pixel values 0..255 divided by 255"


def labels_from_array(labels: np.ndarray, where: str, n: int,
                      label_names: tuple[str, ...] | None = None) -> tuple[np.ndarray, tuple[str, ...] | None]:
    """Class labels (N,) as ints or strings -> (int64 indices, label names or None); `where` opens messages."""
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise DataError(f"{where}: {n} samples but labels of shape {labels.shape}: give exactly one label per sample")
    if labels.dtype.kind in "US":  # text labels: their sorted unique values become the names
        names, index = np.unique(labels.astype(str), return_inverse=True)
        return index.astype(np.int64), tuple(str(s) for s in names)
    if labels.dtype.kind not in "biuf":
        raise DataError(f"{where}: labels must be whole numbers or text, not {labels.dtype}")
    if labels.dtype.kind == "f" and not (np.isfinite(labels).all() and (labels == np.round(labels)).all()):
        raise DataError(f"{where}: labels must be whole numbers (class indices), found fractions or NaN")
    ints = labels.astype(np.int64)
    if n and ints.min() < 0:
        raise DataError(f"{where}: labels must be 0 or more, found {ints.min()}: number classes 0, 1, 2, ...")
    if label_names is not None and n and ints.max() >= len(label_names):
        raise DataError(f"{where}: label {ints.max()} has no name ({len(label_names)} label_names given): "
                        "give one name per class")
    return ints, label_names


def image_dataset(name: str, images: np.ndarray, y: np.ndarray | None = None,
                  label_names: tuple[str, ...] | None = None, notes: tuple[str, ...] = ()) -> Dataset:
    """Images (N, H, W) or (N, 1, H, W) in [0, 1] -> an image Dataset with a seeded random split."""
    if images.ndim == 3:
        images = images[:, None]
    if len(images) == 0:
        raise DataError(f"'{name}' holds no images: it needs at least one")
    split = random_split(len(images), (0.8, 0.1), seed=0)
    notes = (*notes, "random split 80/10/10 % (seed 0)", *filter(None, [held_out_note(split, "image")]))
    return Dataset(name=name, kind="image", x=np.ascontiguousarray(images, dtype=np.float32),
                   split=split, y=y, label_names=label_names, label_kind="class", notes=notes)


# ---- zip archives (images zip and .npz) -------------------------------------------------------------

def _unsafe_member(member: str) -> bool:
    path = member.replace("\\", "/")
    return path.startswith("/") or (len(path) > 1 and path[1] == ":") or ".." in path.split("/")


def _skipped_member(member: str) -> bool:
    parts = [p for p in member.replace("\\", "/").split("/") if p]
    return not parts or parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts)


def open_zip(data: bytes, name: str) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """Open zip bytes in memory; check every member's path and the total unpacked size first."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as err:
        raise DataError(f"'{name}' is not a valid zip file ({err}): make the zip again") from None
    for info in infos:
        if _unsafe_member(info.filename):
            raise DataError(f"'{name}' contains an unsafe path {info.filename!r} (absolute or with '..'): "
                            "make the zip again from inside the folder")
    files = [i for i in infos if not i.is_dir() and not _skipped_member(i.filename)]
    check_unpacked_size(name, sum(i.file_size for i in files))
    return archive, files


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> bytes:
    """One member's bytes, read with a cap: never more than its declared size or MAX_UNPACKED_BYTES."""
    cap = min(info.file_size, MAX_UNPACKED_BYTES)
    try:
        with archive.open(info) as member:
            data = member.read(cap + 1)
    except RuntimeError as err:  # encrypted members
        raise DataError(f"'{name}': member {info.filename!r} cannot be read ({err}): "
                        "zip it again without a password") from None
    except NotImplementedError as err:
        raise DataError(f"'{name}': member {info.filename!r} uses an unsupported compression ({err}): "
                        "zip it again with standard (deflate) compression") from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as err:
        raise DataError(f"'{name}': member {info.filename!r} is corrupt ({err}): make the zip again") from None
    if len(data) > cap:
        raise DataError(f"'{name}': member {info.filename!r} unpacks to more than its declared size: "
                        "the zip is corrupt or malicious; make it again")
    return data
