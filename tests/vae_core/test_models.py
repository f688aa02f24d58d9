"""Every architecture speaks the same vocabulary and keeps the input's shape."""
from __future__ import annotations

import pytest
import torch

from vae_core.config import ConfigError, ModelConfig, TrainConfig, default_model_config, from_dict, to_dict
from vae_core.models import VAEOutput, build_model, count_parameters

CASES = [
    ("image", (1, 28, 28), "mlp"),
    ("image", (1, 28, 28), "conv"),
    ("image", (1, 15, 15), "conv"),  # odd size: transposed convs must restore 15 from 7 and 3
    ("image", (1, 64, 48), "conv"),
    ("sensor", (64, 6), "conv1d"),
    ("sensor", (100, 6), "conv1d"),
    ("sensor", (37, 1), "conv1d"),
    ("sensor", (100, 6), "gru"),
    ("sensor", (32, 9), "mlp"),
]


@pytest.mark.parametrize("kind,shape,arch", CASES)
def test_shapes_and_vocabulary(kind, shape, arch):
    cfg = default_model_config(kind, shape, arch=arch, latent_dim=5)
    model = build_model(cfg)
    x = torch.rand(3, *shape)
    out = model(x)
    assert isinstance(out, VAEOutput)
    assert out.recon.shape == x.shape
    assert out.mu.shape == out.logvar.shape == out.z.shape == (3, 5)
    mu, logvar = model.encode(x)
    assert model.decode(mu).shape == x.shape
    assert model.reparameterize(mu, logvar).shape == (3, 5)
    assert hasattr(model, "to_mu") and hasattr(model, "to_logvar")


def test_sizes_come_from_the_config():
    small = build_model(ModelConfig(hidden=(50,), latent_dim=2))
    big = build_model(ModelConfig(hidden=(400,), latent_dim=20))
    # 784-400-20 classic model: enc 784*400+400, mu/logvar 2*(400*20+20), dec 20*400+400 + 400*784+784
    assert count_parameters(big) == 784 * 400 + 400 + 2 * (400 * 20 + 20) + 20 * 400 + 400 + 400 * 784 + 784
    assert count_parameters(small) < count_parameters(big)


def test_reparameterization_samples_around_mu():
    model = build_model(ModelConfig(latent_dim=3))
    mu, logvar = torch.zeros(20000, 3), torch.full((20000, 3), 2 * torch.log(torch.tensor(0.5)))
    z = model.reparameterize(mu, logvar)
    assert z.mean().abs() < 0.02
    assert z.std().item() == pytest.approx(0.5, abs=0.02)


def test_image_means_are_squashed_for_continuous_losses():
    model = build_model(ModelConfig(loss="mse", latent_dim=2))
    out = model.decode(torch.randn(10, 2) * 10)
    assert out.min() >= 0 and out.max() <= 1
    # Bernoulli decoders return logits, which are unbounded
    logits = build_model(ModelConfig(loss="bce", latent_dim=2)).decode(torch.randn(100, 2) * 10)
    assert logits.min() < 0


def test_gradients_reach_every_parameter():
    model = build_model(default_model_config("sensor", (16, 2), arch="gru"))
    out = model(torch.randn(4, 16, 2))
    (out.recon.sum() + out.mu.sum() + out.logvar.sum()).backward()
    assert all(p.grad is not None for p in model.parameters())


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


def test_conv_refuses_images_too_small_for_its_layers():
    with pytest.raises(ConfigError, match="too small for 3 conv layers"):
        build_model(ModelConfig(arch="conv", input_shape=(1, 4, 4), hidden=(8, 8, 8)))


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
