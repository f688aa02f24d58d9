"""The Train page's hyperparameter controls: one table of settings, each explaining itself.

`show(data)` draws the controls and returns the ModelConfig and TrainConfig they describe. Values live
in `state.settings()` so they survive page switches; `apply(changes)` sets them from elsewhere (the
Diagnostics page's suggested fix, a lesson, a shared link).
"""
from __future__ import annotations

from typing import Any

import streamlit as st
import torch

from vae_core.config import LOSS_NAMES, UNIT_INTERVAL_LOSSES, ModelConfig, TrainConfig, default_model_config
from vae_core.dataset import Dataset
from vae_core.models import build_model

from .. import state

BETAS = [0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]
LRS = [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 1.0, 10.0]
BATCHES = [16, 32, 64, 128, 256, 512, 1024]
WEIGHT_DECAYS = [0.0, 1e-5, 1e-4, 1e-3, 1e-2]
GRAD_CLIPS = [0.0, 0.5, 1.0, 5.0, 10.0, 100.0]
# (min, max, step) of the sliders and number inputs; dashboard/links.py checks shared links against these
RANGES = {"latent_dim": (1, 64, 1), "epochs": (1, 200, 1), "warmup_epochs": (1, 50, 1), "free_bits": (0.0, 2.0, 0.05),
          "dropout": (0.0, 0.5, 0.05), "early_stopping": (0, 20, 1), "seed": (0, 2**31 - 1, 1)}
ARCH_NAMES = {"mlp": "MLP (fully connected)", "conv": "Convolutional", "conv1d": "1-D convolution over time",
              "gru": "GRU (recurrent)"}
ARCHS_BY_KIND = {"image": ["mlp", "conv"], "sensor": ["conv1d", "gru", "mlp"]}
KIND_DEPENDENT = ("arch", "loss", "latent_dim")

LESSON_TITLES = {1: "What a VAE is", 2: "The β trade-off", 3: "Posterior collapse", 4: "Latent size",
                 5: "Choosing the loss for sensor data", 6: "Anomaly detection"}


def lesson_link(number: int) -> str:
    """Markdown link to a lesson on the Learn page (relative, so it works under any base URL path)."""
    return f"[Lesson {number}: {LESSON_TITLES[number]}](learn?lesson={number})"


# One sentence per control, then the lesson that shows it (tooltips render markdown, so the link is clickable).
_HELP_TEXT = {
    "arch": ("How the encoder and decoder are built: MLPs treat every input value separately, convolutions share "
             "weights across positions in space or time.", 1),
    "latent_dim": ("How many numbers the code z has: 2 can be drawn directly, more rebuild better, and a VAE "
                   "switches off the dimensions it does not need.", 4),
    "beta": ("Weight on the KL term (β-VAE, Higgins et al. 2017): higher β gives a smoother latent space and "
             "blurrier reconstructions, and too high a β collapses the code.", 2),
    "loss": ("The decoder's likelihood p(x|z), i.e. how a reconstruction is scored: Bernoulli for pixels in [0, 1], "
             "squared error for signals, absolute error or Huber to shrug off outliers.", 5),
    "epochs": ("How many times training goes through the whole training part.", 1),
    "batch_size": ("Samples per gradient step: bigger batches are faster per sample but take fewer steps per "
                   "epoch.", 1),
    "lr": ("Step size of the Adam optimiser: too small learns slowly, too large makes the loss jump or explode.", 1),
    "warmup": ("KL warm-up (Bowman et al. 2016): β starts near 0 and ramps up, so the encoder learns to use z "
               "before the KL term pulls the codes to the prior.", 3),
    "warmup_epochs": ("Length of the warm-up ramp (or of one cycle), in epochs.", 3),
    "free_bits": ("Free bits (Kingma et al. 2016): each latent dimension may carry this many nats without any KL "
                  "penalty, so switching dimensions off no longer pays.", 3),
    "hidden": ("Layer sizes, comma separated: widths of the hidden layers (MLP), channels per conv layer, or the "
               "GRU's state size.", 1),
    "dropout": ("Randomly zeroes this fraction of hidden units while training, which can reduce overfitting.", 1),
    "weight_decay": ("Pulls the weights gently towards zero (AdamW), another guard against overfitting.", 1),
    "grad_clip": ("Caps the gradient's size at each step so a high learning rate cannot blow up (0 = off).", 1),
    "schedule": ("How the learning rate changes over the run: constant, cosine decay to zero, or halving in "
                 "thirds.", 1),
    "early_stopping": ("Stop when the validation loss has not improved for this many epochs (0 = never).", 1),
    "seed": ("Fixes the random start, so the same settings give the same run.", 1),
}
HELP = {name: f"{text} See it in {lesson_link(lesson)}." for name, (text, lesson) in _HELP_TEXT.items()}


def defaults(kind: str) -> dict[str, Any]:
    """Recommended settings for a data kind."""
    model = default_model_config(kind, (1, 28, 28) if kind == "image" else (64, 1))
    t = TrainConfig()
    return {"arch": model.arch, "latent_dim": model.latent_dim, "beta": t.beta, "loss": model.loss,
            "epochs": t.epochs, "batch_size": t.batch_size, "lr": t.lr, "warmup": t.warmup, "warmup_epochs": 5,
            "free_bits": t.free_bits, "dropout": 0.0, "weight_decay": 0.0, "grad_clip": 0.0, "schedule": t.schedule,
            "early_stopping": 0, "seed": 0}


def apply(changes: dict[str, Any]) -> None:
    """Set settings from outside the Train page; its widgets pick them up when next drawn."""
    values = state.settings()
    values.update(changes)
    for name in changes:
        st.session_state.pop(f"set_{name}", None)  # widgets are recreated from the new value


def _value(name: str, kind: str, allowed: list | None = None) -> Any:
    values = state.settings()
    v = values.get(name, defaults(kind).get(name))
    if allowed is not None and v not in allowed:
        v = defaults(kind)[name] if defaults(kind).get(name) in allowed else allowed[0]
    values[name] = v
    return v


def _widget(name: str, draw, kind: str, allowed: list | None = None, **kw) -> Any:
    """Draw one control bound to state.settings()[name]."""
    key = f"set_{name}"
    if key not in st.session_state:
        st.session_state[key] = _value(name, kind, allowed)
    elif allowed is not None and st.session_state[key] not in allowed:
        st.session_state[key] = _value(name, kind, allowed)
    value = draw(key=key, help=HELP.get(name), **kw)
    state.settings()[name] = value
    return value


def _range(name: str) -> dict[str, Any]:
    low, high, step = RANGES[name]
    return {"min_value": low, "max_value": high, "step": step}


def _reset_on_kind_change(kind: str) -> None:
    """Images and sensor windows want different models: new kind, new recommended model settings."""
    values = state.settings()
    if values.get("kind") not in (None, kind):
        for name in [*KIND_DEPENDENT, *(k for k in values if k.startswith("hidden_"))]:
            values.pop(name, None)
            st.session_state.pop(f"set_{name}", None)
    values["kind"] = kind


def _parse_hidden(text: str) -> tuple[int, ...] | None:
    try:
        sizes = tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        return None
    return sizes if sizes and all(0 < s <= 4096 for s in sizes) else None


def losses_for(data: Dataset) -> list[str]:
    """Losses that fit the data: the Bernoulli ones need values in [0, 1]."""
    return [k for k in LOSS_NAMES if k not in UNIT_INTERVAL_LOSSES or data.in_unit_interval]


def show(data: Dataset) -> tuple[ModelConfig, TrainConfig] | None:
    """Draw the controls; the configs they describe, or None (with a message) if a value is invalid."""
    kind = data.kind
    _reset_on_kind_change(kind)
    archs = ARCHS_BY_KIND[kind]
    arch = _widget("arch", st.selectbox, kind, archs, label="Architecture", options=archs,
                   format_func=ARCH_NAMES.get)
    latent = _widget("latent_dim", st.slider, kind, None, label="Latent size (dimensions of z)", **_range("latent_dim"))
    beta = _widget("beta", st.select_slider, kind, BETAS, label="β (weight of the KL term)", options=BETAS)
    loss = _widget("loss", st.selectbox, kind, losses_for(data), label="Reconstruction loss",
                   options=losses_for(data), format_func=LOSS_NAMES.get)
    epochs = _widget("epochs", st.slider, kind, None, label="Epochs", **_range("epochs"))
    c1, c2 = st.columns(2)
    with c1:
        batch = _widget("batch_size", st.select_slider, kind, BATCHES, label="Batch size", options=BATCHES)
    with c2:
        lr = _widget("lr", st.select_slider, kind, LRS, label="Learning rate", options=LRS, format_func=lambda v: f"{v:g}")
    c1, c2 = st.columns(2)
    with c1:
        warmup = _widget("warmup", st.selectbox, kind, ["none", "linear", "cyclical"], label="KL warm-up",
                         options=["none", "linear", "cyclical"])
    with c2:
        warmup_epochs = _widget("warmup_epochs", st.slider, kind, None, label="Warm-up epochs",
                                **_range("warmup_epochs"), disabled=warmup == "none")
    free_bits = _widget("free_bits", st.slider, kind, None, label="Free bits (nats per dimension)",
                        **_range("free_bits"))
    with st.expander("More settings"):
        default_hidden = ",".join(str(h) for h in default_model_config(kind, data.input_shape, arch=arch).hidden)
        hidden_text = st.text_input("Layer sizes", value=state.settings().get(f"hidden_{arch}", default_hidden),
                                    key=f"set_hidden_{arch}", help=HELP["hidden"])
        state.settings()[f"hidden_{arch}"] = hidden_text
        dropout = _widget("dropout", st.slider, kind, None, label="Dropout", **_range("dropout"))
        weight_decay = _widget("weight_decay", st.select_slider, kind, WEIGHT_DECAYS,
                               label="Weight decay", options=WEIGHT_DECAYS, format_func=lambda v: f"{v:g}")
        grad_clip = _widget("grad_clip", st.select_slider, kind, GRAD_CLIPS,
                            label="Gradient clipping (max norm)", options=GRAD_CLIPS,
                            format_func=lambda v: "off" if v == 0 else f"{v:g}")
        schedule = _widget("schedule", st.selectbox, kind, ["none", "cosine", "step"], label="Learning-rate schedule",
                           options=["none", "cosine", "step"])
        early = _widget("early_stopping", st.slider, kind, None, label="Early stopping patience (epochs, 0 = off)",
                        **_range("early_stopping"))
        seed = _widget("seed", st.number_input, kind, None, label="Random seed", **_range("seed"))
    try:
        model_cfg, train_cfg = configs(state.settings(), data)
    except ValueError as exc:
        st.error(str(exc))
        return None
    from . import share  # here, not at the top: share -> links -> this module

    share.sync(data)
    return model_cfg, train_cfg


def configs(values: dict[str, Any], data: Dataset) -> tuple[ModelConfig, TrainConfig]:
    """The configs that complete settings (as in state.settings()) describe for `data`.

    Raises ValueError (vae_core's ConfigError is one) with a message for the visitor when a value does not fit.
    """
    kind, arch = data.kind, values["arch"]
    default_hidden = ",".join(str(h) for h in default_model_config(kind, data.input_shape, arch=arch).hidden)
    hidden = _parse_hidden(str(values.get(f"hidden_{arch}", default_hidden)))
    if hidden is None:
        raise ValueError(f"Layer sizes must be whole numbers from 1 to 4096 separated by commas, like {default_hidden}.")
    model_cfg = default_model_config(kind, data.input_shape, arch=arch, latent_dim=int(values["latent_dim"]),
                                     loss=values["loss"], hidden=hidden, dropout=float(values["dropout"]))
    with torch.device("meta"):  # checks that the layers fit the data's size, allocating nothing
        build_model(model_cfg)
    warmup = values["warmup"]
    train_cfg = TrainConfig(epochs=int(values["epochs"]), batch_size=int(values["batch_size"]), lr=float(values["lr"]),
                            beta=float(values["beta"]), warmup=warmup,
                            warmup_epochs=float(values["warmup_epochs"]) if warmup != "none" else 0.0,
                            free_bits=float(values["free_bits"]), weight_decay=float(values["weight_decay"]),
                            grad_clip=float(values["grad_clip"]), schedule=values["schedule"],
                            early_stopping=int(values["early_stopping"]), seed=int(values["seed"]))
    return model_cfg, train_cfg
