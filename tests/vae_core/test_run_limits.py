"""Run limits: the weights counted without a model equal the built model's; real runs fit every bound."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
import torch
from filemakers import zip_bytes
from safetensors.torch import save as save_tensors

from vae_core import run_limits as L
from vae_core.checkpoint import Run, run_files, run_from_files
from vae_core.config import SETTINGS, ConfigError, ModelConfig, TrainConfig
from vae_core.dataset import Scaling
from vae_core.family import build_model
from vae_core.models import count_parameters
from vae_core.training import TrainEvent

CONFIGS = [
    ModelConfig(input_shape=(1, 28, 28), arch="mlp", hidden=(400,), latent_dim=20),
    ModelConfig(input_shape=(1, 28, 28), arch="mlp", hidden=(512, 256, 64), latent_dim=2, dropout=0.2),
    ModelConfig(input_shape=(100, 6), arch="mlp", hidden=(7,), latent_dim=3),
    ModelConfig(input_shape=(1, 28, 28), arch="conv", hidden=(32, 64), latent_dim=16),
    ModelConfig(input_shape=(3, 17, 9), arch="conv", hidden=(5, 6, 7), latent_dim=4),  # odd sizes: 17 -> 8 -> 4 -> 2
    ModelConfig(input_shape=(2, 64, 64), arch="conv", hidden=(8,), latent_dim=1),
    ModelConfig(input_shape=(64, 9), arch="conv1d", hidden=(32, 64), latent_dim=8),
    ModelConfig(input_shape=(101, 1), arch="conv1d", hidden=(3, 5, 7, 11), latent_dim=5),
    ModelConfig(input_shape=(100, 6), arch="gru", hidden=(64,), latent_dim=8),
    ModelConfig(input_shape=(30, 2), arch="gru", hidden=(13, 99), latent_dim=3),  # gru uses the first size only
    ModelConfig(input_shape=(64, 1), arch="argru", hidden=(64,), latent_dim=8),
    ModelConfig(input_shape=(30, 3), arch="argru", hidden=(13, 7, 5), latent_dim=2, decoder_input_dropout=0.5),
]


def _ids(cfg: ModelConfig) -> str:
    return f"{cfg.arch}-{'x'.join(map(str, cfg.input_shape))}-{'-'.join(map(str, cfg.hidden))}-z{cfg.latent_dim}"


@pytest.mark.parametrize("cfg", CONFIGS, ids=_ids)
def test_parameter_count_equals_the_built_models(cfg):
    counted = L.parameter_count(cfg.arch, cfg.input_shape, cfg.hidden, cfg.latent_dim)
    assert counted == count_parameters(build_model(cfg))
    assert L.check_model_size(cfg.arch, cfg.input_shape, cfg.hidden, cfg.latent_dim) == counted


@pytest.mark.parametrize("cfg", CONFIGS, ids=_ids)
def test_a_saved_run_fits_every_bound_of_its_own_files(cfg):
    events = [TrainEvent(kind="epoch", phase=p, epoch=e, step=e * 40, total_steps=4000, loss=100.0, recon=90.0, kl=10.0,
                         beta=1.0, lr=1e-3, samples_per_second=1e4, seconds=e, kl_per_dim=(0.5,) * cfg.latent_dim)
              for e in range(1, 101) for p in ("train", "val")]
    files = run_files(Run(build_model(cfg), TrainConfig(), {"name": "x"}, events, {"kl_per_dim": [0.5] * 512}))
    n = L.parameter_count(cfg.arch, cfg.input_shape, cfg.hidden, cfg.latent_dim)
    for name, blob in files.items():
        assert len(blob) <= L.file_limit(name, n), name
    assert len(L.check_safetensors_header(files["model.safetensors"])) == len(build_model(cfg).state_dict())
    L.check_metrics_csv(files["metrics.csv"])
    assert run_from_files(files).model_cfg == cfg


def test_a_sensor_run_on_30000_channels_fits_the_config_bound():
    # what the bound on config.json is sized for: every channel's name and its scaling, twice the names
    rng = np.random.default_rng(0)
    channels = [f"sensor_{i:05d}_acc" for i in range(30_000)]
    scaling = Scaling("zscore", rng.normal(size=30_000), rng.uniform(0.1, 5, size=30_000))
    cfg = ModelConfig(input_shape=(64, 30_000), arch="conv1d", hidden=(16,), latent_dim=8, loss="mse")
    info = {"name": "wide.csv", "kind": "sensor", "channels": channels, "scaling": scaling.to_dict(),
            "sensor": {"channels": channels, "window": 64, "stride": 8}}
    files = run_files(Run(build_model(cfg), TrainConfig(), info))
    assert len(files["config.json"]) <= L.MAX_CONFIG_BYTES
    assert run_from_files(files).data_info["channels"] == channels


def test_conv_layers_that_shrink_the_input_to_nothing_are_refused_as_the_model_would():
    with pytest.raises(ConfigError, match="image height of 28 is too small for 5 conv layers") as counted:
        L.parameter_count("conv", (1, 28, 28), (8,) * 5, 2)
    with pytest.raises(ConfigError) as built:
        build_model(ModelConfig(input_shape=(1, 28, 28), arch="conv", hidden=(8,) * 5, latent_dim=2))
    assert str(counted.value) == str(built.value)
    with pytest.raises(L.CheckpointError, match="config.json: image height of 28 is too small"):
        L.check_model_size("conv", (1, 28, 28), (8,) * 5, 2)


@pytest.mark.parametrize("settings, message", [
    (("mlp", (1, 10**9, 10**9), (16,), 2), "of 1,000,000,000,000,000,000 values, more than the limit of 200,000,000"),
    (("mlp", (1, 28, 28), (8192, 8192), 16), "a model with 147,[0-9,]+ weights, over the limit of 50,000,000"),
    (("conv", (1, 4096, 4096), (1,), 512), "over the limit of 50,000,000"),
])
def test_models_over_the_bounds_are_refused_without_being_built(settings, message):
    with pytest.raises(L.CheckpointError, match=message):
        L.check_model_size(*settings)


def test_layers_are_counted_in_the_raw_config_before_a_config_is_made():
    most = SETTINGS["hidden"].max_items  # the declaration's bound, not a second one
    L.check_model_dict({"hidden": [1] * most})
    L.check_model_dict("not a dict")  # from_dict says what is wrong with that
    with pytest.raises(L.CheckpointError, match=f"1,000,000 hidden layers, more than the limit of {most}$"):
        L.check_model_dict({"hidden": [1] * 10**6})


def _header(header: dict | bytes, declared: int | None = None, body: bytes = b"") -> bytes:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return (len(text) if declared is None else declared).to_bytes(8, "little") + text + body


@pytest.mark.parametrize("blob, message", [
    (b"\x01\x02", "shorter than its 8-byte header length"),
    (_header(b"{}", declared=L.MAX_SAFETENSORS_HEADER_BYTES + 1), "declares a header of 1,048,577 bytes"),
    (_header(b"{}", declared=100), "runs past the end of the file"),
    (_header(b"{not json"), "its header is not JSON"),
    (_header(b"[1, 2]"), "is not a JSON object"),
    (_header({f"t{i}": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]} for i in range(1001)}),
     "lists 1,001 tensors, more than the limit of 1,000"),
])
def test_safetensors_headers_are_read_within_bounds(blob, message):
    with pytest.raises(L.CheckpointError, match=message):
        L.check_safetensors_header(blob)


def test_a_real_safetensors_header_is_read_as_safetensors_writes_it():
    blob = save_tensors({"a": torch.zeros(2, 3), "b": torch.ones(4)}, metadata={"note": "x"})
    header = L.check_safetensors_header(blob)
    assert header["a"]["shape"] == [2, 3] and header["b"]["dtype"] == "F32" and "__metadata__" in header


@pytest.mark.parametrize("blob, message", [
    (b"x" * (L.MAX_METRICS_BYTES + 1), "metrics.csv is more than 24 MB"),
    (b"kind\n" + b"step\n" * (L.MAX_METRICS_ROWS + 1), "lines, more than the limit of 100,000 rows"),
    (b"kind,kl_per_dim\nepoch," + b"1;" * (L.MAX_METRICS_KL_VALUES + 1) + b"\n", "KL values, more than the limit"),
])
def test_metrics_are_counted_before_they_are_parsed(blob, message):
    with pytest.raises(L.CheckpointError, match=message):
        L.check_metrics_csv(blob)


def _zip(members: dict[str, bytes]) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(zip_bytes(members)))


def test_a_member_is_read_in_full_within_its_limit_and_refused_past_it():
    archive = _zip({"metrics.csv": b"a,b\n" * 1000})
    info = archive.getinfo("metrics.csv")
    assert L.read_member(archive, info, "metrics.csv", 4000) == b"a,b\n" * 1000
    with pytest.raises(L.CheckpointError, match="metrics.csv in the zip unpacks to more than 3,999 bytes"):
        L.read_member(archive, info, "metrics.csv", 3999)
    info.file_size = 10  # a member that declares less than it holds: zipfile stops there, and its CRC fails
    with pytest.raises(zipfile.BadZipFile, match="Bad CRC-32"):
        L.read_member(archive, info, "metrics.csv", 3999)


def test_a_zip_listing_more_members_than_a_run_holds_is_refused_before_it_is_opened():
    def entries(n: int) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for i in range(n):
                archive.writestr(f"x/{i}", b"")
        return buffer.getvalue()

    L.check_zip_entries(entries(L.MAX_ZIP_MEMBERS))
    with pytest.raises(L.CheckpointError, match="the zip lists more than 64 files"):
        L.check_zip_entries(entries(L.MAX_ZIP_MEMBERS + 1))


def test_a_run_stopped_mid_epoch_fits_its_bounds_with_its_training_state(mnist_small):
    from vae_core.config import configs_for
    from vae_core.runs import new_run, train_run

    model_cfg, train_cfg = configs_for("image", mnist_small.input_shape, {"hidden": (64, 32), "epochs": 3,
                                                                          "early_stopping": 2})
    run = new_run(mnist_small, model_cfg, train_cfg)
    for event in train_run(run):
        if event.kind == "step" and event.epoch == 2:
            break  # mid-epoch: the state holds Adam's moments, the best weights and the epoch's order
    files = run_files(run)
    assert "state.safetensors" in files
    n = L.parameter_count(model_cfg.arch, model_cfg.input_shape, model_cfg.hidden, model_cfg.latent_dim)
    for name, blob in files.items():
        assert len(blob) <= L.file_limit(name, n), name
    assert run_from_files(files).state is not None
