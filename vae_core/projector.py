"""A run's codes as TensorBoard's Embedding Projector reads them (projector.tensorflow.org or TensorBoard).

Four files: tensors.tsv (one latent mean per row, tab separated), metadata.tsv (a header row, then one row
per point: sample index, part, label), sprite.png (images only: the inputs as one grid of thumbnails,
row-major, at most 8,192 px a side) and projector_config.pbtxt (tensorboard.projector.ProjectorConfig in
protobuf text format, tying them together). Pure bytes: the CLI writes them to a folder, the dashboard zips
them for a download.
"""
from __future__ import annotations

import io
import math
import re
import zipfile
from pathlib import Path

import numpy as np

from . import analysis
from .dataset import Dataset
from .models import VAE

TENSORS, METADATA, SPRITE, CONFIG = "tensors.tsv", "metadata.tsv", "sprite.png", "projector_config.pbtxt"
MAX_POINTS = 10_000  # the projector draws this many smoothly in a browser; t-SNE there gets slow beyond
MAX_SPRITE_PX = 8192  # the projector refuses a larger sprite image (vz_projector's MAX_SPRITE_IMAGE_SIZE_PX)
_UNSAFE = re.compile(r"[\t\r\n]")


def _cell(text: str) -> str:
    """A TSV cell: tabs and line breaks (from uploaded label names) become spaces."""
    return _UNSAFE.sub(" ", text)


def _quoted(text: str) -> str:
    """A protobuf text-format string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def sprite(images: np.ndarray) -> tuple[np.ndarray, int]:
    """Inputs (N, C, H, W) in [0, 1] -> (the sprite: uint8 (rows*H, cols*W[, 3]), cols) with cols = ceil(sqrt(N))."""
    n, c, h, w = images.shape
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    tiles = np.clip(np.rint(images * 255), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)  # (N, H, W, C)
    canvas = np.zeros((rows * h, cols * w, c), dtype=np.uint8)
    for i, tile in enumerate(tiles):
        r, k = divmod(i, cols)
        canvas[r * h:(r + 1) * h, k * w:(k + 1) * w] = tile
    return (canvas if c == 3 else canvas[:, :, 0]), cols  # grey, or RGB; other channel counts: the first


def _png(array: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def most_points(data: Dataset) -> int:
    """Points a sprite of this data's images can hold within MAX_SPRITE_PX a side (MAX_POINTS at most)."""
    if data.kind != "image":
        return MAX_POINTS
    _, h, w = data.input_shape
    return min(MAX_POINTS, (MAX_SPRITE_PX // h) * (MAX_SPRITE_PX // w))


def projector_files(model: VAE, data: Dataset, part: str = "test", max_points: int = MAX_POINTS,
                    seed: int = 0, name: str = "") -> dict[str, bytes]:
    """The projector's files for the latent means of (a seeded sample of) one part: file name -> bytes."""
    if model.cfg.latent_dim < 2:
        raise ValueError("the Embedding Projector needs codes of 2 dimensions or more; this run's have 1")
    ids = data.indices(part)
    if not len(ids):
        raise ValueError(f"this data set has no {part} part; export another part or all of them")
    ids = ids[analysis.subsample(len(ids), min(max_points, most_points(data)), seed)]
    means = analysis.encode_means(model, data.x[ids])
    tensors = "".join("\t".join(f"{v:.6g}" for v in row) + "\n" for row in means)
    parts = ("train", "val", "test")
    header = ["index", "part"] + (["label"] if data.y is not None else [])
    rows = ["\t".join(header)] + ["\t".join([str(int(i)), parts[int(data.split[i])]]
                                             + ([_cell(data.label_text(int(i)))] if data.y is not None else []))
                                  for i in ids]
    files = {TENSORS: tensors.encode(), METADATA: ("\n".join(rows) + "\n").encode()}
    title = name or f"{data.name} codes ({part} part)"
    config = [f"embeddings {{\n  tensor_name: {_quoted(title)}\n  tensor_path: {_quoted(TENSORS)}\n"
              f"  metadata_path: {_quoted(METADATA)}\n  tensor_shape: {len(ids)}\n  tensor_shape: {means.shape[1]}\n"]
    if data.kind == "image":
        picture, _ = sprite(data.x[ids])
        files[SPRITE] = _png(picture)
        _, h, w = data.input_shape
        config.append(f"  sprite {{\n    image_path: {_quoted(SPRITE)}\n    single_image_dim: {w}\n"
                      f"    single_image_dim: {h}\n  }}\n")
    files[CONFIG] = ("".join(config) + "}\n").encode()
    return files


def write(files: dict[str, bytes], folder: str | Path) -> Path:
    """Write the files into `folder` (created if needed)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name, blob in files.items():
        (out / name).write_bytes(blob)
    return out


def to_zip(files: dict[str, bytes]) -> bytes:
    """The files in one zip (the dashboard's download)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, blob in files.items():
            zf.writestr(name, blob)
    return buf.getvalue()
