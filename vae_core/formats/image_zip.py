"""A zip of PNG/JPEG images, one folder per label (e.g. cats/1.png, dogs/7.jpg), read in memory."""
from __future__ import annotations

import io
import warnings
from pathlib import PurePosixPath

import numpy as np
from PIL import Image

from ..dataset import DataError, Dataset
from . import common

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_DECODERS = ["PNG", "JPEG"]  # only these decoders run: less attack surface than every Pillow plugin


def _decode(data: bytes, member: str, name: str) -> np.ndarray:
    """Image bytes -> grayscale uint8 (H, W), refusing decompression bombs."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=_DECODERS) as image:
                width, height = image.size
                if width * height > common.MAX_IMAGE_PIXELS:
                    raise DataError(f"'{name}': {member!r} is {width}x{height} pixels, more than the limit of "
                                    f"{common.MAX_IMAGE_PIXELS:,} per image: "
                                    "resize it (VAEs want small images, e.g. 28x28 or 64x64)")
                return np.asarray(image.convert("L"), dtype=np.uint8)
    except DataError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DataError(f"'{name}': {member!r} claims to be a huge image (a decompression bomb?): "
                        "resize it to a small size such as 64x64") from None
    except (Image.UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, TypeError,
            IndexError, KeyError, MemoryError, RuntimeError, ZeroDivisionError) as err:
        raise DataError(f"'{name}': {member!r} is not a valid PNG or JPEG image ({type(err).__name__}): "
                        "open and save it again, or remove it from the zip") from None


def _label_of(member: str) -> str:
    return PurePosixPath(member.replace("\\", "/")).parent.name  # the folder right above the image


def _check_same_size(images: list[np.ndarray], members: list[str], name: str) -> None:
    first = images[0].shape
    for image, member in zip(images, members, strict=True):
        if image.shape != first:
            raise DataError(f"'{name}': {member!r} is {image.shape[1]}x{image.shape[0]} but {members[0]!r} is "
                            f"{first[1]}x{first[0]}: resize all images to one size")


def _labels(members: list[str], name: str) -> tuple[np.ndarray | None, tuple[str, ...] | None, str]:
    folders = [_label_of(m) for m in members]
    if len(set(folders)) <= 1:
        return None, None, "all images are in one folder, so they are unlabelled"
    if "" in folders:
        loose = members[folders.index("")]
        raise DataError(f"'{name}': {loose!r} is not inside a label folder while other images are: "
                        "put every image in a folder named after its label")
    names = tuple(sorted(set(folders)))
    y = np.array([names.index(f) for f in folders], dtype=np.int64)
    return y, names, f"labels from folder names: {', '.join(names[:10])}{', ...' if len(names) > 10 else ''}"


def load_image_zip(data: bytes, name: str) -> Dataset:
    """Zip bytes with images in label folders -> image Dataset (N, 1, H, W) in [0, 1]."""
    archive, infos = common.open_zip(data, name)
    with archive:
        chosen = sorted((i for i in infos if i.filename.lower().endswith(IMAGE_SUFFIXES)), key=lambda i: i.filename)
        others = [i.filename for i in infos if not i.filename.lower().endswith(IMAGE_SUFFIXES)]
        if not chosen:
            raise DataError(f"'{name}' holds no .png or .jpg images: "
                            "put the images (in one folder per label) in the zip")
        images, members, total = [], [], 0
        for info in chosen:
            image = _decode(common.read_member(archive, info, name), info.filename, name)
            total += image.size
            common.check_pixel_count(name, total)
            images.append(image)
            members.append(info.filename)
    _check_same_size(images, members, name)
    y, label_names, how = _labels(members, name)
    notes = [f"{len(images)} images from the zip, converted to grayscale", "pixel values 0..255 divided by 255", how]
    if others:
        notes.append(f"skipped {len(others)} file(s) that are not .png/.jpg: {', '.join(others[:3])}"
                     f"{', ...' if len(others) > 3 else ''}")
    x = np.stack(images).astype(np.float32) / np.float32(255)
    return common.image_dataset(name, x, y, label_names, tuple(notes))
