"""Saved runs reload to the same model; damaged or tampered files give clear errors, never unpickle."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
import torch
from safetensors.torch import save as save_tensors

from vae_core.checkpoint import (
    CheckpointError,
    Run,
    load_run,
    run_files,
    run_from_files,
    run_from_zip,
    run_to_zip,
    save_run,
)
from vae_core.config import ModelConfig, TrainConfig, default_model_config
from vae_core.runs import new_model
from vae_core.training import TrainEvent


def _run(cfg: ModelConfig | None = None) -> Run:
    model = new_model(cfg or ModelConfig(hidden=(32,), latent_dim=4), seed=3)
    events = [TrainEvent(kind="step", phase="train", epoch=1, step=1, total_steps=2, loss=10.0, recon=8.0, kl=2.0,
                         beta=1.0, lr=1e-3, samples_per_second=100.0, seconds=0.1),
              TrainEvent(kind="epoch", phase="train", epoch=1, step=2, total_steps=2, loss=9.0, recon=7.0, kl=2.0,
                         beta=1.0, lr=1e-3, samples_per_second=120.0, seconds=0.2, kl_per_dim=(0.5, 0.5, 1.0, 0.0)),
              TrainEvent(kind="end", phase="", epoch=1, step=2, total_steps=2, seconds=0.2, reason="finished",
                         message="trained 1 epochs")]
    return Run(model, TrainConfig(epochs=1, beta=2.0), {"name": "mnist", "kind": "image"}, events,
               {"test_neg_elbo": 123.4, "iwae_nll": float("nan")})


def _same_outputs(a, b, shape):
    x = torch.rand(5, *shape)
    a.eval(), b.eval()
    with torch.no_grad():
        torch.testing.assert_close(a.encode(x), b.encode(x), rtol=0, atol=0)
        z = torch.randn(5, a.cfg.latent_dim)
        torch.testing.assert_close(a.decode(z), b.decode(z), rtol=0, atol=0)


@pytest.mark.parametrize("cfg", [
    ModelConfig(hidden=(32,), latent_dim=4),
    default_model_config("image", (1, 28, 28), arch="conv", latent_dim=3),
    default_model_config("sensor", (64, 3), arch="gru", latent_dim=2),
])
def test_folder_round_trip_gives_identical_outputs(tmp_path, cfg):
    run = _run(cfg)
    save_run(run, tmp_path / "run")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["config.json", "metrics.csv", "model.safetensors",
                                                                    "summary.json"]
    back = load_run(tmp_path / "run")
    assert back.model_cfg == run.model_cfg
    assert back.train_cfg == run.train_cfg
    _same_outputs(run.model, back.model, cfg.input_shape)


def test_metrics_and_summary_round_trip():
    back = run_from_zip(run_to_zip(_run()))
    assert [(e.kind, e.phase, e.step) for e in back.events] == [("step", "train", 1), ("epoch", "train", 2),
                                                                 ("end", "", 2)]
    assert back.events[1].kl_per_dim == (0.5, 0.5, 1.0, 0.0)
    assert back.events[0].recon == 8.0
    assert back.summary == {"test_neg_elbo": 123.4, "iwae_nll": None}  # NaN is written as standard JSON null


def _tampered(change) -> dict:
    files = run_files(_run())
    change(files)
    return files


def _set_config(files, edit):
    config = json.loads(files["config.json"])
    edit(config)
    files["config.json"] = json.dumps(config).encode()


@pytest.mark.parametrize("change,message", [
    (lambda f: f.pop("model.safetensors"), "the run has no model.safetensors"),
    (lambda f: f.update({"config.json": b"{not json"}), "config.json is not valid JSON"),
    (lambda f: _set_config(f, lambda c: c.pop("format")), "not a VAE Explorer run config"),
    (lambda f: _set_config(f, lambda c: c.update(version=99)), "version 99"),
    (lambda f: _set_config(f, lambda c: c["model"].update(latent_dim=5)),
     r"to_mu.weight has shape \(4, 32\) but the config needs \(5, 32\)"),
    (lambda f: _set_config(f, lambda c: c["model"].update(arch="warp")), "arch must be one of"),
    (lambda f: _set_config(f, lambda c: c["model"].update(hidden=[4096, 4096, 4096], input_shape=[1, 512, 512])),
     "over the limit"),
    (lambda f: f.update({"model.safetensors": b"\x00" * 64}), "not a valid safetensors file"),
    (lambda f: f.update({"model.safetensors": save_tensors({"w": torch.zeros(2)})}),
     "does not match config.json: missing"),
])
def test_tampered_runs_are_refused_with_a_reason(change, message):
    with pytest.raises(CheckpointError, match=message):
        run_from_files(_tampered(change))


def test_nan_weights_are_refused():
    files = run_files(_run())
    run = _run()
    state = {k: v.clone() for k, v in run.model.state_dict().items()}
    state["to_mu.bias"][0] = float("nan")
    files["model.safetensors"] = save_tensors(state)
    with pytest.raises(CheckpointError, match="NaN or infinite values in to_mu.bias"):
        run_from_files(files)


def test_a_pickle_is_never_loaded(tmp_path):
    # a torch.save file (pickle inside) in place of the weights is refused, not executed
    buf = io.BytesIO()
    torch.save({"to_mu.weight": torch.zeros(1)}, buf)
    files = run_files(_run())
    files["model.safetensors"] = buf.getvalue()
    with pytest.raises(CheckpointError, match="not a valid safetensors file"):
        run_from_files(files)


def test_bad_zip_and_missing_folder(tmp_path):
    with pytest.raises(CheckpointError, match="not a readable zip"):
        run_from_zip(b"PK\x03\x04 broken")
    with pytest.raises(CheckpointError, match="no run folder"):
        load_run(tmp_path / "nowhere")


def test_zip_with_one_enclosing_folder_loads():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, blob in run_files(_run()).items():
            zf.writestr(f"my-run/{name}", blob)
    assert run_from_zip(buf.getvalue()).model_cfg.latent_dim == 4


def test_a_very_long_run_saves_evenly_spaced_steps_and_loads_again():
    from vae_core.checkpoint import SAVED_STEPS, events_from_csv, events_to_csv
    from vae_core.run_limits import check_metrics_csv

    n = 2 * SAVED_STEPS + 7
    steps = [TrainEvent("step", "train", 1 + i // 1000, i + 1, n, loss=float(i)) for i in range(n)]
    epochs = [TrainEvent("epoch", "train", e, 1000 * e, n, loss=1.0) for e in range(1, 5)]
    text = events_to_csv(steps[:3000] + epochs + steps[3000:])
    check_metrics_csv(text.encode())  # within the bound a saved run is loaded with
    back = events_from_csv(text)
    kept = [e.step for e in back if e.kind == "step"]
    assert len(kept) <= SAVED_STEPS and kept[0] == 1 and kept[-1] == n  # first and last kept, evenly between
    assert len(set(b - a for a, b in zip(kept[:-2], kept[1:-1], strict=True))) == 1
    assert sum(e.kind == "epoch" for e in back) == 4  # every epoch row stays
    short = events_to_csv(steps[:50])
    assert [e.step for e in events_from_csv(short)] == list(range(1, 51))
