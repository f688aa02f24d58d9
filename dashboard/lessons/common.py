"""What every lesson is made of: a data set, a few runs to train, and two functions of the trained runs: the
story (what happened, told with this run's own numbers) and the figures. No Streamlit calls: the Learn page
draws the blocks these functions return, and tests read them directly.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import plotly.graph_objects as go

from vae_core import analysis
from vae_core.config import SETTINGS, ModelConfig, TrainConfig
from vae_core.dataset import Dataset
from vae_core.run import Run
from vae_core.settings import format_value
from vae_core.training import TrainEvent

from ..components import compare, settings
from ..links import defaults

EPOCH_LIMIT_ENV = "VAE_EXPLORER_LESSON_EPOCHS"  # caps every lesson run's epochs (tests keep lessons short)


# ---- what the page draws ---------------------------------------------------------------------------------
@dataclass
class Text:
    """Markdown; kind markdown | caption | info | success | warning | error picks the box it is drawn in."""

    body: str
    kind: str = "markdown"


@dataclass
class Plot:
    fig: go.Figure
    caption: str = ""


@dataclass
class Picture:
    image: np.ndarray  # uint8 (H, W)
    caption: str = ""


@dataclass
class Latex:
    expression: str


@dataclass
class Graph:
    """A diagram in Graphviz's DOT language."""

    dot: str


@dataclass
class Row:
    """Blocks side by side."""

    items: list


Block = Text | Plot | Picture | Latex | Graph | Row


# ---- a lesson ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One run of a lesson: a name for legends and the settings it changes from the lesson's base."""

    name: str
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Lesson:
    number: int
    title: str
    summary: str  # one line under the title
    data: str  # bundled data set name
    base: dict[str, Any]  # settings (components/settings.py keys) over the data kind's defaults
    steps: tuple[Step, ...]
    look_for: tuple[str, ...]  # what to watch for, before and while it runs
    story: Callable[[list[Run]], list[Block]]  # what happened, from the runs' numbers
    figures: Callable[[list[Run]], list[Block]]
    intro: tuple[Block, ...] = ()  # theory shown before running (lesson 1's ELBO)
    prepare: Callable[[Dataset], Dataset] | None = None  # e.g. lesson 5's seeded spikes
    after: Callable[[list[Run]], None] | None = None  # slow analysis, run in the background after training
    minutes: str = "under a minute"  # how long the runs take on a laptop

    @property
    def source(self) -> str:
        """Where a run of this lesson says its data came from: the bundled set, or this lesson's variant of it."""
        return f"bundled:{self.data}" if self.prepare is None else f"lesson:{self.number}"

    def settings(self, step: Step, kind: str) -> dict[str, Any]:
        """Complete Train-page settings for one step (settings.py keys, plus 'kind')."""
        given = {**self.base, **step.changes}
        return {**defaults(kind, given.get("arch")), **given, "kind": kind}

    def plans(self, data: Dataset) -> list[tuple[Step, ModelConfig, TrainConfig]]:
        """The configs of every step for `data`, epochs capped by $VAE_EXPLORER_LESSON_EPOCHS when set."""
        out = []
        for step in self.steps:
            model_cfg, train_cfg = settings.configs(self.settings(step, data.kind), data)
            limit = epoch_limit()
            if limit is not None and train_cfg.epochs > limit:
                train_cfg = replace(train_cfg, epochs=limit)
            out.append((step, model_cfg, train_cfg))
        return out


def epoch_limit() -> int | None:
    text = os.environ.get(EPOCH_LIMIT_ENV, "").strip()
    return max(1, int(text)) if text.isdigit() else None


# ---- reading runs ------------------------------------------------------------------------------------------
def epochs(run: Run, phase: str = "train") -> list[TrainEvent]:
    """The run's per-epoch events of one phase, in order."""
    return [e for e in run.events if e.kind == "epoch" and e.phase == phase]


def dims_off(summary: dict) -> int:
    """Latent dimensions whose KL is below analysis.NEAR_ZERO_KL: they carry (almost) nothing about x."""
    return int(sum(v < analysis.NEAR_ZERO_KL for v in summary["kl_per_dim"]))


def dims_on(summary: dict) -> int:
    return len(summary["kl_per_dim"]) - dims_off(summary)


def diagnosis(run: Run) -> analysis.Diagnostics:
    """Diagnostics on the test part, shared with the Diagnostics page's cache."""
    return run.diagnosis(compare.eval_part(run.data))


def posterior_sigma(run: Run) -> float:
    """Average posterior standard deviation over the test part and all latent dimensions."""
    def compute():
        _, logvar = analysis.encode(run.model, run.data.part(compare.eval_part(run.data))[0])
        return float(np.exp(0.5 * logvar).mean())
    return run.memo.get(("lesson", "sigma"), compute)


def change(old: float, new: float, up: str, down: str) -> str:
    """'up' or 'down' by the sign of new - old (for sentences that must match the numbers)."""
    return up if new > old else down


def beta_name(run: Run) -> str:
    return f"β = {run.train_cfg.beta:g}"


def pct(v: float) -> str:
    return f"{100 * v:.0f}%"


def kl_bars(run: Run, title: str) -> go.Figure:
    diag = diagnosis(run)
    fig = compare.kl_bars(diag.kl_per_dim, diag.active)
    fig.update_layout(title=title)
    return fig


def describe(model_cfg: ModelConfig, train_cfg: TrainConfig) -> str:
    """'mlp, z = 16, β = 4, bce loss, 10 epochs, linear warm-up over 5 epochs' for the runs table."""
    parts = [model_cfg.arch, f"z = {model_cfg.latent_dim}", f"β = {train_cfg.beta:g}", f"{model_cfg.loss} loss",
             f"{train_cfg.epochs} epoch{'s' * (train_cfg.epochs != 1)}"]
    if train_cfg.warmup != "none":
        parts.append(f"{train_cfg.warmup} KL warm-up over {train_cfg.warmup_epochs:g} epochs")
    if train_cfg.free_bits > 0:
        parts.append(f"{train_cfg.free_bits:g} free bits")
    if model_cfg.hidden != SETTINGS["hidden"].default_for(model_cfg.kind, model_cfg.arch):
        parts.append(f"layer sizes {format_value(model_cfg.hidden)}")
    if model_cfg.decoder_input_dropout > 0:
        parts.append(f"decoder input dropout {model_cfg.decoder_input_dropout:g}")
    if train_cfg.augment:
        parts.append(f"augmented ({', '.join(train_cfg.augment)})")
    return ", ".join(parts)
