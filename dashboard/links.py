"""Shareable links: the data choice and the Train page's settings <-> URL query parameters.

One table (`PARAMS`) says which names a link may carry, their types and allowed values, derived from the
declarations of the Train page's controls (vae_core/config.py): the same bounds, grids and options. `parse` reads a
query string into settings, clamping what is out of range and refusing what cannot be read, each with a message for the
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

from vae_core.config import WIDGETS, ConfigError, recommended
from vae_core.data import BUNDLED
from vae_core.settings import Setting, format_value, parse_number, parse_switch

from .lesson_titles import TITLES

LESSONS = range(1, len(TITLES) + 1)


@dataclass(frozen=True)
class Param:
    """One name a link may carry. `choices`: allowed words, or a grid of numbers (values snap to the nearest)."""

    name: str
    type: type  # int | float | str | bool | tuple (layer sizes)
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple = ()
    setting: Setting | None = None  # the declaration it comes from ('data' has none)


def _param(s: Setting) -> Param:
    """A link carries what the Train page's control can show: the widget's bounds, grid or choices."""
    w = s.widget
    if s.choices:
        return Param(s.name, str, choices=s.choices, setting=s)
    if s.type is bool:
        return Param(s.name, bool, setting=s)
    if w.grid:
        return Param(s.name, s.type, min(w.grid), max(w.grid), choices=w.grid, setting=s)
    if s.type is tuple:
        return Param(s.name, tuple, setting=s)
    return Param(s.name, s.type, w.low, w.high, w.step, setting=s)


# The validation table: every setting a link may set (the Train page's controls), in the order links are written.
PARAMS: dict[str, Param] = {"data": Param("data", str, choices=tuple(BUNDLED)),
                            **{name: _param(s) for name, s in WIDGETS.items()}}
SETTINGS = tuple(WIDGETS)
# Names that are not settings but are fine in a link (the Learn page and presenter mode read them).
OTHER = {"lesson": f"lesson number {LESSONS.start} to {LESSONS.stop - 1}", "presenter": "1 (on) or 0 (off)"}


def defaults(kind: str, arch: str | None = None) -> dict[str, Any]:
    """Recommended value of every setting a link may carry, for a data kind (and architecture)."""
    full = recommended(kind, {"arch": arch})
    return {name: full[name] for name in SETTINGS}


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


def _fmt(v: Any) -> str:
    return str(v).lower() if isinstance(v, bool) else format_value(v)


def _nearest(value: float, grid: tuple) -> Any:
    """The grid value closest to `value`, on a log scale where both are positive (β 3 -> 4, not 2)."""
    def distance(g):
        if value > 0 and g > 0:
            return abs(math.log(value / g))
        return abs(value - g) + (1e9 if (value > 0) != (g > 0) else 0)
    return min(grid, key=distance)


def _read(p: Param, text: str) -> tuple[Any, str | None]:
    """(value, message): value None when refused; a message whenever the link's value was not used as written."""
    if p.type is tuple:
        try:
            return p.setting.parse(text), None
        except ConfigError:
            what = p.setting.range_text() if p.setting.items else f"layer sizes ({p.setting.range_text()})"
            return None, f"{p.name}={text!r} is not {what}; ignored"
    if p.type is bool:
        switch = parse_switch(text)
        return switch, None if switch is not None else f"{p.name}={text!r} is not true or false; ignored"
    if p.type is str:
        word = text.lower()
        if word in p.choices:
            return word, None
        return None, f"{p.name}={text!r} is not one of {', '.join(p.choices)}; ignored"
    v = parse_number(text)
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
    return float(value), note


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
    v = parse_number(text)
    if v is None or v != int(v) or int(v) not in LESSONS:
        return None, f"lesson={text!r} is not a lesson number ({LESSONS.start} to {LESSONS.stop - 1})"
    return int(v), None


def presenter(query: Mapping[str, Any]) -> bool | None:
    """True/False when the link switches presenter mode on/off, None when it says nothing (or nonsense)."""
    if "presenter" not in query:
        return None
    return {"1": True, "true": True, "on": True, "yes": True,
            "0": False, "false": False, "off": False, "no": False}.get(_first(query["presenter"]).lower())


def complete(link: Link, kind: str, losses: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Every Train-page setting for data of `kind`: the link's values over the defaults. Values that do not fit
    this kind of data (a sensor architecture for images, a Bernoulli loss for scaled signals) are refused."""
    arch = link.settings.get("arch")
    if arch is not None and arch not in WIDGETS["arch"].choices_for(kind):
        arch = None
    values = defaults(kind, arch)
    messages = []
    for name, value in link.settings.items():
        if name == "arch" and value not in WIDGETS["arch"].choices_for(kind):
            messages.append(f"arch={value} does not fit {kind} data "
                            f"(use {', '.join(WIDGETS['arch'].choices_for(kind))}); "
                            f"using {values['arch']}")
            continue
        if name == "loss" and value not in losses:
            messages.append(f"loss={value} does not fit this data (use {', '.join(losses)}); using {values['loss']}")
            continue
        values[name] = value
    return values, messages


def to_query(data: str | None, values: Mapping[str, Any], kind: str) -> dict[str, str]:
    """Query parameters for a bundled data name (None for uploads) and settings: only what differs from the
    defaults, so links stay short and readable. `parse` + `complete` read them back to the same settings."""
    # the architecture against the kind's default, the rest against the defaults for the chosen architecture
    base = {**defaults(kind, values.get("arch")), "arch": defaults(kind)["arch"]}
    query: dict[str, str] = {}
    if data is not None:
        query["data"] = data
    for name in SETTINGS:
        if name not in values or values[name] == base.get(name):
            continue
        s = WIDGETS[name]
        if s.active_when and values.get(s.active_when[0], base[s.active_when[0]]) not in s.active_when[1]:
            continue  # not in force (warm-up epochs without a warm-up)
        query[name] = _fmt(values[name])
    return query
