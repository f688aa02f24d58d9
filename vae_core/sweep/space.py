"""What a sweep varies: parameters, their values (lists or ranges), grid and random trials, stable keys.

A search space maps a setting's name (any declared with `sweep=...` in config.py, see PARAMS) to a `Choice`
of values or a `Range` sampled log-uniformly. A trial's identity is a hash of everything that shapes its
result (data source, both configs, seed), so re-running a sweep can recognise trials it already has.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np

from ..config import SETTINGS, ConfigError, ModelConfig, TrainConfig, configs_for, to_dict
from ..settings import Setting, format_value

SEARCHES = ("grid", "random", "bayes")
MAX_TRIALS = 10_000  # a grid larger than this is a typo, not a plan


class SweepError(ConfigError):
    """A sweep that cannot run as asked; the message says which setting and what is allowed."""


# What a sweep can vary: every setting declared with sweep="list" or "range" (config.py).
PARAMS: dict[str, Setting] = {name: s for name, s in SETTINGS.items() if s.sweep}


@dataclass(frozen=True)
class Choice:
    """A list of values: a grid crosses them, random and Bayesian search pick among them."""

    values: tuple

    def __post_init__(self) -> None:
        if not self.values:
            raise SweepError("a list of values must hold at least one value")


@dataclass(frozen=True)
class Range:
    """LOW:HIGH, sampled log-uniformly (uniformly when LOW is 0); integers stay whole."""

    low: float
    high: float
    integer: bool = False

    @property
    def log(self) -> bool:
        return self.low > 0

    def sample(self, rng: np.random.Generator) -> float | int:
        if self.log:
            v = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            v = rng.uniform(self.low, self.high)
        return int(round(v)) if self.integer else float(f"{v:.4g}")  # 4 digits: readable, still random


Values = Union[Choice, Range]


def _flag(name: str) -> str:
    return name.replace("_", "-")


def _value(p: Setting, text: str) -> Any:
    try:
        return p.parse(text)
    except ConfigError as exc:
        raise SweepError(f"--{_flag(p.name)}: {exc}") from None


def parse_values(name: str, text: str | Sequence[str]) -> Values:
    """Command-line text -> values: '0.5,1,4' (a list) or '1e-4:1e-2' (a range); hidden takes '64 128,64'.

    Each value is read and checked by the setting's declaration.
    """
    if name not in PARAMS:
        raise SweepError(f"cannot sweep {name!r}; choose from {', '.join(PARAMS)}")
    p = PARAMS[name]
    if p.type is tuple:
        options = [text] if isinstance(text, str) else list(text)
        return Choice(tuple(dict.fromkeys(_value(p, option) for option in options)))
    text = text if isinstance(text, str) else ",".join(text)
    if ":" in text:
        if p.sweep != "range":
            raise SweepError(f"--{_flag(name)} takes a list like a,b,c, not a range")
        parts = text.split(":")
        if len(parts) != 2:
            raise SweepError(f"--{_flag(name)}: a range is LOW:HIGH, like 1e-4:1e-2, not {text!r}")
        low, high = (_value(p, t) for t in parts)
        if not low < high:
            raise SweepError(f"--{_flag(name)}: a range needs 0 <= LOW < HIGH, not {text!r}")
        return Range(float(low), float(high), integer=p.type is int)
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise SweepError(f"--{_flag(name)}: give one value or several separated by commas")
    return Choice(tuple(dict.fromkeys(_value(p, v) for v in items)))  # drop repeats, keep the order given


def normalize(space: dict[str, Any]) -> dict[str, Values]:
    """Accept plain Python too: {'beta': [0.5, 1], 'lr': Range(1e-4, 1e-2), 'loss': 'bce'}."""
    out: dict[str, Values] = {}
    for name, v in space.items():
        if name not in PARAMS:
            raise SweepError(f"cannot sweep {name!r}; choose from {', '.join(PARAMS)}")
        if isinstance(v, (Choice, Range)):
            out[name] = v
            continue
        kind = PARAMS[name].type
        if kind is tuple:  # (64,) is one option, [(64,), (128, 64)] two
            many = list(v) if all(isinstance(x, (list, tuple)) for x in v) else [v]
            out[name] = Choice(tuple(dict.fromkeys(tuple(int(h) for h in x) for x in many)))
        else:
            many = list(v) if isinstance(v, (list, tuple)) else [v]
            out[name] = Choice(tuple(dict.fromkeys(kind(x) for x in many)))
    return out


def grid_size(space: dict[str, Values]) -> int | None:
    """Number of distinct settings, or None when a range makes it unbounded."""
    if any(isinstance(v, Range) for v in space.values()):
        return None
    return math.prod(len(v.values) for v in space.values())


def grid(space: dict[str, Values]) -> list[dict[str, Any]]:
    """Every combination, in the order given (the last parameter varies fastest)."""
    ranged = [n for n, v in space.items() if isinstance(v, Range)]
    if ranged:
        raise SweepError(f"a grid needs lists, but --{_flag(ranged[0])} is a range; use --search random or bayes")
    size = grid_size(space)
    if size > MAX_TRIALS:
        raise SweepError(f"the grid has {size:,} combinations, more than {MAX_TRIALS:,}; "
                         "use --search random --trials N")
    names = list(space)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(space[n].values for n in names))]


def sample(space: dict[str, Values], n: int, seed: int) -> list[dict[str, Any]]:
    """n distinct random settings (seeded): lists are picked from uniformly, ranges log-uniformly.

    When the space is a finite grid, this is the first n of a seeded shuffle of it (capped at its size).
    """
    if not 1 <= n <= MAX_TRIALS:
        raise SweepError(f"--trials must be from 1 to {MAX_TRIALS:,}, not {n}")
    rng = np.random.default_rng(seed)
    if grid_size(space) is not None:
        every = grid(space)
        return [every[i] for i in rng.permutation(len(every))[:n]]
    out, seen = [], set()
    for _ in range(100 * n):
        params = {name: (v.sample(rng) if isinstance(v, Range) else v.values[rng.integers(len(v.values))])
                  for name, v in space.items()}
        key = json.dumps(params, sort_keys=True, default=list)
        if key not in seen:
            seen.add(key)
            out.append(params)
            if len(out) == n:
                break
    return out


@dataclass(frozen=True)
class Base:
    """What every trial shares: the data source, its shape, and the settings not swept."""

    source: str  # bundled name or file path; workers load it themselves
    kind: str  # image | sensor
    input_shape: tuple[int, ...]
    sensor: dict | None = None  # SensorOptions as a dict, for sensor CSVs
    seed: int = 0  # training seed of every trial (the same start for all: differences come from the settings)
    device: str = "auto"
    fixed: dict[str, Any] = field(default_factory=dict)  # non-swept settings, e.g. {"hidden": (64,)}
    classes: int = 0  # the data's classes, for conditional trials


def configs(base: Base, params: dict[str, Any]) -> tuple[ModelConfig, TrainConfig]:
    """The model and training configs of one trial: swept values over the fixed ones over the recommended."""
    return configs_for(base.kind, base.input_shape, {**base.fixed, **params, "seed": base.seed, "device": base.device},
                       base.classes)


def trial_key(base: Base, model: ModelConfig, train: TrainConfig) -> str:
    """A stable 12-hex id of everything that shapes a trial's result (not where or on how many threads it runs)."""
    train_d = {k: v for k, v in to_dict(train).items() if k not in ("device", "threads")}
    blob = json.dumps({"data": base.source, "sensor": base.sensor, "model": to_dict(model), "train": train_d},
                      sort_keys=True, default=list)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def describe(params: dict[str, Any]) -> str:
    """'beta=0.5 latent_dim=2 loss=bce' for tables and labels."""
    return " ".join(f"{k}={format_value(v)}" for k, v in params.items())
