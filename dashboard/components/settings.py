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
ARCH_NAMES = {"mlp": "MLP (fully connected)", "conv": "Convolutional", "conv1d": "1-D convolution over time",
              "gru": "GRU (recurrent)"}
ARCHS_BY_KIND = {"image": ["mlp", "conv"], "sensor": ["conv1d", "gru", "mlp"]}
KIND_DEPENDENT = ("arch", "loss", "latent_dim")

HELP = {
    "arch": "How the encoder and decoder are built. MLPs treat every input value separately; convolutions "
            "share weights across positions (in space or time), which suits images and signals.",
    "latent_dim": "Number of dimensions of the code z. 2 lets you see the latent space directly; more "
                  "dimensions reconstruct better, but a VAE switches off the ones it does not need.",
    "beta": "Weight on the KL term (β-VAE, Higgins et al. 2017). 1 is the plain ELBO. Higher β pushes codes "
            "towards the prior: smoother latent space, blurrier reconstructions, and at some point collapse.",
    "loss": "The decoder's likelihood p(x|z), i.e. how a reconstruction is scored. Bernoulli (BCE) suits pixels "
            "in [0, 1]; squared error (Gaussian) suits real-valued signals; absolute error (Laplace) and Huber "
            "are less swayed by outliers.",
    "epochs": "How many times training goes through the whole training part.",
    "batch_size": "Samples per gradient step. Bigger batches are faster per sample but take fewer steps per epoch.",
    "lr": "Step size of the Adam optimiser. Too small learns slowly; too large makes the loss jump or explode.",
    "warmup": "KL warm-up (Bowman et al. 2016): start with β near 0 so the encoder learns to use z before the "
              "KL term pulls codes to the prior. Cyclical repeats the ramp (Fu et al. 2019). A cure for collapse.",
    "warmup_epochs": "Length of the warm-up ramp (or of one cycle), in epochs.",
    "free_bits": "Free bits (Kingma et al. 2016): each latent dimension may carry this many nats without any KL "
                 "penalty, so the optimiser has no reason to switch dimensions off. A cure for collapse.",
    "hidden": "Layer sizes, comma separated: widths of the hidden layers (MLP), channels per conv layer, or the "
              "GRU's state size.",
    "dropout": "Randomly zeroes this fraction of hidden units while training, which can reduce overfitting.",
    "weight_decay": "Pulls weights gently towards zero (AdamW), another guard against overfitting.",
    "grad_clip": "Caps the gradient's size at each step; keeps a high learning rate from blowing up. 0 = off.",
    "schedule": "How the learning rate changes over the run: constant, cosine decay to zero, or halving in thirds.",
    "early_stopping": "Stop when the validation loss has not improved for this many epochs (0 = never).",
    "seed": "Fixes the random start, so the same settings give the same run.",
}


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
    latent = _widget("latent_dim", st.slider, kind, None, label="Latent size (dimensions of z)", min_value=1,
                     max_value=64)
    beta = _widget("beta", st.select_slider, kind, BETAS, label="β (weight of the KL term)", options=BETAS)
    loss = _widget("loss", st.selectbox, kind, losses_for(data), label="Reconstruction loss",
                   options=losses_for(data), format_func=LOSS_NAMES.get)
    epochs = _widget("epochs", st.slider, kind, None, label="Epochs", min_value=1, max_value=200)
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
        warmup_epochs = _widget("warmup_epochs", st.slider, kind, None, label="Warm-up epochs", min_value=1,
                                max_value=50, disabled=warmup == "none")
    free_bits = _widget("free_bits", st.slider, kind, None, label="Free bits (nats per dimension)", min_value=0.0,
                        max_value=2.0, step=0.05)
    with st.expander("More settings"):
        default_hidden = ",".join(str(h) for h in default_model_config(kind, data.input_shape, arch=arch).hidden)
        hidden_text = st.text_input("Layer sizes", value=state.settings().get(f"hidden_{arch}", default_hidden),
                                    key=f"set_hidden_{arch}", help=HELP["hidden"])
        state.settings()[f"hidden_{arch}"] = hidden_text
        dropout = _widget("dropout", st.slider, kind, None, label="Dropout", min_value=0.0, max_value=0.5, step=0.05)
        weight_decay = _widget("weight_decay", st.select_slider, kind, [0.0, 1e-5, 1e-4, 1e-3, 1e-2],
                               label="Weight decay", options=[0.0, 1e-5, 1e-4, 1e-3, 1e-2], format_func=lambda v: f"{v:g}")
        grad_clip = _widget("grad_clip", st.select_slider, kind, [0.0, 0.5, 1.0, 5.0, 10.0, 100.0],
                            label="Gradient clipping (max norm)", options=[0.0, 0.5, 1.0, 5.0, 10.0, 100.0],
                            format_func=lambda v: "off" if v == 0 else f"{v:g}")
        schedule = _widget("schedule", st.selectbox, kind, ["none", "cosine", "step"], label="Learning-rate schedule",
                           options=["none", "cosine", "step"])
        early = _widget("early_stopping", st.slider, kind, None, label="Early stopping patience (epochs, 0 = off)",
                        min_value=0, max_value=20)
        seed = _widget("seed", st.number_input, kind, None, label="Random seed", min_value=0, max_value=2**31 - 1, step=1)
    hidden = _parse_hidden(hidden_text)
    if hidden is None:
        st.error(f"Layer sizes must be whole numbers from 1 to 4096 separated by commas, like {default_hidden}.")
        return None
    try:
        model_cfg = default_model_config(kind, data.input_shape, arch=arch, latent_dim=int(latent), loss=loss,
                                         hidden=hidden, dropout=float(dropout))
        with torch.device("meta"):  # checks that the layers fit the data's size, allocating nothing
            build_model(model_cfg)
        train_cfg = TrainConfig(epochs=int(epochs), batch_size=int(batch), lr=float(lr), beta=float(beta),
                                warmup=warmup, warmup_epochs=float(warmup_epochs) if warmup != "none" else 0.0,
                                free_bits=float(free_bits), weight_decay=float(weight_decay),
                                grad_clip=float(grad_clip), schedule=schedule, early_stopping=int(early),
                                seed=int(seed))
    except ValueError as exc:
        st.error(str(exc))
        return None
    return model_cfg, train_cfg
