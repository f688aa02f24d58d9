"""One trial = one `runs.fit` call: the task a worker receives, the code it runs, the row it returns.

A task is plain data (config dicts, the data source string, sensor options), never arrays, so any
worker (a spawned process, a Ray node) loads the data itself. The result comes back as a results row
plus the run's files as bytes, which the sweep's driver writes: workers never need the output folder.
"""
from __future__ import annotations

import json
import math
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

import torch

from ..checkpoint import run_files
from ..config import SETTINGS, ConfigError, ModelConfig, TrainConfig, from_dict
from ..dataset import DataError, Dataset
from ..run import Run
from ..settings import format_value

# results.csv columns, in order: who, what was set (every setting a sweep can vary, and the seed), what came
# out, when and where
CONFIG_FIELDS = (*(n for n, s in SETTINGS.items() if s.sweep), "seed")
METRIC_FIELDS = ("test_neg_elbo", "recon", "kl", "active_units", "collapsed", "iwae_nll")
FIELDS = ("trial", "key", "status", "data", *CONFIG_FIELDS, *METRIC_FIELDS, "seconds", "finished_at", "host", "message")


@dataclass(frozen=True)
class TrialTask:
    """Everything a worker needs for one trial, as plain picklable data."""

    trial: str  # short id, also the run folder's name (trials/<trial>/)
    key: str  # stable hash of the trial's settings (see space.trial_key)
    params: dict[str, Any]  # the swept values, for display and Optuna
    model: dict[str, Any]  # ModelConfig as a dict
    train: dict[str, Any]  # TrainConfig as a dict
    source: str  # bundled name or file path
    sensor: dict | None = None  # SensorOptions as a dict (sensor CSVs)
    iwae_k: int = 64  # importance samples for the IWAE NLL (images; 0 = skip)
    threads: int | None = None  # torch threads for this trial; None leaves the process's setting alone
    files: bool = True  # return the run's files (to save under trials/<trial>/)
    optuna_number: int | None = field(default=None, compare=False)  # Bayesian search: the Optuna trial


@dataclass
class TrialOutcome:
    """What a trial hands back to the driver."""

    task: TrialTask
    row: dict[str, Any]
    files: dict[str, bytes] | None = None  # config.json, model.safetensors, metrics.csv, summary.json
    run: Run | None = None  # in-process engine only (the dashboard opens it without reloading)


def _sensor_options(sensor: dict | None):
    if sensor is None:
        return None
    from ..data import SensorOptions

    return SensorOptions(**{k: tuple(v) if isinstance(v, list) else v for k, v in sensor.items()})


@lru_cache(maxsize=2)
def _load(source: str, sensor_json: str) -> Dataset:
    from ..data import load

    return load(source, _sensor_options(json.loads(sensor_json)))


def load_data(source: str, sensor: dict | None) -> Dataset:
    """The trial's data, loaded once per worker process (read-only)."""
    return _load(source, json.dumps(sensor, sort_keys=True))


def _number(v: Any) -> Any:
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    return v


def make_row(task: TrialTask, status: str, summary: dict, seconds: float, message: str = "") -> dict[str, Any]:
    """One results.csv row from a task and its run's summary."""
    cfg = {**task.model, **task.train}
    row: dict[str, Any] = {"trial": task.trial, "key": task.key, "status": status, "data": task.source}
    for name in CONFIG_FIELDS:
        v = cfg.get(name)
        row[name] = format_value(tuple(v)) if isinstance(v, (list, tuple)) else v
    for name in METRIC_FIELDS:
        row[name] = _number(summary.get(name))
    row.update(seconds=round(seconds, 3), host=socket.gethostname(), message=message,
               finished_at=datetime.now(timezone.utc).isoformat(timespec="milliseconds"))
    return row


def run_trial(task: TrialTask, data: Dataset, should_stop: Callable[[], bool] | None = None,
              keep_run: bool = False) -> TrialOutcome | None:
    """Train and evaluate one trial on `data`; None when `should_stop()` turned true meanwhile."""
    from ..runs import fit

    if task.threads:
        torch.set_num_threads(task.threads)
    start = time.perf_counter()
    try:
        model_cfg, train_cfg = from_dict(ModelConfig, task.model), from_dict(TrainConfig, task.train)
        run = fit(data, model_cfg, train_cfg, on_event=(lambda ev: should_stop()) if should_stop else None,
                  iwae_k=task.iwae_k)
    except (DataError, ConfigError) as exc:  # the settings do not fit the data: a row that says why
        return TrialOutcome(task, make_row(task, "failed", {}, time.perf_counter() - start, str(exc)))
    except Exception as exc:  # noqa: BLE001 - one bad trial must not end the sweep
        return TrialOutcome(task, make_row(task, "failed", {}, time.perf_counter() - start,
                                           f"{type(exc).__name__}: {exc}"))
    if should_stop is not None and should_stop():
        return None
    run.data_info.update(source=task.source, sensor=task.sensor)
    status = run.summary.get("stop_reason", "finished")
    message = "" if status == "finished" else str(run.summary.get("stop_message", ""))
    row = make_row(task, status, run.summary, time.perf_counter() - start, message)
    run.summary.update(trial=task.trial, trial_key=task.key)
    return TrialOutcome(task, row, run_files(run) if task.files else None, run if keep_run else None)


def work(task: TrialTask) -> TrialOutcome:
    """A worker's entry point (process pool, Ray): load the data by name or path, run the trial."""
    try:
        data = load_data(task.source, task.sensor)
    except DataError as exc:
        return TrialOutcome(task, make_row(task, "failed", {}, 0.0, f"cannot load {task.source}: {exc}"))
    outcome = run_trial(task, data)
    assert outcome is not None  # no stop callback, so a trial always ends with a row
    return outcome


def init_worker(threads: int) -> None:
    """Process-pool initializer: Ctrl-C is the driver's to handle; a fixed torch thread count."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(threads)


def sensor_dict(options) -> dict | None:
    """SensorOptions -> a JSON-ready dict (or None)."""
    if options is None:
        return None
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(options).items()}
