"""Sanity checks before training: a set-up that cannot work, or will mislead, caught before any step is taken.

Each check reads the data and the two configs, never trains, and either passes or says what is wrong with
this set-up's own numbers and how to fix it. The recommended settings on the bundled data pass them all (a
recording too short for its batch size is the exception the steps check is for: BasicMotions). The Train
page shows the checklist; `vae-explorer train` prints the problems before it starts.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .advice import MIN_TRAIN_WINDOWS, window_advice
from .analysis import MIN_STEPS
from .config import UNIT_INTERVAL_LOSSES, ConfigError, ModelConfig, TrainConfig
from .dataset import Dataset
from .run_limits import parameter_count

SCALED_LIMIT = 50.0  # sensor values beyond this (in absolute value) were most likely never scaled
WEIGHTS_PER_VALUE = 10  # more weights than this per number of the training part: it can be memorised
IMBALANCE = 10.0  # the largest class this many times the smallest
LABEL_WORDS = re.compile(r"^(label|labels|class|target|y|is_?anomaly|anomaly|fault|outlier|attack)$", re.IGNORECASE)
LABEL_CORRELATION = 0.98  # a channel whose per-window mean follows the labels this closely is the labels


@dataclass(frozen=True)
class Check:
    """One line of the checklist: passed, or the problem in this set-up's numbers and its fix."""

    name: str
    title: str  # what a passing check asserts, e.g. "the loss fits the data's range"
    passed: bool
    problem: str = ""
    fix: str = ""


Finding = tuple[str, str] | None  # (problem, fix), or None when the check passes


def _train_x(data: Dataset) -> np.ndarray:
    return data.part("train")[0]


def _loss_range(data: Dataset, model: ModelConfig, train: TrainConfig) -> Finding:
    x = _train_x(data)
    lo, hi = float(x.min()), float(x.max())
    if model.loss in UNIT_INTERVAL_LOSSES and (lo < 0 or hi > 1):
        return (f"the {model.loss} loss treats each value as a probability in [0, 1], but the training part ranges "
                f"from {lo:.3g} to {hi:.3g}",
                "use mse, mae or huber, or scale the data to [0, 1] (min-max scaling)")
    top = max(abs(lo), abs(hi))
    if data.kind == "sensor" and top > SCALED_LIMIT:
        return (f"the training windows reach {top:,.3g} in absolute value, as if never scaled: errors that large "
                "dwarf the KL term (β acts as if it were near 0) and make the learning rate far too large",
                "scale each channel (z-score, the default; --scaling zscore)")
    return None


def _decoder_range(data: Dataset, model: ModelConfig, train: TrainConfig) -> Finding:
    x = _train_x(data)
    squashed = model.kind == "image" and model.loss not in UNIT_INTERVAL_LOSSES  # models.VAE.squash_output
    lo, hi = float(x.min()), float(x.max())
    if squashed and (lo < 0 or hi > 1):
        return (f"the decoder's output for images is squashed into [0, 1] (a sigmoid), but the training part "
                f"ranges from {lo:.3g} to {hi:.3g}: it can never rebuild the values outside",
                "scale the images to [0, 1] (pixel values / 255)")
    return None


def _kl_off(data: Dataset, model: ModelConfig, train: TrainConfig) -> Finding:
    if train.beta == 0:
        return ("β = 0 switches the KL term off: this trains a plain autoencoder, its codes land anywhere and "
                "samples from the prior N(0, I) mean nothing",
                "set β above 0 (1 for the standard VAE)")
    n = len(data.indices("train"))
    free = train.free_bits * model.latent_dim
    if n > 1 and free >= math.log(n):
        return (f"free bits let {train.free_bits:g} × {model.latent_dim} = {free:.1f} nats of KL through without "
                f"penalty, but a code never needs more than ln({n:,}) = {math.log(n):.1f} nats to tell the "
                f"{n:,} training inputs apart: the KL term is off in effect",
                f"lower free bits below {math.log(n) / model.latent_dim:.2f} nats per dimension (0.1-0.5 is usual)")
    return None


def _warmup_too_long(data: Dataset, model: ModelConfig, train: TrainConfig) -> Finding:
    if train.warmup == "linear" and train.warmup_epochs > train.epochs:
        reached = train.beta * train.epochs / train.warmup_epochs
        return (f"the linear warm-up lasts {train.warmup_epochs:g} epochs but the run trains {train.epochs}: β only "
                f"reaches {reached:.3g} of its {train.beta:g}",
                f"shorten the warm-up to at most {train.epochs} epochs, or train longer")
    return None


def _batch_too_large(data: Dataset, model: ModelConfig, train: TrainConfig) -> Finding:
    n = len(data.indices("train"))
    if train.batch_size > n:
        return (f"the batch size {train.batch_size} is larger than the training part ({n:,} samples): every epoch "
                "is one step on all of them",
                f"use a batch of at most {max(1, n // 4)} (a quarter of the training part) for several steps per epoch")
    return None


def _too_few_windows(data: Dataset, model: ModelConfig, train: TrainConfig) -> Finding:
    advice = window_advice(data)
    if not advice:
        return None
    problem = advice[0].rstrip(".")
    return problem[:1].lower() + problem[1:], " ".join(advice[1:]).rstrip(".") or "record a longer recording"


def _too_few_steps(data: Dataset, model: ModelConfig, train: TrainConfig) -> Finding:
    n = len(data.indices("train"))
    per_epoch = math.ceil(n / min(train.batch_size, n)) if n else 0
    steps = per_epoch * train.epochs
    if steps < MIN_STEPS:
        need = math.ceil(MIN_STEPS / max(per_epoch, 1))
        return (f"{train.epochs} epoch{'s' * (train.epochs != 1)} of {per_epoch} step{'s' * (per_epoch != 1)} "
                f"({n:,} training samples at batch {train.batch_size}) make only {steps} optimiser steps; the code "
                f"is still forming for the first {MIN_STEPS}, so the curves and the collapse verdict will not mean "
                "much",
                f"train {need} epochs or more, or use a smaller batch (or a smaller stride for more windows)")
    return None


def _model_too_large(data: Dataset, model: ModelConfig, train: TrainConfig) -> Finding:
    n = len(data.indices("train"))
    values = n * math.prod(model.input_shape)
    try:
        weights = parameter_count(model.arch, model.input_shape, model.hidden, model.latent_dim)
    except ConfigError:
        return None  # the Train page and the CLI say why these layers do not fit
    if weights > WEIGHTS_PER_VALUE * values:
        return (f"the model has {weights:,} weights, {weights / max(values, 1):,.0f} per number in the training "
                f"part ({n:,} samples × {math.prod(model.input_shape):,} values): it can memorise the training part "
                "instead of learning what the inputs share",
                "use smaller layers (layer sizes) or more data")
    return None


def _labels_as_inputs(data: Dataset, model: ModelConfig, train: TrainConfig) -> Finding:
    if data.kind != "sensor" or not data.channels:
        return None
    x = _train_x(data)
    y = data.part("train")[1]
    for c, name in enumerate(data.channels):
        values = np.unique(x[:, :, c])
        if LABEL_WORDS.match(name.strip()) and len(values) <= 2:
            return (f"the channel '{name}' holds only {len(values)} value{'s' * (len(values) != 1)} and is named like "
                    "a label: the model would be fed the answers it is meant to find",
                    f"leave '{name}' out of the channels (make it the label column)")
        if y is not None and len(np.unique(y)) > 1:
            means = x[:, :, c].mean(1)
            if means.std() > 0 and abs(np.corrcoef(means, y)[0, 1]) >= LABEL_CORRELATION:
                r = np.corrcoef(means, y)[0, 1]
                return (f"the channel '{name}' follows the labels (correlation {r:.2f} between its window means and "
                        "the labels): it looks like the labels fed in as an input",
                        f"leave '{name}' out of the channels")
    return None


def _class_imbalance(data: Dataset, model: ModelConfig, train: TrainConfig) -> Finding:
    y = data.part("train")[1]
    if y is None or data.label_kind != "class" or not data.label_names:
        return None
    counts = np.bincount(y, minlength=len(data.label_names))
    small, big = int(counts.argmin()), int(counts.argmax())
    if counts[small] == 0 or counts[big] > IMBALANCE * counts[small]:
        return (f"the training part holds {counts[big]:,} of class '{data.label_names[big]}' but "
                f"{counts[small]:,} of '{data.label_names[small]}': the VAE will mostly learn the common classes, "
                "and samples from the prior will rarely show the rare ones",
                "balance the classes (keep fewer of the common ones), and read mode coverage with the data's shares "
                "in mind")
    return None


CHECKS: dict[str, tuple[str, Callable[[Dataset, ModelConfig, TrainConfig], Finding]]] = {
    "loss_range": ("the loss fits the data's range", _loss_range),
    "decoder_range": ("the decoder can reach the data's values", _decoder_range),
    "kl_off": ("the KL term is in force", _kl_off),
    "warmup_too_long": ("the warm-up ends within the run", _warmup_too_long),
    "batch_too_large": ("the batch fits in the training part", _batch_too_large),
    "too_few_windows": (f"at least {MIN_TRAIN_WINDOWS} training windows (sensor data)", _too_few_windows),
    "too_few_steps": (f"at least {MIN_STEPS} optimiser steps", _too_few_steps),
    "model_too_large": ("the model is not too large for the data", _model_too_large),
    "labels_as_inputs": ("no labels among the inputs", _labels_as_inputs),
    "class_imbalance": ("the classes are balanced", _class_imbalance),
}


def run_checks(data: Dataset, model: ModelConfig, train: TrainConfig) -> list[Check]:
    """Every check on this set-up, in CHECKS order (passed ones too: the checklist shows them)."""
    out = []
    for name, (title, check) in CHECKS.items():
        finding = check(data, model, train)
        out.append(Check(name, title, True) if finding is None else Check(name, title, False, *finding))
    return out


def problems(data: Dataset, model: ModelConfig, train: TrainConfig) -> list[Check]:
    """The checks this set-up fails (none on the recommended settings)."""
    return [c for c in run_checks(data, model, train) if not c.passed]
