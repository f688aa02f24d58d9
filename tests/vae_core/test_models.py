"""Every architecture speaks the same vocabulary and keeps the input's shape."""
from __future__ import annotations

import pytest
import torch

from vae_core.config import ConfigError, ModelConfig, default_model_config
from vae_core.family import build_model, skeleton
from vae_core.models import VAEOutput, count_parameters

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
    ("sensor", (40, 3), "argru"),
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


def test_conv_refuses_images_too_small_for_its_layers():
    with pytest.raises(ConfigError, match="too small for 3 conv layers"):
        build_model(ModelConfig(arch="conv", input_shape=(1, 4, 4), hidden=(8, 8, 8)))


def test_initial_weights_come_from_the_generator_given_and_never_from_the_global_one():
    cfg = default_model_config("image", (1, 28, 28), arch="conv")
    before = torch.random.get_rng_state()
    a = build_model(cfg, torch.Generator().manual_seed(3))
    torch.manual_seed(12345)  # whatever else happens to the global generator
    b = build_model(cfg, torch.Generator().manual_seed(3))
    c = build_model(cfg, torch.Generator().manual_seed(4))
    torch.random.set_rng_state(before)
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    assert not torch.equal(a.state_dict()["to_mu.weight"], c.state_dict()["to_mu.weight"])
    state = torch.random.get_rng_state()
    build_model(cfg, torch.Generator().manual_seed(3))
    assert torch.equal(state, torch.random.get_rng_state())  # building drew nothing from it


def test_noise_and_dropout_masks_come_from_the_models_generator():
    cfg = default_model_config("image", (1, 28, 28), hidden=(64,), dropout=0.5)
    x = torch.rand(8, 1, 28, 28)
    outs = []
    for global_seed in (1, 2):
        model = build_model(cfg, torch.Generator().manual_seed(0))
        model.use_rng(torch.Generator().manual_seed(9))
        torch.manual_seed(global_seed)  # a different global state each time: it must not matter
        outs.append(model(x))
    assert torch.equal(outs[0].z, outs[1].z) and torch.equal(outs[0].recon, outs[1].recon)
    model.use_rng(torch.Generator().manual_seed(10))
    assert not torch.equal(model(x).z, outs[0].z)
    model.eval()
    assert torch.equal(model.encoder(x), model.encoder(x))  # no dropout when evaluating



def test_a_model_too_large_to_save_and_load_again_is_refused_before_training():
    huge = default_model_config("image", (1, 28, 28), hidden=(4096, 4096, 4096, 4096))
    with pytest.raises(ConfigError, match=r"model of [\d,]+ weights, over the limit of 50,000,000"):
        build_model(huge)
    with pytest.raises(ConfigError, match="over the limit"):
        skeleton(huge)  # the Train page and sweeps check with the skeleton, allocating nothing


def test_a_hostile_value_gives_a_short_message():
    with pytest.raises(ConfigError) as err:
        ModelConfig(hidden=(1,) * 1_000_000)
    assert len(str(err.value)) < 300
