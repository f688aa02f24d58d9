"""The one way to build, train and finish a run: used by the CLI, the dashboard's jobs, sweeps, lessons and bench.

    run = new_run(data, model_cfg, train_cfg)        # initial weights and generators from the seed
    for event in train_run(run):                     # break to stop; train_run(run) again continues
        ...
    finish_run(run)                                  # held-out evaluation -> run.summary, run.status

Everything random in a run comes from its own generators, seeded from `train_cfg.seed` and kept in
`run.state`: the same data, settings, seed and threads give bit-identical weights on the CPU, whoever
trains it, whatever else trains in the same process, and whether it stopped and continued or not.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from .analysis import evaluate
from .config import ModelConfig, TrainConfig
from .dataset import Dataset
from .family import build_model
from .models import VAE, count_parameters
from .objectives import check_live
from .run import Run
from .training import Change, TrainEvent, TrainingSoFar, TrainState, check_change, run_threads, train


def new_model(cfg: ModelConfig, seed: int = 0) -> VAE:
    """The model with its initial weights drawn from a generator seeded with `seed`."""
    return build_model(cfg, torch.Generator().manual_seed(seed))


def data_info(data: Dataset) -> dict[str, Any]:
    """What a run records about its data set."""
    return {"name": data.name, "kind": data.kind, "input_shape": list(data.input_shape),
            "label_kind": data.label_kind, "label_names": list(data.label_names or []),
            "channels": list(data.channels), "scaling": data.scaling.to_dict() if data.scaling else None,
            "binarised": bool(np.isin(data.x, (0.0, 1.0)).all())}  # for what a likelihood on it may be compared with


def new_run(data: Dataset, model_cfg: ModelConfig, train_cfg: TrainConfig, changes: Sequence[Change] = (),
            **info: Any) -> Run:
    """A run ready to train on `data`: seeded model, optimiser and generators. `changes` plans live setting
    changes ahead (step, name, value), exactly as if made while it trains; `info` adds to its data_info."""
    model = new_model(model_cfg, train_cfg.seed)
    state = TrainState(model, train_cfg)
    for c in changes:
        check_live(c.name, model_cfg, train_cfg)
    state.changes = [Change(c.step, c.name, check_change(c.name, c.value)) for c in changes]
    return Run(model, train_cfg, {**data_info(data), **info}, state=state, data=data, status="queued")


def train_run(run: Run, data: Dataset | None = None, epochs: int | None = None) -> Iterator[TrainEvent]:
    """Train `run` (on its own data unless given) up to `epochs` in all; appends and yields each event.

    Stopping is `break`: the run keeps what it learned and its state, and calling this again continues
    from the very step where it stopped.
    """
    data = data if data is not None else run.data
    if data is None:
        raise ValueError("train_run needs the run's data")
    if epochs is not None:
        run.train_cfg = replace(run.train_cfg, epochs=epochs)
    if run.state is None:  # a loaded run without its training state: a fresh optimiser and generators
        run.state = fresh_state(run)
    run.data, run.status = data, "running"
    for event in train(run.model, data, run.train_cfg, run.state):
        run.events.append(event)
        yield event


def fresh_state(run: Run) -> TrainState:
    """A new optimiser and generators for a run saved without its training state, counting its epochs so far."""
    state = TrainState(run.model, run.train_cfg)
    state.epoch = sum(1 for e in run.events if e.kind == "epoch" and e.phase == "train")
    state.step = max((e.step for e in run.events), default=0)
    state.announced = state.step
    state.changes = list(run.saved_changes)
    return state


def finish_run(run: Run, iwae_k: int = 64, stopped_message: str | None = None) -> Run:
    """After training (finished or stopped): status from the last end event, held-out summary, fresh memo."""
    end = next((e for e in reversed(run.events) if e.kind == "end"), None)
    ended = end is not None and run.events[-1] is end
    if ended:
        run.status, run.message = end.reason, end.message
    else:
        done = run.state.epoch if run.state is not None else 0
        run.status = "stopped"
        run.message = stopped_message or f"stopped after {done} full epoch{'s' * (done != 1)}; kept what was learned"
    with run_threads(run.train_cfg):
        run.summary = summarize(run.model, run.data, run.train_cfg, run.events, iwae_k)
    run.model_changed()
    return run


def summarize(model: VAE, data: Dataset, train_cfg: TrainConfig, events: list[TrainEvent], iwae_k: int = 64) -> dict:
    """Held-out metrics plus training facts: what summary.json holds."""
    epochs = [e for e in events if e.kind == "epoch" and e.phase == "train"]
    end = next((e for e in reversed(events) if e.kind == "end"), None)
    stopped = not events or events[-1].kind != "end"
    # each call of train() ends with an end event and counts seconds from 0; a stopped call has none
    seconds = sum(e.seconds for e in events if e.kind == "end")
    if stopped and events:
        seconds += events[-1].seconds
    train_rates = [e.samples_per_second for e in epochs]
    summary = evaluate(model, data, "test", iwae_k=iwae_k, history=TrainingSoFar.of(events))
    summary.update({
        "data": data.name, "kind": data.kind, "arch": model.cfg.arch, "loss": model.cfg.loss,
        "variant": model.cfg.variant, "conditional": model.cfg.conditional, "objective": train_cfg.objective,
        "beta": train_cfg.beta, "parameters": count_parameters(model),
        "epochs": len(epochs), "seconds": round(seconds, 3),
        "samples_per_second": round(sum(train_rates) / len(train_rates), 1) if train_rates else None,
        "stop_reason": "stopped" if stopped else end.reason,
        "stop_message": "stopped by the user" if stopped else end.message,
    })
    return summary


def fit(data: Dataset, model_cfg: ModelConfig, train_cfg: TrainConfig,
        on_event: Callable[[TrainEvent], bool | None] | None = None, iwae_k: int = 64,
        changes: Sequence[Change] = ()) -> Run:
    """Train a fresh run on data (with live setting `changes` planned) and evaluate it. `on_event` may return True
    to stop early."""
    run = new_run(data, model_cfg, train_cfg, changes=changes)
    for event in train_run(run):
        if on_event is not None and on_event(event):
            break
    return finish_run(run, iwae_k)
