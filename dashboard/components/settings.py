"""The Train page's controls, each drawn from its setting's declaration in vae_core.config (label, bounds,
options, help, lesson); this module only lays them out.

`show(data)` draws the controls and returns the ModelConfig and TrainConfig they describe. Values live in
`state.settings()` (setting name -> value, plus 'kind') so they survive page switches; `state.apply_settings`
sets them from elsewhere (the Diagnostics page's suggested fix, a lesson, a shared link).
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from vae_core.config import WIDGETS, ConfigError, ModelConfig, TrainConfig, configs_for, losses_for
from vae_core.dataset import Dataset
from vae_core.family import skeleton
from vae_core.settings import Setting, format_value, parse_sizes

from .. import state
from ..lesson_titles import lesson_link
from ..links import defaults
from . import presenter, share

# Where each control stands: rows of one or two, then the ones under "More settings".
LAYOUT = (("arch",), ("variant",), ("conditional",), ("latent_dim",), ("beta",), ("loss",), ("objective",),
          ("iwae_k",), ("epochs",), ("batch_size", "lr"), ("warmup",), ("warmup_epochs",), ("free_bits",))
MORE = (("hidden",), ("top_latent_dim",), ("activation",), ("norm",), ("huber_delta",), ("dropout",),
        ("decoder_input_dropout",), ("augment",), ("optimizer",), ("weight_decay",), ("grad_clip",), ("schedule",),
        ("early_stopping",), ("seed",))
KIND_DEPENDENT = ("arch", "loss", "latent_dim", "hidden")  # recommended per data kind or architecture


def help_text(s: Setting) -> str:
    """The declaration's sentence and a link to the lesson that shows it (tooltips render markdown)."""
    return f"{s.help} See it in {lesson_link(s.lesson)}." if s.lesson else s.help


def options(name: str, data: Dataset) -> list:
    """The values a choice control offers for this data (architectures per kind, losses per value range)."""
    s = WIDGETS[name]
    if name == "loss":
        return losses_for(data.in_unit_interval)
    if s.choices:
        return list(s.choices_for(data.kind))
    return list(s.widget.grid)


def _complete(data: Dataset) -> dict[str, Any]:
    """state.settings() for this data: a new kind resets the kind-dependent ones, a new arch its layer sizes."""
    values = state.settings()
    if values.get("kind") not in (None, data.kind):
        for name in KIND_DEPENDENT:
            values.pop(name, None)
            st.session_state.pop(f"set_{name}", None)
    values["kind"] = data.kind
    for name, value in defaults(data.kind, values.get("arch")).items():
        values.setdefault(name, value)
    return values


def _draw(name: str, data: Dataset, values: dict[str, Any]) -> None:
    """One control bound to values[name], drawn as its declaration says."""
    s, key = WIDGETS[name], f"set_{name}"
    w = s.widget
    if w.labelled and data.classes < 2:  # a switch that needs class labels: off, and not offered
        values[name] = False
        return
    kw: dict[str, Any] = {"label": w.label, "key": key, "help": help_text(s)}
    if s.active_when:
        other, active = s.active_when
        kw["disabled"] = values.get(other) not in active
    if s.items:  # several words at once (augmentations); off for the kinds of data they do not apply to
        if s.kinds and data.kind not in s.kinds:
            values[name], kw["disabled"] = s.default, True
            st.session_state[key] = list(s.default)
        st.session_state.setdefault(key, [v for v in values[name] if v in s.items])
        values[name] = tuple(st.multiselect(options=list(s.items), format_func=lambda v: w.names.get(v, v), **kw))
        return
    if s.type is tuple:
        st.session_state.setdefault(key, format_value(values[name]))
        text = st.text_input(**kw)
        values[name] = parse_sizes(text) or text  # text that is no sizes is refused when the configs are built
        return
    allowed = options(name, data) if (s.choices or w.grid) else None
    if allowed is not None and values[name] not in allowed:
        default = s.default_for(data.kind, values.get("arch"))
        values[name] = default if default in allowed else allowed[0]
        st.session_state.pop(key, None)
    st.session_state.setdefault(key, values[name])
    values[name] = widget(s, allowed, **kw)


def widget(s: Setting, allowed: list | None, **kw) -> Any:
    """The Streamlit control a declaration asks for (switch, select box, select slider, slider or number box); its
    value."""
    w = s.widget
    if s.type is bool:
        return st.toggle(**kw)
    if s.choices:
        return st.selectbox(options=allowed, format_func=lambda v: w.names.get(v, v), **kw)
    if w.grid:
        return st.select_slider(options=allowed, format_func=format_value, **kw)
    draw = st.number_input if w.number else st.slider
    return draw(min_value=w.low, max_value=w.high, step=w.step, **kw)


def _rows(rows: tuple, data: Dataset, values: dict[str, Any]) -> None:
    for row in rows:
        # side by side, but one to a line in presenter mode: two of its large labels do not fit a third of the page
        for col, name in zip(st.columns(len(row)) if len(row) > 1 and not presenter.enabled() else
                             [st.container() for _ in row], row, strict=True):
            with col:
                _draw(name, data, values)


def show(data: Dataset) -> tuple[ModelConfig, TrainConfig] | None:
    """Draw the controls; the configs they describe, or None (with a message) if a value is invalid."""
    values = _complete(data)
    _rows(LAYOUT, data, values)
    with st.expander("More settings"):
        _rows(MORE, data, values)
    try:
        result = configs(values, data)
    except ValueError as exc:
        st.error(str(exc))
        return None
    share.sync(data)
    return result


def configs(values: dict[str, Any], data: Dataset) -> tuple[ModelConfig, TrainConfig]:
    """The configs that settings (as in state.settings()) describe for `data`.

    Raises ValueError (vae_core's ConfigError is one) with a message for the visitor when a value does not fit.
    """
    given = {name: values[name] for name in WIDGETS if name in values}
    if isinstance(given.get("hidden"), str):
        hidden = given["hidden"]
        try:
            given["hidden"] = WIDGETS["hidden"].parse(hidden)
        except ConfigError:
            raise ValueError(f"Layer sizes must be {WIDGETS['hidden'].range_text()}, separated by commas, like "
                             f"{format_value(WIDGETS['hidden'].default_for(data.kind, given.get('arch')))}; "
                             f"not {hidden!r}.") from None
    model_cfg, train_cfg = configs_for(data.kind, data.input_shape, given, data.classes)
    skeleton(model_cfg)  # checks that the layers fit the data's size, allocating nothing
    return model_cfg, train_cfg
