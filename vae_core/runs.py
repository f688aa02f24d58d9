"""A whole run in one call: seeded model, training loop, held-out evaluation, summary.

The CLI, sweeps and the dashboard's job thread all end a run the same way: `summarize`.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

from .analysis import evaluate
from .checkpoint import Run, data_info
from .config import ModelConfig, TrainConfig
from .dataset import Dataset
from .models import VAE, build_model, count_parameters
from .training import TrainEvent, TrainState, train


def new_model(cfg: ModelConfig, seed: int = 0) -> VAE:
    """Build the model with seeded initial weights, leaving the global RNG as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_model(cfg)


def summarize(model: VAE, data: Dataset, train_cfg: TrainConfig, events: list[TrainEvent], iwae_k: int = 64) -> dict:
    """Held-out metrics plus training facts: what summary.json holds."""
    epochs = [e for e in events if e.kind == "epoch" and e.phase == "train"]
    end = next((e for e in reversed(events) if e.kind == "end"), None)
    # each call of train() ends with an end event and counts seconds from 0; a stopped call has none
    seconds = sum(e.seconds for e in events if e.kind == "end")
    if events and events[-1].kind != "end":
        seconds += events[-1].seconds
    train_rates = [e.samples_per_second for e in epochs]
    summary = evaluate(model, data, "test", iwae_k=iwae_k, recon_history=[e.recon for e in epochs])
    summary.update({
        "data": data.name, "kind": data.kind, "arch": model.cfg.arch, "loss": model.cfg.loss,
        "latent_dim": model.cfg.latent_dim, "beta": train_cfg.beta, "parameters": count_parameters(model),
        "epochs": len(epochs), "seconds": round(seconds, 3),
        "samples_per_second": round(sum(train_rates) / len(train_rates), 1) if train_rates else None,
        "stop_reason": end.reason if end else "stopped", "stop_message": end.message if end else "stopped by the user",
    })
    return summary


def fit(data: Dataset, model_cfg: ModelConfig, train_cfg: TrainConfig,
        on_event: Callable[[TrainEvent], bool | None] | None = None, iwae_k: int = 64) -> Run:
    """Train a fresh model on data and evaluate it. `on_event` may return True to stop early."""
    model = new_model(model_cfg, train_cfg.seed)
    state = TrainState(model, train_cfg)
    torch.manual_seed(train_cfg.seed)
    events: list[TrainEvent] = []
    for ev in train(model, data, train_cfg, state):
        events.append(ev)
        if on_event is not None and on_event(ev):
            break
    return Run(model, train_cfg, data_info(data), events, summarize(model, data, train_cfg, events, iwae_k))
