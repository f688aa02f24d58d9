"""How a setting is declared: once, as a config field, with everything the rest of the product derives from it.

`setting(default, help=..., ...)` is a dataclass field whose metadata holds a `Setting`: type, default (per data
kind or architecture where they differ), allowed range or choices, one-sentence help, the lesson that shows it,
how the Train page draws it and whether a sweep may vary it. The CLI's flags and `--help`, the sweep's parsing,
shared links and their clamping, the Train page's widgets, the report's settings table and config validation
are all built from these declarations (see config.SETTINGS); none of them lists a setting by hand.
"""
from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

Target = Literal["model", "train", "data", "anomaly"]
Sweep = Literal["list", "range"]  # list: a,b,c only; range: LOW:HIGH too (sampled log-uniformly)


class ConfigError(ValueError):
    """A setting is out of range; the message says which and what is allowed."""


@dataclass(frozen=True)
class Widget:
    """How the Train page draws a setting; links clamp to what it can show.

    Exactly one of: `grid` (a select slider over these values), `low`/`high`/`step` (a slider, or a number box
    when `number`), or neither for words (a select box over the setting's choices) and layer sizes (a text box).
    """

    label: str
    grid: tuple = ()
    low: float | None = None
    high: float | None = None
    step: float | None = None
    number: bool = False  # a number box instead of a slider (a seed is not a quantity to slide)
    names: dict[str, str] = field(default_factory=dict)  # choice -> words shown in a select box
    more: bool = False  # under "More settings"
    labelled: bool = False  # only for data with class labels (a switch that needs them)


@dataclass(frozen=True)
class Setting:
    """One hyperparameter: everything the CLI, sweeps, links, widgets, reports and validation need."""

    default: Any
    help: str  # one sentence a student understands
    lesson: int | None = None  # the lesson that shows it
    name: str = ""  # the config field's name (filled in by `collect`)
    target: Target = "train"
    low: float | None = None  # numbers, or each layer size: inclusive unless *_open
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()  # words it may take
    items: tuple[str, ...] = ()  # words a list setting may hold, any number of them (augmentations)
    kinds: tuple[str, ...] = ()  # data kinds it applies to ('sensor'); empty: every kind
    choices_by_kind: dict[str, tuple[str, ...]] = field(default_factory=dict)  # narrower per data kind
    defaults: dict[str, Any] = field(default_factory=dict)  # "kind/arch", "arch" or "kind" -> default
    max_items: int = 0  # layer sizes: at most this many layers
    unit: str = ""  # words after a number in messages ("nats per dimension")
    widget: Widget | None = None  # None: not on the Train page (nor in links)
    sweep: Sweep | None = None  # None: a sweep cannot vary it
    active_when: tuple[str, tuple] | None = None  # (other setting, values): ignored otherwise
    cli: bool = True
    live: bool = False  # may change while the run trains (from the next optimiser step on)
    kind: type | None = None  # the value's type when the default does not tell (a None default)
    read: Callable[[str], Any] | None = None  # text -> value, for types no general reader knows (column lists)
    optional: bool = False  # None is allowed (e.g. no label column)
    metavar: str = ""  # how --help writes the value
    cli_name: str = ""  # the flag's name when it is not the field's (--threshold for a rule's method)
    default_words: str = ""  # the default in words, when its value says little (None: 'every numeric column')
    check: Callable[[Any], str | None] | None = None  # extra rule: a message when the value breaks it

    @property
    def type(self) -> type:
        return self.kind or type(self.default)

    @property
    def flag(self) -> str:
        return "--" + (self.cli_name or self.name).replace("_", "-")

    # ---- defaults and choices --------------------------------------------------------------------
    def default_for(self, kind: str = "image", arch: str | None = None) -> Any:
        """The recommended value for a data kind ('image' | 'sensor') and architecture."""
        for key in (f"{kind}/{arch}", arch, kind):
            if key in self.defaults:
                return self.defaults[key]
        return self.default

    def choices_for(self, kind: str | None = None) -> tuple[str, ...]:
        return self.choices_by_kind.get(kind, self.choices) if kind else self.choices

    def default_text(self) -> str:
        """'16 (8 for sensors)' or 'per architecture, e.g. 400' for --help."""
        if self.default_words:
            return self.default_words
        if self.type is bool:
            return "on" if self.default else "off"
        if not self.defaults:
            return format_value(self.default)
        if self.type is tuple:
            return "per architecture: " + ", ".join(f"{k.replace('/', ' ')} {format_value(v)}"
                                                    for k, v in self.defaults.items())
        others = ", ".join(f"{format_value(v)} for {k}s" for k, v in self.defaults.items())
        return f"{format_value(self.default)} for images, {others}"

    # ---- checking and reading --------------------------------------------------------------------
    def range_text(self) -> str:
        """What is allowed, in words: 'a whole number from 1 to 512', 'one of mlp, conv'."""
        if self.items:
            return f"any of {', '.join(self.items)}, comma separated (or none)"
        if self.choices:
            plain = all(c.isidentifier() for c in self.choices)  # '.' and ',' read better quoted
            return f"one of {', '.join(c if plain else repr(c) for c in self.choices)}"
        if self.type is tuple:
            return (f"1 to {self.max_items} layer sizes, each a whole number from {_num(self.low)} to "
                    f"{_num(self.high)}")
        unit = f" {self.unit}" if self.unit else ""
        if self.low is None and self.high is None:
            return "a number"
        if self.type is int:
            return f"a whole number{f' of {self.unit}' if self.unit else ''} from {_num(self.low)} to {_num(self.high)}"
        if self.low_open and self.low == 0:
            return f"a positive number up to {_num(self.high)}{unit}"
        if self.high_open:
            return f"in [{_num(self.low)}, {_num(self.high)}){unit}"
        return f"between {_num(self.low)} and {_num(self.high)}{unit}"

    def problem(self, value: Any) -> str | None:
        """Why `value` is not allowed (one sentence), or None when it is."""
        bad = f"{self.name} must be {self.range_text()}, not {reprlib.repr(value)}"  # a hostile value stays short
        if value is None and self.optional:
            return None
        if self.type is bool:
            return None if isinstance(value, bool) else f"{self.name} must be True or False, not {reprlib.repr(value)}"
        if self.items:
            ok = isinstance(value, tuple) and len(set(value)) == len(value) and all(v in self.items for v in value)
            return None if ok else bad
        if self.choices:
            return None if value in self.choices else bad
        if self.type is str or (self.type is tuple and self.low is None):  # free text (or names) with its own rule
            return self.check(value) if self.check else None
        if self.type is tuple:
            ok = (isinstance(value, tuple) and 1 <= len(value) <= self.max_items
                  and all(isinstance(v, int) and not isinstance(v, bool) and self.low <= v <= self.high for v in value))
            return None if ok else bad
        number = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if self.low is None and self.high is None:  # a number checked elsewhere (shares that must add up)
            ok = number
        elif self.type is int:
            ok = isinstance(value, numbers.Integral) and not isinstance(value, bool) and self.low <= value <= self.high
        else:
            ok = (number and math.isfinite(value)
                  and (value > self.low if self.low_open else value >= self.low)
                  and (value < self.high if self.high_open else value <= self.high))
        if not ok:
            return bad
        return self.check(value) if self.check else None

    def validate(self, value: Any) -> None:
        """Raise ConfigError when `value` is not allowed."""
        message = self.problem(value)
        if message:
            raise ConfigError(message)

    def coerce(self, value: Any) -> Any:
        """Plain JSON values to this setting's type (lists to tuples, 5 to 5.0 for floats); others unchanged."""
        if self.type is tuple and isinstance(value, (list, tuple)):
            return tuple(int(v) if isinstance(v, float) and v == int(v) else v for v in value)
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value

    def parse(self, text: str) -> Any:
        """Command-line, sweep or link text -> a checked value; ConfigError saying what is wrong otherwise."""
        text = str(text).strip()
        if self.type is bool:
            value = parse_switch(text)
            if value is None:
                raise ConfigError(f"{text!r} is not true or false")
            return value
        if self.read is not None:
            value = self.read(text)
            self.validate(value)
            return value
        if self.items:
            words = tuple(w.strip().lower() for w in text.split(",") if w.strip())
            value = () if words == ("none",) else words
            self.validate(value)
            return value
        if self.type is str:
            value: Any = text.lower()
            if self.choices and value not in self.choices:
                raise ConfigError(f"{text!r} is not one of {', '.join(self.choices)}")
        elif self.type is tuple:
            value = parse_sizes(text)
            if value is None:
                raise ConfigError(f"{text!r} is not layer sizes like 400 or 32,64")
        else:
            number = parse_number(text)
            if number is None:
                raise ConfigError(f"{text!r} is not a number")
            if self.type is int:
                if number != int(number):
                    raise ConfigError(f"{text!r} is not a whole number")
                number = int(number)
            value = number
        self.validate(value)
        return value


def setting(default: Any, *, help: str, **declaration: Any) -> Any:
    """A config field declared as a setting (see `Setting` for the keywords)."""
    return field(default=default, metadata={"setting": Setting(default=default, help=help, **declaration)})


def check_declared(obj: Any, error: type[Exception] = ConfigError) -> None:
    """Raise `error` when a field of dataclass `obj` breaks its declaration (its message says which and why)."""
    for f in fields(obj):
        s = f.metadata.get("setting")
        if s is not None:
            message = replace(s, name=s.cli_name or f.name).problem(getattr(obj, f.name))  # named as the flag is
            if message:
                raise error(message)


def collect(*classes: type) -> dict[str, Setting]:
    """Every setting declared on these config classes, in declaration order, named after their fields."""
    out: dict[str, Setting] = {}
    for cls in classes:
        for f in fields(cls):
            s = f.metadata.get("setting")
            if s is not None:
                out[f.name] = replace(s, name=f.name, target=cls.TARGET)
    return out


def parse_number(text: str) -> float | None:
    """A finite number from text, or None."""
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def parse_switch(text: str) -> bool | None:
    """'true', 'on', 'yes', '1' -> True; 'false', 'off', 'no', '0' -> False; None for anything else."""
    return {"true": True, "on": True, "yes": True, "1": True,
            "false": False, "off": False, "no": False, "0": False}.get(str(text).strip().lower())


def parse_sizes(text: str) -> tuple[int, ...] | None:
    """'32,64' or '32 64' -> (32, 64); None when it is not whole numbers (the one parser of layer sizes)."""
    parts = [p for p in str(text).replace(",", " ").split() if p]
    try:
        return tuple(int(p) for p in parts) or None
    except ValueError:
        return None


def format_value(v: Any) -> str:
    """A value as a CLI flag, a link or a table shows it: 0.002 -> '0.002', (32, 64) -> '32,64'."""
    if isinstance(v, (tuple, list)):
        if not v:
            return "none"  # an empty list of words (no augmentation)
        return ",".join(x if isinstance(x, str) else str(int(x)) for x in v)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _num(v: float | None) -> str:
    return "?" if v is None else f"{v:g}"
