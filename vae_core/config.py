"""Frozen, validated settings for a model and for a training run.

Every value has a default a newcomer can start from; `__post_init__` explains a bad value in words a
student understands. Use `dataclasses.asdict` for JSON and `dataclasses.replace` for changes.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

IMAGE_ARCHS = ("mlp", "conv")
SENSOR_ARCHS = ("conv1d", "gru", "mlp")
ARCHS = ("mlp", "conv", "conv1d", "gru")
LOSSES = ("bce", "cbce", "mse", "mae", "huber")
# Losses that model each value as a probability, so the data must lie in [0, 1].
UNIT_INTERVAL_LOSSES = ("bce", "cbce")
WARMUPS = ("none", "linear", "cyclical")
SCHEDULES = ("none", "cosine", "step")

LOSS_NAMES = {
    "bce": "Bernoulli (binary cross-entropy)",
    "cbce": "continuous Bernoulli",
    "mse": "Gaussian (squared error)",
    "mae": "Laplace (absolute error)",
    "huber": "Huber (squared near 0, absolute far out)",
}


class ConfigError(ValueError):
    """A setting is out of range; the message says which and what is allowed."""


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


@dataclass(frozen=True)
class ModelConfig:
    """What the network looks like and how it scores a reconstruction."""

    input_shape: tuple[int, ...] = (1, 28, 28)  # images (C, H, W); sensor windows (T, C)
    arch: str = "mlp"  # mlp | conv (images); conv1d | gru | mlp (sensor windows)
    latent_dim: int = 16  # size of z
    hidden: tuple[int, ...] = (400,)  # MLP: widths of hidden layers; conv/conv1d: channels per layer; gru: (hidden size,)
    loss: str = "bce"  # bce | cbce | mse | mae | huber: the decoder's likelihood p(x|z)
    huber_delta: float = 1.0  # where Huber switches from squared to absolute error
    dropout: float = 0.0  # dropout in the hidden layers, 0 switches it off

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_shape", tuple(int(s) for s in self.input_shape))
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        _check(self.arch in ARCHS, f"arch must be one of {', '.join(ARCHS)}, not {self.arch!r}")
        _check(self.loss in LOSSES, f"loss must be one of {', '.join(LOSSES)}, not {self.loss!r}")
        _check(1 <= self.latent_dim <= 512, f"latent_dim must be between 1 and 512, not {self.latent_dim}")
        _check(len(self.hidden) >= 1 and all(1 <= h <= 8192 for h in self.hidden),
               f"hidden sizes must be 1 to 8192 units, one or more layers, not {self.hidden}")
        _check(0.0 <= self.dropout < 1.0, f"dropout must be in [0, 1), not {self.dropout}")
        _check(self.huber_delta > 0, f"huber_delta must be positive, not {self.huber_delta}")
        _check(all(s >= 1 for s in self.input_shape), f"input_shape must be positive sizes, not {self.input_shape}")
        if self.arch == "conv":
            _check(len(self.input_shape) == 3, "the conv architecture is for images (C, H, W); use conv1d or gru for sensor windows")
        if self.arch in ("conv1d", "gru"):
            _check(len(self.input_shape) == 2, f"the {self.arch} architecture is for sensor windows (T, C); use mlp or conv for images")

    @property
    def kind(self) -> str:
        """'image' for (C, H, W) inputs, 'sensor' for (T, C) windows."""
        return "image" if len(self.input_shape) == 3 else "sensor"


@dataclass(frozen=True)
class TrainConfig:
    """How the model is trained: objective weights, optimiser, schedule, stopping."""

    epochs: int = 20  # passes over the training part (MNIST 5k: about 5 s on 2 cores)
    batch_size: int = 128  # samples per gradient step
    lr: float = 2e-3  # Adam learning rate (2e-3 at batch 128 matches 1e-3 at batch 64 in half the time)
    beta: float = 1.0  # weight on the KL term (Higgins et al. 2017); 1 is the plain ELBO
    warmup: str = "none"  # none | linear | cyclical: KL weight ramps from 0 to beta (Bowman et al. 2016)
    warmup_epochs: float = 0.0  # length of the ramp (linear) or of one cycle (cyclical), in epochs
    free_bits: float = 0.0  # nats per latent dimension below which KL is not penalised (Kingma et al. 2016)
    weight_decay: float = 0.0  # L2 penalty in Adam (decoupled, AdamW)
    grad_clip: float = 0.0  # max gradient norm, 0 switches clipping off
    schedule: str = "none"  # none | cosine | step: learning-rate schedule over the epochs
    early_stopping: int = 0  # stop after this many epochs without a better validation loss, 0 = never
    seed: int = 0  # makes runs repeatable on CPU
    device: str = "auto"  # auto (CUDA when available, else CPU) | cpu | cuda | cuda:N

    def __post_init__(self) -> None:
        _check(isinstance(self.epochs, int) and 1 <= self.epochs <= 10_000, f"epochs must be a whole number from 1 to 10000, not {self.epochs}")
        _check(isinstance(self.batch_size, int) and 1 <= self.batch_size <= 65_536, f"batch_size must be from 1 to 65536, not {self.batch_size}")
        _check(math.isfinite(self.lr) and 0 < self.lr <= 10, f"lr must be a positive number up to 10, not {self.lr}")
        _check(math.isfinite(self.beta) and 0 <= self.beta <= 1000, f"beta must be between 0 and 1000, not {self.beta}")
        _check(self.warmup in WARMUPS, f"warmup must be one of {', '.join(WARMUPS)}, not {self.warmup!r}")
        _check(0 <= self.warmup_epochs <= 10_000, f"warmup_epochs must be 0 or more, not {self.warmup_epochs}")
        _check(self.warmup == "none" or self.warmup_epochs > 0, f"{self.warmup} warm-up needs warmup_epochs > 0")
        _check(0 <= self.free_bits <= 100, f"free_bits must be between 0 and 100 nats per dimension, not {self.free_bits}")
        _check(0 <= self.weight_decay <= 1, f"weight_decay must be between 0 and 1, not {self.weight_decay}")
        _check(0 <= self.grad_clip <= 1e6, f"grad_clip must be 0 (off) or a positive norm, not {self.grad_clip}")
        _check(self.schedule in SCHEDULES, f"schedule must be one of {', '.join(SCHEDULES)}, not {self.schedule!r}")
        _check(isinstance(self.early_stopping, int) and self.early_stopping >= 0, f"early_stopping must be 0 (off) or a number of epochs, not {self.early_stopping}")
        _check(self.device == "auto" or self.device == "cpu" or self.device.startswith("cuda"),
               f"device must be auto, cpu, cuda or cuda:N, not {self.device!r}")


def to_dict(cfg: ModelConfig | TrainConfig) -> dict[str, Any]:
    """JSON-ready dict (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(cfg).items()}


def from_dict(cls: type, data: dict[str, Any]):
    """Build a config from a dict, rejecting unknown keys with a clear message."""
    if not isinstance(data, dict):
        raise ConfigError(f"{cls.__name__} must be a JSON object, not {type(data).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown {cls.__name__} setting(s): {', '.join(unknown)}")
    try:
        return cls(**data)
    except TypeError as exc:  # e.g. a list where a number belongs
        raise ConfigError(f"bad {cls.__name__}: {exc}") from None


def default_model_config(kind: str, input_shape: tuple[int, ...], **overrides: Any) -> ModelConfig:
    """The recommended model for a data kind: MLP for images, 1-D conv for sensor windows."""
    if kind == "image":
        base: dict[str, Any] = {"arch": "mlp", "hidden": (400,), "loss": "bce"}
        if overrides.get("arch") == "conv":
            base["hidden"] = (32, 64)
    else:
        base = {"arch": "conv1d", "hidden": (32, 64), "loss": "mse", "latent_dim": 8}
        if overrides.get("arch") == "gru":
            base["hidden"] = (64,)
        elif overrides.get("arch") == "mlp":
            base["hidden"] = (256,)
    base.update(input_shape=tuple(input_shape))
    base.update({k: v for k, v in overrides.items() if v is not None})
    return ModelConfig(**base)
