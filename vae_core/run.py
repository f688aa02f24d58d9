"""One run type, one status vocabulary, and the results derived from a run's model, memoised on it.

A `Run` is a model with its settings, history and results: the CLI saves it, a sweep trial returns it,
the dashboard lists it, a lesson explains it. `vae_core.runs` builds and trains runs; `checkpoint` saves
and loads them. Results derived from the model (diagnosis, latent means, errors, maps) are computed once
through `run.memo` and the typed accessors below, the same way wherever they are shown.
"""
from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import numpy as np

from . import analysis
from .config import ModelConfig, TrainConfig, to_dict, variant_words
from .dataset import Dataset
from .models import VAE
from .training import Change, TrainEvent, TrainingSoFar, TrainState

# Every status a run, a training job or a background task can be in.
Status = Literal["queued", "running", "evaluating", "finished", "early_stopped", "stopped", "diverged", "failed",
                 "interrupted"]
ACTIVE: tuple[Status, ...] = ("queued", "running", "evaluating")
STATUS_WORDS: dict[Status, str] = {  # each status in words, as pages and the CLI say it
    "queued": "waiting for a training slot", "running": "training", "evaluating": "evaluating on the test part",
    "finished": "finished", "early_stopped": "stopped early", "stopped": "stopped", "diverged": "training diverged",
    "failed": "training could not run", "interrupted": "interrupted",
}
T = TypeVar("T")


def run_number(name: str) -> int:
    """N of "run N" (how the dashboard names runs), else 0."""
    match = re.fullmatch(r"run (\d+)", name or "")
    return int(match.group(1)) if match else 0


def run_label(name: str, data: str, settings: dict[str, Any]) -> str:
    """'run 3: mnist, mlp, β=1, z=16, bce' for a run, whether loaded or only listed (settings as in config.json).

    A run on sensor windows (input shape (T, C)) counts its channels, 'bleeding (1 ch)', so runs on different
    channels of one recording do not read the same.
    """
    shape = settings.get("input_shape") or ()
    if len(shape) == 2:
        data = f"{data} ({shape[-1]} ch)"
    details = f"{data}, {model_words(settings)}"
    return f"{name}: {details}" if run_number(name) else (name or details)


def model_words(settings: dict[str, Any]) -> str:
    """'mlp, β=1, z=16, bce' (', hierarchical VAE' for another member of the VAE family): the settings that name a
    model, in run labels and the Runs table."""
    words = (f"{settings.get('arch')}, β={settings.get('beta', 0):g}, z={settings.get('latent_dim')}, "
             f"{settings.get('loss')}")
    family = variant_words(settings)
    return words if family == "VAE" else f"{words}, {family}"


class Memo:
    """Results computed from one model, each once; `clear()` when the model changes (retrained)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._values: dict[Hashable, Any] = {}
        self.version = 0  # bumped by clear(): a result computed before it is dropped

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The value under `key`, computed (outside the lock) the first time it is asked for."""
        with self._lock:
            if key in self._values:
                return self._values[key]
            version = self.version
        value = compute()
        return self.put(key, value, version)

    def peek(self, key: Hashable) -> Any:
        """The value under `key`, or None when it has not been computed."""
        with self._lock:
            return self._values.get(key)

    def put(self, key: Hashable, value: T, version: int) -> T:
        """Keep `value` (computed when the memo was at `version`) unless the model changed since; first one wins."""
        with self._lock:
            if version != self.version:
                return value
            return self._values.setdefault(key, value)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self.version += 1


@dataclass(eq=False)
class Run:
    """A trained (or training, or stopped) model with everything needed to explain, continue and reload it."""

    model: VAE
    train_cfg: TrainConfig
    data_info: dict[str, Any]  # name, kind, input_shape, label names, channels, scaling, source
    events: list[TrainEvent] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    status: Status = "finished"
    message: str = ""
    state: TrainState | None = None  # optimiser, generators and counters: what Continue needs
    data: Dataset | None = None  # the data it was trained on, when that is loaded
    id: str = field(default_factory=lambda: uuid.uuid4().hex)  # random, never shown in URLs
    name: str = ""  # "run 3" within a workspace; "" for a run saved without one (the CLI's)
    created: float = field(default_factory=time.time)
    memo: Memo = field(default_factory=Memo)
    saved_changes: list[Change] = field(default_factory=list)  # the changes a run loaded without its state made

    @property
    def changes(self) -> list[Change]:
        """Live setting changes (β, learning rate, free bits) by step: the run's config history."""
        return self.state.changes if self.state is not None else self.saved_changes

    @property
    def model_cfg(self) -> ModelConfig:
        return self.model.cfg

    @property
    def number(self) -> int:
        """N of a run named "run N" (0 otherwise)."""
        return run_number(self.name)

    @property
    def data_name(self) -> str:
        """The name of the data it was trained on (loaded or not)."""
        return self.data.name if self.data is not None else str(self.data_info.get("name", "?"))

    @property
    def short_name(self) -> str:
        """'run 3', or the start of its id for a run saved without a name (the CLI's)."""
        return self.name if run_number(self.name) else f"run {self.id[:6]}"

    @property
    def label(self) -> str:
        return run_label(self.name, self.data_name, {**to_dict(self.model.cfg), **to_dict(self.train_cfg)})

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def so_far(self) -> TrainingSoFar:
        """Optimiser steps and training reconstruction and KL per epoch, for the collapse verdict."""
        return TrainingSoFar.of(self.events)

    def model_changed(self) -> None:
        """Forget every derived result (call after training the model further)."""
        self.memo.clear()

    # ---- derived results, computed the same way on every page ------------------------------------------
    def diagnosis(self, part: str = "test"):
        """KL per dimension, active units and the collapse verdict on one part (analysis.Diagnostics)."""
        def compute():
            x, y = self._part(part)
            return analysis.diagnose(self.model, x, self.so_far(), y=y)
        return self.memo.get(("diagnosis", part), compute)

    def means(self, part: str = "all") -> np.ndarray:
        """Latent means E_q[z|x] of one part: (N, D)."""
        return self.memo.get(("means", part), lambda: analysis.encode_means(self.model, *self._part(part)))

    def recon_errors(self, part: str = "all") -> np.ndarray:
        """-log p(x|z) at the latent mean of each sample of one part: (N,)."""
        return self.memo.get(("recon_errors", part),
                             lambda: analysis.reconstruction_errors(self.model, *self._part(part)))

    def labels_for(self, index: np.ndarray) -> np.ndarray | None:
        """The labels a conditional model needs with the samples at `index` (None for other models)."""
        return self._data().y[index] if self.model.classes else None

    def _part(self, part: str) -> tuple[np.ndarray, np.ndarray | None]:
        """(x, labels a conditional model needs, else None) of one part."""
        x, y = self._data().part(part)
        return x, (y if self.model.classes else None)

    def anomaly_metrics(self, part: str = "test") -> dict:
        """ROC-AUC, average precision and the ROC curve of the windows' errors against their anomaly labels."""
        return self.memo.get(("anomaly_metrics", part),
                             lambda: analysis.anomaly_metrics(self.recon_errors(part), self._data().part(part)[1]))

    def _data(self) -> Dataset:
        if self.data is None:
            raise ValueError("this run's data is not loaded; load the data it was trained on first")
        return self.data
