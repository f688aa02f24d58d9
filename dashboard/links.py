"""Shareable links: the data choice and the Train page's settings <-> URL query parameters.

One table (`PARAMS`) says which names a link may carry, their types and allowed values: the same ranges and
option lists as the Train page's controls (components/settings.py). `parse` reads a query string into
settings, clamping what is out of range and refusing what cannot be read, each with a message for the
visitor; `to_query` writes the settings that differ from the defaults. Pure Python: no Streamlit calls.
Never put workspace keys, run ids or uploaded file names in a link: only bundled data names and settings.

    ?data=mnist&beta=4&latent_dim=2        MNIST, β = 4, a 2-D latent, everything else at its default
    learn?lesson=3                         the Learn page on lesson 3
    ?presenter=1                           large fonts for a projector
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vae_core.config import ARCHS, LOSSES, SCHEDULES, WARMUPS, default_model_config
from vae_core.data import BUNDLED

from .components.settings import (ARCHS_BY_KIND, BATCHES, BETAS, GRAD_CLIPS, LRS, RANGES, WEIGHT_DECAYS, defaults)

MAX_HIDDEN_LAYERS = 6
MAX_HIDDEN_UNITS = 4096  # as the Train page's "Layer sizes" box
LESSONS = range(1, 7)


@dataclass(frozen=True)
class Param:
    """One name a link may carry. `choices`: allowed words, or a grid of numbers (values snap to the nearest)."""

    name: str
    type: type  # int | float | str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple = ()
    help: str = ""


def _grid(name: str, values: list, help: str) -> Param:
    return Param(name, float if any(isinstance(v, float) for v in values) else int, min(values), max(values),
                 choices=tuple(values), help=help)


def _range(name: str, help: str) -> Param:
    low, high, step = RANGES[name]
    kind = float if isinstance(step, float) else int
    return Param(name, kind, low, high, step, help=help)


# The validation table: every setting a link may set (settings.py keys), in the order links are written.
PARAMS: dict[str, Param] = {p.name: p for p in (
    Param("data", str, choices=tuple(BUNDLED), help="a bundled data set"),
    Param("arch", str, choices=ARCHS, help="architecture (must fit the data: images or sensor windows)"),
    _range("latent_dim", "latent size"),
    _grid("beta", BETAS, "β, the KL weight"),
    Param("loss", str, choices=LOSSES, help="reconstruction loss (the Bernoulli ones need data in [0, 1])"),
    _range("epochs", "epochs"),
    _grid("batch_size", BATCHES, "batch size"),
    _grid("lr", LRS, "learning rate"),
    Param("warmup", str, choices=WARMUPS, help="KL warm-up"),
    _range("warmup_epochs", "warm-up epochs"),
    _range("free_bits", "free bits, nats per dimension"),
    Param("hidden", str, help=f"layer sizes, 1 to {MAX_HIDDEN_LAYERS} whole numbers from 1 to {MAX_HIDDEN_UNITS} "
                              "separated by commas"),
    _range("dropout", "dropout"),
    _grid("weight_decay", WEIGHT_DECAYS, "weight decay"),
    _grid("grad_clip", GRAD_CLIPS, "gradient clipping"),
    Param("schedule", str, choices=SCHEDULES, help="learning-rate schedule"),
    _range("early_stopping", "early-stopping patience"),
    _range("seed", "random seed"),
)}
SETTINGS = tuple(name for name in PARAMS if name != "data")
# Names that are not settings but are fine in a link (the Learn page and presenter mode read them).
OTHER = {"lesson": f"lesson number {LESSONS.start} to {LESSONS.stop - 1}", "presenter": "1 (on) or 0 (off)"}


@dataclass
class Link:
    """What a query string asks for; `messages` explain each value that was clamped, snapped or refused."""

    data: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # settings.py keys ('hidden' stays a string here)
    messages: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.data is None and not self.settings


def _first(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else ""
    return str(value).strip()


def _number(text: str) -> float | None:
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _nearest(value: float, grid: tuple) -> Any:
    """The grid value closest to `value`, on a log scale where both are positive (β 3 -> 4, not 2)."""
    def distance(g):
        if value > 0 and g > 0:
            return abs(math.log(value / g))
        return abs(value - g) + (1e9 if (value > 0) != (g > 0) else 0)
    return min(grid, key=distance)


def _read(p: Param, text: str) -> tuple[Any, str | None]:
    """(value, message): value None when refused; a message whenever the link's value was not used as written."""
    if p.type is str and p.name == "hidden":
        return _read_hidden(text)
    if p.type is str:
        word = text.lower()
        if word in p.choices:
            return word, None
        return None, f"{p.name}={text!r} is not one of {', '.join(p.choices)}; ignored"
    v = _number(text)
    if v is None:
        return None, f"{p.name}={text!r} is not a number; ignored"
    if p.choices:
        if v < p.low or v > p.high:
            chosen = p.low if v < p.low else p.high
            return chosen, f"{p.name}={text} is out of range ({_fmt(p.low)} to {_fmt(p.high)}); using {_fmt(chosen)}"
        chosen = _nearest(v, p.choices)
        note = None if math.isclose(chosen, v, rel_tol=1e-9, abs_tol=1e-12) else \
            f"{p.name}={text} is not one of the allowed values; using the nearest, {_fmt(chosen)}"
        return chosen, note
    clamped = min(max(v, p.low), p.high)
    note = None
    if clamped != v:
        note = f"{p.name}={text} is out of range ({_fmt(p.low)} to {_fmt(p.high)}); using {_fmt(p.type(clamped))}"
    if p.type is int:
        value = int(round(clamped))
        if note is None and value != v:
            note = f"{p.name}={text} must be a whole number; using {value}"
        return value, note
    value = round(round((clamped - p.low) / p.step) * p.step + p.low, 6)
    if note is None and not math.isclose(value, v, abs_tol=1e-9):
        note = f"{p.name}={text} is not a multiple of {_fmt(p.step)}; using {_fmt(value)}"
    return value, note


def _read_hidden(text: str) -> tuple[str | None, str | None]:
    parts = [t for t in text.replace(" ", "").split(",") if t]
    try:
        sizes = [int(t) for t in parts]
    except ValueError:
        sizes = []
    if not sizes or len(sizes) > MAX_HIDDEN_LAYERS or not all(1 <= s <= MAX_HIDDEN_UNITS for s in sizes):
        return None, f"hidden={text!r} is not {PARAMS['hidden'].help}; ignored"
    return ",".join(str(s) for s in sizes), None


def parse(query: Mapping[str, Any]) -> Link:
    """Read a query string's data choice and settings; unknown names and bad values get a message, never raise."""
    link = Link()
    for name, raw in query.items():
        text = _first(raw)
        if name in OTHER:
            continue
        p = PARAMS.get(name)
        if p is None:
            link.messages.append(f"unknown setting {name!r} ignored (a link may set {', '.join(PARAMS)})")
            continue
        value, note = _read(p, text)
        if note:
            link.messages.append(note)
        if value is None:
            continue
        if name == "data":
            link.data = value
        else:
            link.settings[name] = value
    return link


def lesson(query: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """The lesson a link opens (None if none) and a message when its value is not a lesson number."""
    if "lesson" not in query:
        return None, None
    text = _first(query["lesson"])
    v = _number(text)
    if v is None or v != int(v) or int(v) not in LESSONS:
        return None, f"lesson={text!r} is not a lesson number ({LESSONS.start} to {LESSONS.stop - 1})"
    return int(v), None


def presenter(query: Mapping[str, Any]) -> bool | None:
    """True/False when the link switches presenter mode on/off, None when it says nothing (or nonsense)."""
    if "presenter" not in query:
        return None
    return {"1": True, "true": True, "on": True, "yes": True,
            "0": False, "false": False, "off": False, "no": False}.get(_first(query["presenter"]).lower())


def default_hidden(kind: str, arch: str) -> str:
    shape = (1, 28, 28) if kind == "image" else (64, 1)
    return ",".join(str(h) for h in default_model_config(kind, shape, arch=arch).hidden)


def complete(link: Link, kind: str, losses: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Every Train-page setting for data of `kind`: the link's values over the defaults. Values that do not fit
    this kind of data (a sensor architecture for images, a Bernoulli loss for scaled signals) are refused."""
    values = defaults(kind)
    messages = []
    for name, value in link.settings.items():
        if name == "arch" and value not in ARCHS_BY_KIND[kind]:
            messages.append(f"arch={value} does not fit {kind} data (use {', '.join(ARCHS_BY_KIND[kind])}); "
                            f"using {values['arch']}")
            continue
        if name == "loss" and value not in losses:
            messages.append(f"loss={value} does not fit this data (use {', '.join(losses)}); using {values['loss']}")
            continue
        if name != "hidden":
            values[name] = value
    values[f"hidden_{values['arch']}"] = link.settings.get("hidden") or default_hidden(kind, values["arch"])
    return values, messages


def to_query(data: str | None, values: Mapping[str, Any], kind: str) -> dict[str, str]:
    """Query parameters for a bundled data name (None for uploads) and settings: only what differs from the
    defaults, so links stay short and readable. `parse` + `complete` read them back to the same settings."""
    base = defaults(kind)
    query: dict[str, str] = {}
    if data is not None:
        query["data"] = data
    for name in SETTINGS:
        if name == "hidden":
            arch = values.get("arch", base["arch"])
            hidden = values.get(f"hidden_{arch}")
            if hidden and hidden.replace(" ", "") != default_hidden(kind, arch):
                query["hidden"] = hidden.replace(" ", "")
            continue
        if name not in values or values[name] == base.get(name):
            continue
        if name == "warmup_epochs" and values.get("warmup", base["warmup"]) == "none":
            continue  # not in force without a warm-up
        query[name] = _fmt(values[name])
    return query
