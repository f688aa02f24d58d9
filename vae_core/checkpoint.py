"""Saved runs: safetensors weights + JSON config + metrics CSV + JSON summary. Never pickle.

A run is four files (config.json, model.safetensors, metrics.csv, summary.json), plus state.safetensors
(optimiser moments, the run's generator states and counters) when it can be continued exactly, in a
folder for the CLI or in a zip for the dashboard's download and upload. Loading rebuilds the model from
the config and checks every tensor's name and shape before trusting it.
"""
from __future__ import annotations

import csv
import io
import json
import math
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from .config import ConfigError, ModelConfig, TrainConfig, from_dict, to_dict
from .family import skeleton
from .run import Run
from .run_limits import (
    MAX_FILE_BYTES,
    MAX_METRICS_ROWS,
    CheckpointError,
    check_metrics_csv,
    check_model_dict,
    check_model_size,
    check_safetensors_header,
    check_size,
    check_zip_entries,
    family_sizes,
    file_limit,
    read_member,
)
from .store_files import write_atomic
from .training import Change, TrainEvent, TrainState, check_change

FORMAT = "vae-explorer-run"
VERSION = 1
FILES = ("config.json", "model.safetensors", "metrics.csv", "summary.json", "state.safetensors")
REQUIRED = FILES[:2]
METRIC_FIELDS = ("kind", "phase", "epoch", "step", "loss", "recon", "kl", "beta", "lr", "samples_per_second",
                 "seconds", "kl_per_dim", "reason", "message", "value", "terms")


SAVED_STEPS = MAX_METRICS_ROWS * 9 // 10  # step rows a saved run keeps, so it always loads again (epochs: all)


def events_to_csv(events: list[TrainEvent], header: bool = True) -> str:
    """One CSV row per epoch and end event and per step; a very long run keeps SAVED_STEPS evenly spaced steps.

    `header` False leaves out the header row (for rows added to a file that has one).
    """
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=METRIC_FIELDS, lineterminator="\n")
    if header:
        writer.writeheader()
    n_steps = sum(ev.kind == "step" for ev in events)
    every = -(-n_steps // SAVED_STEPS)  # ceil: 1 keeps them all
    seen = 0
    for ev in events:
        if ev.kind == "step":
            seen += 1
            if (seen - 1) % every and seen != n_steps:
                continue
        row = {k: getattr(ev, k) for k in METRIC_FIELDS}
        row["kl_per_dim"] = ";".join(f"{v:.6g}" for v in ev.kl_per_dim)
        row["terms"] = " ".join(f"{name}={v:.6g}" for name, v in ev.terms)  # a variant's extra terms, 'adv_d=0.69'
        writer.writerow(row)
    return buf.getvalue()


def events_from_csv(text: str) -> list[TrainEvent]:
    """Parse metrics.csv back into TrainEvents."""
    events = []
    try:
        for row in csv.DictReader(io.StringIO(text)):
            kl_dim = tuple(float(v) for v in row["kl_per_dim"].split(";") if v) if row.get("kl_per_dim") else ()
            events.append(TrainEvent(
                kind=row["kind"], phase=row["phase"], epoch=int(row["epoch"]), step=int(row["step"]),
                total_steps=0,
                **{k: float(row[k]) for k in ("loss", "recon", "kl", "beta", "lr", "samples_per_second", "seconds")},
                kl_per_dim=kl_dim, reason=row.get("reason", ""), message=row.get("message", ""),
                value=float(row.get("value") or "nan"), terms=_terms(row.get("terms") or "")))
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"metrics.csv is not a VAE Explorer metrics file ({exc})") from None
    return events


def _terms(text: str) -> tuple[tuple[str, float], ...]:
    """'adv_d=0.69 adv_g=0.71' (metrics.csv's terms column) -> (('adv_d', 0.69), ('adv_g', 0.71))."""
    pairs = [part.split("=", 1) for part in text.split()]
    return tuple((name, float(value)) for name, value in pairs)


def _json_default(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _clean(obj):
    """NaN/inf -> None so the JSON is standard (browsers and jq reject NaN)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def to_json(obj) -> str:
    """Standard JSON (no NaN), numpy arrays as lists."""
    return json.dumps(_clean(json.loads(json.dumps(obj, default=_json_default))), indent=2)


def config_dict(run: Run) -> dict[str, Any]:
    """What config.json holds: format, version, model and train settings, live setting changes, data info, when the
    run was created."""
    config = {"format": FORMAT, "version": VERSION, "model": to_dict(run.model.cfg), "train": to_dict(run.train_cfg),
              "changes": [asdict(c) for c in run.changes], "data": run.data_info, "created": run.created}
    return {**config, "name": run.name} if run.name else config


def model_bytes(run: Run) -> bytes:
    """model.safetensors of a run: its weights, on the CPU."""
    return save_tensors(_cpu(run.model.state_dict()))


def run_files(run: Run) -> dict[str, bytes]:
    """The files of a run, as bytes (state.safetensors only when it has a training state)."""
    files = {"config.json": to_json(config_dict(run)).encode(), "model.safetensors": model_bytes(run),
             "metrics.csv": events_to_csv(run.events).encode(), "summary.json": to_json(run.summary).encode()}
    if run.state is not None:
        files["state.safetensors"] = state_bytes(run.state)
    return files


def _cpu(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in tensors.items()}


_COUNTERS = ("epoch", "step", "batch", "val_pending", "best_val", "epochs_since_best", "seconds", "first_loss",
             "announced")


def _optimizers(state: TrainState) -> dict[str, torch.optim.Optimizer]:
    """The state's optimisers by the prefix their tensors take: opt, and adv for an adversarial autoencoder's."""
    return {"opt": state.optimizer, **({"adv": state.adversary} if state.adversary is not None else {})}


def state_bytes(state: TrainState) -> bytes:
    """A training state as safetensors: optimiser moments, generator states, the epoch under way, counters."""
    tensors, meta = {}, {}
    for prefix, optimizer in _optimizers(state).items():
        opt = optimizer.state_dict()
        tensors.update({f"{prefix}.{i}.{k}": v for i, slots in opt["state"].items() for k, v in slots.items()
                        if isinstance(v, torch.Tensor)})  # SGD keeps None where a weight has no momentum yet
        meta["param_groups" if prefix == "opt" else f"{prefix}_param_groups"] = json.dumps(opt["param_groups"])
    tensors.update({f"rng.{k}": v for k, v in state.rng.state_dict().items()})
    if state.order is not None:
        tensors.update(order=state.order, sums=state.sums)
    if state.best_weights is not None:
        tensors.update({f"best.{k}": v for k, v in state.best_weights.items()})
    counters = {k: getattr(state, k) for k in _COUNTERS}
    meta["counters"] = json.dumps(_clean(counters))
    return save_tensors(_cpu(tensors), metadata=meta)


def load_state(blob: bytes, model, train_cfg: TrainConfig) -> TrainState:
    """Rebuild a training state for `model` from state_bytes; CheckpointError when it does not fit the model."""
    try:
        tensors = load_tensors(blob)
        meta = json.loads(_metadata(blob).get("counters", "{}"))
        header = _metadata(blob)
        groups = {prefix: json.loads(header.get("param_groups" if prefix == "opt" else f"{prefix}_param_groups", "[]"))
                  for prefix in ("opt", "adv")}
    except (SafetensorError, ValueError, RuntimeError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"state.safetensors is not a valid training state ({exc})") from None
    state = TrainState(model, train_cfg)
    optimizers = _optimizers(state)
    slots: dict[str, dict[int, dict[str, torch.Tensor]]] = {prefix: {} for prefix in optimizers}
    for key, value in tensors.items():
        prefix = key.split(".", 1)[0]
        if prefix in ("opt", "adv"):
            _, index, name = key.split(".", 2)
            params = [p for group in optimizers[prefix].param_groups for p in group["params"]] \
                if prefix in optimizers else []
            if not index.isdigit() or int(index) >= len(params) or (
                    name != "step" and tuple(value.shape) != tuple(params[int(index)].shape)):
                raise CheckpointError(f"state.safetensors does not match the model: {key} {tuple(value.shape)}")
            slots[prefix].setdefault(int(index), {})[name] = value
    try:
        for prefix, optimizer in optimizers.items():
            optimizer.load_state_dict({"state": slots[prefix], "param_groups": groups[prefix]})
        state.rng.load_state_dict({"data": tensors["rng.data"], "noise": tensors["rng.noise"]})
    except (KeyError, ValueError, RuntimeError, TypeError) as exc:
        raise CheckpointError(f"state.safetensors does not fit this model "
                              f"({type(exc).__name__}: {str(exc)[:120]})") from None
    if "order" in tensors:
        state.order, state.sums = tensors["order"].to(torch.int64), tensors["sums"]
    best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
    state.best_weights = best or None
    for k in _COUNTERS:
        if meta.get(k) is not None:
            setattr(state, k, float(meta[k]) if k == "first_loss" else type(getattr(state, k))(meta[k]))
    return state


def _metadata(blob: bytes) -> dict[str, str]:
    """The __metadata__ of a safetensors blob (its JSON header, read without loading tensors)."""
    size = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + size])
    return header.get("__metadata__") or {}


def save_run(run: Run, out_dir: str | Path) -> Path:
    """Write the run's files into out_dir (created if needed)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, blob in run_files(run).items():
        write_atomic(out / name, blob)  # a crash mid-save leaves each file whole, old or new
    return out


def run_to_zip(run: Run) -> bytes:
    """The run's files in one zip (for a download)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, blob in run_files(run).items():
            zf.writestr(name, blob)
    return buf.getvalue()


def _parse_json(blob: bytes, name: str) -> Any:
    try:
        return json.loads(blob.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{name} is not valid JSON ({exc})") from None


def _model_from_config(config: Any) -> tuple[ModelConfig, TrainConfig]:
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError("config.json is not a VAE Explorer run config (no 'format': 'vae-explorer-run')")
    if config.get("version") != VERSION:
        raise CheckpointError(f"config.json has version {config.get('version')!r}; "
                              f"this VAE Explorer reads version {VERSION}")
    try:
        return from_dict(ModelConfig, config.get("model")), from_dict(TrainConfig, config.get("train"))
    except ConfigError as exc:
        raise CheckpointError(f"config.json: {exc}") from None
    except (TypeError, ValueError, AttributeError, OverflowError) as exc:  # e.g. null where a name belongs
        raise CheckpointError(f"config.json holds a setting of the wrong type ({type(exc).__name__}: "
                              f"{str(exc)[:200]}): save the run again") from None


def _checked_config(blob: bytes) -> tuple[dict, ModelConfig, TrainConfig, int]:
    """config.json parsed and held to the run limits: (config, model settings, train settings, weights)."""
    check_size("config.json", len(blob), file_limit("config.json"))
    config = _parse_json(blob, "config.json")
    check_model_dict(config.get("model") if isinstance(config, dict) else None)
    model_cfg, train_cfg = _model_from_config(config)
    return config, model_cfg, train_cfg, check_model_size(model_cfg.arch, model_cfg.input_shape, model_cfg.hidden,
                                                          model_cfg.latent_dim, **family_sizes(model_cfg))


def run_from_files(files: dict[str, bytes]) -> Run:
    """Rebuild a run from its files; every name, shape and value is checked, nothing is unpickled."""
    try:
        return _run_from_files(files)
    except CheckpointError:
        raise
    except MemoryError:
        raise CheckpointError("not enough memory to load the run") from None
    except Exception as exc:  # noqa: BLE001 - last line of defence: callers only ever catch CheckpointError
        raise CheckpointError(f"the run could not be read ({type(exc).__name__}: {str(exc)[:200]}): "
                              "save or download it again") from None


def _run_from_files(files: dict[str, bytes]) -> Run:
    for name in REQUIRED:
        if name not in files:
            raise CheckpointError(f"the run has no {name}; a saved run holds {', '.join(FILES)}")
    config, model_cfg, train_cfg, n_params = _checked_config(files["config.json"])
    for name, blob in files.items():
        check_size(name, len(blob), file_limit(name, n_params))
    for name in ("model.safetensors", "state.safetensors"):
        if name in files:
            check_safetensors_header(files[name], name)
    layers = skeleton(model_cfg)  # the expected names and shapes, nothing allocated (the model is within bounds)
    try:
        tensors = load_tensors(files["model.safetensors"])
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"model.safetensors is not a valid safetensors file ({exc})") from None
    expected = {k: tuple(v.shape) for k, v in layers.state_dict().items()}
    missing, extra = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    if missing or extra:
        raise CheckpointError(f"model.safetensors does not match config.json: "
                              f"missing {missing[:3]}, unexpected {extra[:3]}")
    for key, shape in expected.items():
        if tuple(tensors[key].shape) != shape:
            raise CheckpointError(f"model.safetensors does not match config.json: {key} has shape "
                                  f"{tuple(tensors[key].shape)} but the config needs {shape}")
        if tensors[key].is_floating_point() and not torch.isfinite(tensors[key]).all():
            raise CheckpointError(f"model.safetensors holds NaN or infinite values in {key}")
    model = layers  # the loaded tensors become its weights (assign): no second copy, no random init to overwrite
    model.load_state_dict({k: v.to(torch.float32) if v.is_floating_point() else v for k, v in tensors.items()},
                          assign=True)
    model.eval()
    events = []
    if "metrics.csv" in files:
        check_metrics_csv(files["metrics.csv"])
        events = events_from_csv(files["metrics.csv"].decode("utf-8", "replace"))
    summary = _parse_json(files["summary.json"], "summary.json") if "summary.json" in files else {}
    summary = summary if isinstance(summary, dict) else {}
    data = config.get("data") if isinstance(config.get("data"), dict) else {}
    changes = _changes(config.get("changes", []))
    state = load_state(files["state.safetensors"], model, train_cfg) if "state.safetensors" in files else None
    if state is not None:
        state.changes = list(changes)
    status = summary.get("stop_reason") if summary.get("stop_reason") in _ENDED else "finished"
    name = config.get("name") if isinstance(config.get("name"), str) else ""
    return Run(model, train_cfg, data, events, summary, status=status, message=str(summary.get("stop_message", "")),
               state=state, saved_changes=changes, name=name[:200])


def _changes(raw: Any) -> list[Change]:
    """The live setting changes config.json records, each checked like one made in the app."""
    if not isinstance(raw, list):
        raise CheckpointError("config.json: 'changes' must be a list of {step, name, value}")
    out = []
    for item in raw:
        try:
            step, name, value = int(item["step"]), str(item["name"]), item["value"]
            if step < 1:
                raise ValueError("a step counts from 1")
            out.append(Change(step, name, check_change(name, value)))
        except (KeyError, TypeError, ValueError) as exc:  # ConfigError is a ValueError
            raise CheckpointError(f"config.json: a recorded change is not valid ({str(exc)[:120]})") from None
    return out


_ENDED = ("finished", "early_stopped", "stopped", "diverged")


def load_run(path: str | Path) -> Run:
    """Load a run folder (or a run zip) written by save_run / run_to_zip."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"no run folder at {path}; pass the folder given to 'train --out'")
    try:
        return _load_run(path)
    except CheckpointError as exc:
        raise CheckpointError(f"the saved run {path}: {exc}") from None  # which run, when a script loads many


def _load_run(path: Path) -> Run:
    if path.is_file():
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CheckpointError(f"the file is larger than {MAX_FILE_BYTES // 2**20} MB")
        return run_from_zip(path.read_bytes())
    if not path.is_dir():
        raise CheckpointError("it is neither a folder nor a zip: pass the folder given to 'train --out'")

    def read(name: str, limit: int) -> bytes:
        check_size(name, (path / name).stat().st_size, limit)
        with open(path / name, "rb") as f:
            blob = f.read(limit + 1)
        check_size(name, len(blob), limit)
        return blob

    return run_from_files(_read_files({name for name in FILES if (path / name).is_file()}, read))


def _read_files(present: set[str], read: Callable[[str, int], bytes]) -> dict[str, bytes]:
    """The run's files, each read within its bound; config.json first, as its model bounds the weights."""
    files: dict[str, bytes] = {}
    weights = None
    for name in (n for n in FILES if n in present):  # config.json comes first in FILES
        if name != "config.json" and weights is None and "config.json" in files:
            weights = _checked_config(files["config.json"])[3]
        files[name] = read(name, file_limit(name, weights))
    return files


def run_from_zip(blob: bytes) -> Run:
    """Load a run from a zip made by run_to_zip (members are read by name, never extracted)."""
    check_zip_entries(blob)
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as zf:
            members = {info.filename.rsplit("/", 1)[-1]: info for info in zf.infolist()}  # allow one enclosing folder
            files = _read_files(set(members) & set(FILES),
                                lambda name, limit: read_member(zf, members[name], name, limit))
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, zlib.error, NotImplementedError,
            RuntimeError) as exc:  # RuntimeError: encrypted; ValueError: e.g. a negative offset in a broken header
        raise CheckpointError(f"the file is not a readable zip of a saved run ({exc})") from None
    return run_from_files(files)
