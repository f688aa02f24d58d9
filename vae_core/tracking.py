"""MLflow logging of a saved run folder: settings as params, per-epoch metrics, the summary, the files.

    tracking.check(uri)                       # before training: mlflow installed, the server answers
    tracking.log_run(uri, run_folder)         # after the run is saved: one MLflow run, returns its id

It reads the run folder (config.json, metrics.csv, summary.json), never the live objects, so the CLI, a
sweep's driver and the dashboard log the same things, and what MLflow shows is what the folder holds.
Needs `pip install 'vae-explorer[mlflow]'` (the mlflow-skinny client; a full mlflow works as well).
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from .checkpoint import events_from_csv
from .settings import format_value

EXPERIMENT = "vae-explorer"
EPOCH_METRICS = ("loss", "recon", "kl", "beta")  # logged per epoch as train_<name> and val_<name>, step = epoch
SUMMARY_NAMES = {"recon": "test_recon", "kl": "test_kl"}  # the summary's recon and KL are on the test part
MLFLOW_STATUS = {"finished": "FINISHED", "early_stopped": "FINISHED", "stopped": "KILLED", "diverged": "FAILED"}
_BATCH = 500  # metrics per log_batch call (MLflow takes at most 1000 entities per call)


class TrackingError(RuntimeError):
    """MLflow is missing or refused the run; the message says what to do."""


def _client(uri: str):
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise TrackingError("--mlflow needs the mlflow client: pip install 'vae-explorer[mlflow]'") from None
    return MlflowClient(tracking_uri=uri)


def _experiment_id(client, name: str) -> str:
    experiment = client.get_experiment_by_name(name)
    return experiment.experiment_id if experiment is not None else client.create_experiment(name)


def check(uri: str, experiment: str = EXPERIMENT) -> None:
    """Fail early (TrackingError) when runs cannot be logged to `uri`: no mlflow package, no answer, refused."""
    try:
        _experiment_id(_client(uri), experiment)
    except TrackingError:
        raise
    except Exception as exc:  # noqa: BLE001 - mlflow raises many types (MlflowException, requests, OSError)
        raise TrackingError(f"cannot log to MLflow at {uri}: {_first_line(exc)}") from None


def log_run(uri: str, folder: str | Path, experiment: str = EXPERIMENT, run_name: str | None = None,
            tags: dict[str, str] | None = None) -> str:
    """Log a saved run folder to MLflow at `uri` as one MLflow run; returns its run id."""
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise TrackingError(f"{folder} is not a saved run folder (it has no config.json)")
    config = json.loads((folder / "config.json").read_text())
    summary = json.loads((folder / "summary.json").read_text()) if (folder / "summary.json").exists() else {}
    metrics = epoch_metrics(folder)
    try:
        from mlflow.entities import Metric, Param, RunTag

        client = _client(uri)
        data = config.get("data") or {}
        run = client.create_run(_experiment_id(client, experiment), run_name=run_name or folder.name,
                                tags={"vae_explorer.run_folder": str(folder.resolve()),
                                      "vae_explorer.data": str(data.get("name", "")), **(tags or {})})
        run_id = run.info.run_id
        params = [Param(k, v) for k, v in params_of(config).items()]
        now = int(time.time() * 1000)
        entries = [Metric(name, value, now, step) for name, points in metrics.items() for step, value in points]
        entries += [Metric(name, value, now, 0) for name, value in summary_metrics(summary).items()]
        status = str(summary.get("stop_reason", "unfinished"))
        client.log_batch(run_id, params=params, tags=[RunTag("vae_explorer.status", status)])  # ~30 of 100 allowed
        for i in range(0, len(entries), _BATCH):
            client.log_batch(run_id, metrics=entries[i:i + _BATCH])
        client.log_artifacts(run_id, str(folder))
        client.set_terminated(run_id, MLFLOW_STATUS.get(status, "FINISHED"))
    except TrackingError:
        raise
    except Exception as exc:  # noqa: BLE001 - as in check(): say it in one line, the run folder is kept
        raise TrackingError(f"could not log {folder} to MLflow at {uri}: {_first_line(exc)}") from None
    return run_id


def params_of(config: dict[str, Any]) -> dict[str, str]:
    """Every model and train setting of config.json, plus the data's name and source, as MLflow params."""
    data = config.get("data") or {}
    params = {k: format_value(v) for part in ("model", "train") for k, v in (config.get(part) or {}).items()}
    params.update(data=str(data.get("name", "")), source=str(data.get("source") or data.get("name", "")))
    return params


def epoch_metrics(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """train_/val_ loss, recon, KL and β per epoch from metrics.csv: name -> [(epoch, value), ...]."""
    events = events_from_csv((folder / "metrics.csv").read_text()) if (folder / "metrics.csv").exists() else []
    out: dict[str, list[tuple[int, float]]] = {}
    for ev in events:
        if ev.kind != "epoch":
            continue
        for name in EPOCH_METRICS:
            value = getattr(ev, name)
            if math.isfinite(value):
                out.setdefault(f"{ev.phase}_{name}", []).append((ev.epoch, value))
    return out


def summary_metrics(summary: dict[str, Any]) -> dict[str, float]:
    """The summary's numbers (test neg. ELBO, active units, IWAE NLL, anomaly AUC, epochs, seconds...)."""
    return {SUMMARY_NAMES.get(k, k): float(v) for k, v in summary.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}


def _first_line(exc: Exception) -> str:
    if "MLFLOW_ALLOW_FILE_STORE" in str(exc):  # mlflow 3.7+ refuses new folder stores unless asked
        return ("this mlflow keeps folder stores (./mlruns, file://) for old users only: set "
                "MLFLOW_ALLOW_FILE_STORE=true, or give an MLflow server (http://HOST:5000) or sqlite:///mlflow.db "
                "(needs pip install mlflow)")
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]
