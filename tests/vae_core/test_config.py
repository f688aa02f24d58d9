"""Model and training configs: every bad value explained in words, the JSON round trip, unknown keys refused.
(That every setting's declaration agrees with the CLI, sweeps, links and widgets: test_settings.py.)"""
from __future__ import annotations

import pytest

from vae_core.config import ConfigError, ModelConfig, TrainConfig, from_dict, to_dict


@pytest.mark.parametrize("kwargs,message", [
    (dict(arch="transformer"), "arch must be one of"),
    (dict(loss="hinge"), "loss must be one of"),
    (dict(latent_dim=0), "latent_dim must be a whole number from 1 to 512"),
    (dict(dropout=1.0), r"dropout must be in \[0, 1\)"),
    (dict(arch="conv", input_shape=(64, 6)), "conv architecture is for images"),
    (dict(arch="gru", input_shape=(1, 28, 28)), "gru architecture is for sensor windows"),
])
def test_model_config_explains_bad_values(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ModelConfig(**kwargs)


@pytest.mark.parametrize("kwargs,message", [
    (dict(epochs=0), "epochs must be a whole number"),
    (dict(lr=float("nan")), "lr must be a positive number"),
    (dict(beta=-1), "beta must be between 0 and 1000"),
    (dict(warmup="linear", warmup_epochs=0), "linear warm-up needs warmup_epochs > 0"),
    (dict(free_bits=-0.1), "free_bits must be between"),
    (dict(device="tpu"), "device must be auto, cpu"),
])
def test_train_config_explains_bad_values(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**kwargs)


def test_config_dict_round_trip_and_unknown_keys():
    cfg = ModelConfig(arch="conv", hidden=(16, 32), latent_dim=4)
    assert from_dict(ModelConfig, to_dict(cfg)) == cfg
    with pytest.raises(ConfigError, match="unknown ModelConfig setting"):
        from_dict(ModelConfig, {**to_dict(cfg), "layers": 3})
