"""Bounds on a saved run, checked before anything is built from it.

A run zip is small and can describe something huge: a 3.5 KB zip can hold a config of a million layers, a
safetensors header of a million entries or a 100 MB metrics.csv. Every file of a run is measured here
against a stated bound, from its declared size and its raw bytes, before it is parsed or a model is built
from it, so loading any run costs at most a bounded amount of memory and time. The functions are pure
(bytes and plain values in, CheckpointError out), except `read_member`, which reads one zip member in
bounded chunks.

The most the bounds let through, measured by `python -m bench hostile` (peak above the interpreter with torch;
tests/robustness/test_hostile_runs.py holds the first three under 300 MB): a 4 MB config.json of `[]` (the
JSON that costs most per byte, ~25 bytes of objects per byte) 90 MB; a metrics.csv of 100,000 rows and a
million KL values 150 MB; a 1 MB summary.json 20 MB; a model of just under MAX_PARAMETERS weights 490 MB (its
weights twice: the file's bytes and the tensors), the one figure over 300 MB, and the cost of a real model
of that size too.
"""
from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Sequence
from itertools import pairwise

from .config import SETTINGS, ConfigError, ModelConfig
from .formats.common import MAX_PIXEL_VALUES, mb
from .models import MAX_PARAMETERS, _halvings  # the largest model; the conv layers' lengths and their message

# ---- the bounds (one place: checkpoint.py and the tests import them from here) -------------------------
MAX_FILE_BYTES = 400 * 1024**2  # a run zip, or one file of a run folder
MAX_INPUT_VALUES = MAX_PIXEL_VALUES  # values of one sample: no loader makes a larger data set, let alone sample
# config.json: 4 MB holds the names and scaling of a sensor run on 30,000 channels (~110 bytes each).
MAX_CONFIG_BYTES = 4 * 1024**2
MAX_SUMMARY_BYTES = 1024**2  # summary.json: numbers and a few lists (KL per dimension: <= 512 values)
MAX_SAFETENSORS_HEADER_BYTES = 1024**2  # a 6-layer model's header is ~3 KB, its training state's ~15 KB
MAX_TENSORS = 1_000  # entries of such a header: a 6-layer MLP VAE has 30 tensors, its training state ~130
WEIGHT_BYTES = 8  # most bytes one weight may take in model.safetensors (float64)
# state.safetensors: Adam's two moments and the best epoch's weights, at most 8 bytes a weight each; float32 copies
# take 4, so an adversarial autoencoder's second Adam (on its encoder and discriminator) fits within these too
STATE_COPIES = 3
MAX_STATE_EXTRA_BYTES = 64 * 1024**2  # ... and the epoch's shuffled order (8 bytes a sample: 8 million samples)
# metrics.csv: one row per training step and two per epoch, KL per dimension on epoch rows only.
MAX_METRICS_BYTES = 24 * 1024**2  # 100,000 step rows of ~110 bytes, and room for long messages
MAX_METRICS_ROWS = 100_000  # e.g. 230 epochs of 60,000 digits at batch 128
MAX_METRICS_KL_VALUES = 1_000_000  # e.g. 1,000 epochs x 2 phases x 500 latent dimensions
MAX_ZIP_MEMBERS = 64  # entries of a run zip (5 files, maybe a folder and an OS's extras)
ZIP_ENTRY = b"PK\x01\x02"  # signature of a central-directory entry: one per member

_CHUNK = 1 << 20


class CheckpointError(ValueError):
    """A saved run that cannot be loaded; the message says which file and what is wrong."""


def file_limit(name: str, n_parameters: int | None = None) -> int:
    """Most bytes `name` may hold in a run; model.safetensors is bounded by its config's weights when known."""
    if name == "config.json":
        return MAX_CONFIG_BYTES
    if name == "summary.json":
        return MAX_SUMMARY_BYTES
    if name == "metrics.csv":
        return MAX_METRICS_BYTES
    if name == "model.safetensors" and n_parameters is not None:
        return 8 + MAX_SAFETENSORS_HEADER_BYTES + WEIGHT_BYTES * n_parameters
    if name == "state.safetensors" and n_parameters is not None:
        return 8 + MAX_SAFETENSORS_HEADER_BYTES + STATE_COPIES * WEIGHT_BYTES * n_parameters + MAX_STATE_EXTRA_BYTES
    return MAX_FILE_BYTES


def check_size(name: str, n_bytes: int, limit: int, how: str = "is") -> None:
    """Refuse `name` when it holds more than `limit` bytes (`how`: 'is', or 'unpacks to' for a zip member)."""
    if n_bytes > limit:
        why = "the limit for this file in a saved run"
        if name.endswith(".safetensors") and limit < MAX_FILE_BYTES:
            why = "as much as the weights of the model config.json describes can take"
        raise CheckpointError(f"{name} {how} more than {mb(limit)}, {why}")


def check_zip_entries(blob: bytes) -> None:
    """Refuse a zip listing more members than a run holds, before zipfile builds an object for each."""
    # zipfile reads one ZipInfo per central-directory entry, each starting with this signature, so the
    # count bounds its work; stray copies of the signature inside compressed data only make it larger.
    if blob.count(ZIP_ENTRY) > MAX_ZIP_MEMBERS:
        raise CheckpointError(f"the zip lists more than {MAX_ZIP_MEMBERS} files; a saved run holds 5")


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limit: int) -> bytes:
    """A member's bytes, refused when its declared or its actual unpacked size passes `limit`."""
    check_size(name, info.file_size, limit, "in the zip unpacks to")
    out = io.BytesIO()  # getvalue() hands over its buffer: no second copy of a large member
    with archive.open(info) as member:
        while chunk := member.read(min(_CHUNK, limit + 1 - out.tell())):
            out.write(chunk)
            check_size(name, out.tell(), limit, "in the zip unpacks to")
    return out.getvalue()


def check_model_dict(model: object) -> None:
    """config.json's raw `model` object: its layers counted before a config is made from it."""
    hidden, most = model.get("hidden") if isinstance(model, dict) else None, SETTINGS["hidden"].max_items
    if isinstance(hidden, list) and len(hidden) > most:
        raise CheckpointError(f"config.json describes {len(hidden):,} hidden layers, more than the limit of {most}")


def family_sizes(cfg: ModelConfig) -> dict:
    """What besides the architecture sizes a model of the VAE family: parameter_count's keywords from a config."""
    return {"variant": cfg.variant, "classes": cfg.classes, "top_latent_dim": cfg.top_latent_dim, "norm": cfg.norm}


def check_model_size(arch: str, input_shape: Sequence[int], hidden: Sequence[int], latent_dim: int,
                     **family: object) -> int:
    """Refuse a model over the bounds, computed without building it; returns its number of weights.

    `family`: parameter_count's keywords (variant, classes, top_latent_dim, norm), see family_sizes.
    """
    values = math.prod(input_shape)
    if values > MAX_INPUT_VALUES:
        raise CheckpointError(f"config.json gives an input shape {tuple(input_shape)} of {values:,} values, more "
                              f"than the limit of {MAX_INPUT_VALUES:,}")
    try:
        n = parameter_count(arch, input_shape, hidden, latent_dim, **family)
    except ConfigError as exc:
        raise CheckpointError(f"config.json: {exc}") from None
    if n > MAX_PARAMETERS:
        raise CheckpointError(f"config.json describes a model with {n:,} weights, over the limit of {MAX_PARAMETERS:,}")
    return n


def _linear(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def _chain(sizes: Sequence[int]) -> int:
    return sum(_linear(a, b) for a, b in pairwise(sizes))


def _conv(channels: Sequence[int], kernel: int, features: int, latent_dim: int) -> int:
    # each pair (a -> b): a conv a->b down, a transposed conv b->a up (weights a*b*kernel, biases b and a)
    pairs = sum(2 * a * b * kernel + a + b for a, b in pairwise(channels))
    return pairs + _linear(latent_dim, features)  # the decoder's first layer: z -> features


def _gru(n_in: int, hidden: int) -> int:
    return 3 * hidden * (n_in + hidden + 2)  # reset, update and new gates: input and hidden weights, two biases


def parameter_count(arch: str, input_shape: Sequence[int], hidden: Sequence[int], latent_dim: int, *,
                    variant: str = "vae", classes: int = 0, top_latent_dim: int = 0, norm: str = "none") -> int:
    """Exact number of weights of family.build_model's model for these settings, with no module built.

    classes: a conditional model's label inputs (0 otherwise); norm: a scale and shift per normalised unit.
    """
    decoder_in = latent_dim + classes  # z (z1) and the label
    normed = 0 if norm == "none" else 2  # weights per normalised feature or channel
    if arch == "mlp":
        d_in = math.prod(input_shape)
        body = _chain([d_in, *hidden]) + _chain([decoder_in, *hidden[::-1]]) + _linear(hidden[0], d_in)
        features = hidden[-1]
        body += 2 * normed * sum(hidden)  # after each hidden layer of the encoder and of the decoder
    elif arch in ("conv", "conv1d"):
        if arch == "conv":
            c_in, height, width = input_shape
            n = len(hidden)
            features = hidden[-1] * _halvings(height, n, "image height")[-1] * _halvings(width, n, "image width")[-1]
        else:
            length, c_in = input_shape
            features = hidden[-1] * _halvings(length, len(hidden), "window length")[-1]
        body = _conv([c_in, *hidden], 16 if arch == "conv" else 4, features, decoder_in)
        body += normed * (sum(hidden) + features + sum(hidden[:-1]))  # every conv down; the decoder's inner layers
    elif arch == "gru":
        _, channels = input_shape
        features = hidden[0]
        body = _gru(channels, features) + _linear(decoder_in, features) + _gru(decoder_in, features) + \
            _linear(features, channels)
    elif arch == "argru":  # models_autoregressive: the decoder reads z, the previous step and its 'seen' flag
        _, channels = input_shape
        features, state = hidden[0], hidden[-1]
        body = _gru(channels, features) + _linear(latent_dim, state) + _gru(latent_dim + channels + 1, state) + \
            _linear(state, channels)
    else:
        raise ConfigError(f"unknown architecture {arch!r}")
    top = top_latent_dim if variant == "hierarchical" else 0
    body += 2 * _linear(features + classes + top, latent_dim)  # to_mu and to_logvar (of z1, given z2 too)
    width = max(hidden)
    if variant == "hierarchical":  # q(z2|x) and p(z1|z2)
        body += _linear(features + classes, width) + 2 * _linear(width, top) + _linear(top, width) + \
            2 * _linear(width, latent_dim)
    elif variant == "adversarial":  # the discriminator on z (models_adversarial.critic_width)
        critic = 4 * latent_dim
        body += _linear(latent_dim, critic) + _linear(critic, critic) + _linear(critic, 1)
    return body


def check_safetensors_header(blob: bytes, name: str = "model.safetensors") -> dict:
    """Read a safetensors file's 8-byte length and JSON header within bounds; returns the parsed header."""
    if len(blob) < 8:
        raise CheckpointError(f"{name} is not a valid safetensors file (shorter than its 8-byte header length)")
    n = int.from_bytes(blob[:8], "little")
    if n > MAX_SAFETENSORS_HEADER_BYTES:
        raise CheckpointError(f"{name} is not a valid safetensors file (it declares a header of {n:,} "
                              f"bytes, more than the limit of {MAX_SAFETENSORS_HEADER_BYTES:,})")
    if 8 + n > len(blob):
        raise CheckpointError(f"{name} is not a valid safetensors file (its header of {n:,} bytes "
                              "runs past the end of the file)")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CheckpointError(f"{name} is not a valid safetensors file (its header is not JSON: "
                              f"{str(exc)[:100]})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{name} is not a valid safetensors file (its header is not a JSON object)")
    entries = len(header) - ("__metadata__" in header)
    if entries > MAX_TENSORS:
        raise CheckpointError(f"{name} lists {entries:,} tensors, more than the limit of {MAX_TENSORS:,}")
    return header


def check_metrics_csv(blob: bytes) -> None:
    """Size, rows and KL values of metrics.csv, counted in its bytes before any row is parsed."""
    check_size("metrics.csv", len(blob), MAX_METRICS_BYTES)
    rows = blob.count(b"\n")  # quoted line breaks only make the count larger
    if rows > MAX_METRICS_ROWS + 1:
        raise CheckpointError(f"metrics.csv has {rows:,} lines, more than the limit of {MAX_METRICS_ROWS:,} rows")
    kl_values = blob.count(b";")  # KL per dimension is written '0.1;0.2;...'
    if kl_values > MAX_METRICS_KL_VALUES:
        raise CheckpointError(f"metrics.csv holds {kl_values:,} KL values, more than the limit of "
                              f"{MAX_METRICS_KL_VALUES:,}")
