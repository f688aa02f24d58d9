"""The VAE family's maths against oracles: the hierarchical VAE's KL splits into two non-negative layers that add up
to the total (torch.distributions as the oracle), the IWAE objective is the ELBO at k = 1 and no looser above it
(Burda et al. 2016), every variant keeps the one vocabulary and the input's shape."""
from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from vae_core.config import configs_for
from vae_core.family import build_model
from vae_core.losses import kl_per_dim, recon_nll, vae_loss
from vae_core.models import VAEOutput
from vae_core.objectives import iwae_bound, log_weights, step_terms, term_names

IMAGE = ("image", (1, 28, 28))
VARIANTS = [("vae", False), ("vae", True), ("hierarchical", False), ("hierarchical", True), ("adversarial", False),
            ("adversarial", True)]


def model_of(variant: str = "vae", conditional: bool = False, arch: str = "mlp", kind_shape=IMAGE, **given):
    kind, shape = kind_shape
    cfg, _ = configs_for(kind, shape, {"variant": variant, "conditional": conditional, "arch": arch,
                                       "latent_dim": 6, "top_latent_dim": 3, "hidden": (32,) if arch != "conv" else
                                       (8, 16), **given}, classes=4)
    return build_model(cfg, torch.Generator().manual_seed(3))


@pytest.mark.parametrize("variant, conditional", VARIANTS)
@pytest.mark.parametrize("arch, kind_shape", [("mlp", IMAGE), ("conv", IMAGE), ("conv1d", ("sensor", (32, 3))),
                                              ("gru", ("sensor", (32, 3)))])
def test_every_variant_speaks_the_vocabulary(variant, conditional, arch, kind_shape):
    model = model_of(variant, conditional, arch, kind_shape)
    x = torch.rand(5, *kind_shape[1])
    y = torch.tensor([0, 1, 2, 3, 0]) if conditional else None
    out = model(x, y=y)
    d = model.cfg.code_dim
    assert isinstance(out, VAEOutput) and out.recon.shape == x.shape
    assert out.mu.shape == out.logvar.shape == out.z.shape == (5, d)
    mu, logvar = model.encode(x, y)
    assert mu.shape == (5, d) and model.decode(mu, y).shape == x.shape
    assert model.reparameterize(mu, logvar).shape == (5, d)
    assert model.prior_code(torch.randn(5, d)).shape == (5, d)
    if conditional:  # the label is an input: another label, another reconstruction
        assert not torch.equal(model.decode(mu, y), model.decode(mu, (y + 1) % 4))
        with pytest.raises(ValueError, match="needs the label of each input"):
            model.encode(x)


def test_the_two_layer_kl_splits_into_two_non_negative_parts_that_add_up_to_the_total():
    model = model_of("hierarchical")
    x = (torch.rand(64, 1, 28, 28) > 0.5).float()
    out = model(x, torch.Generator().manual_seed(1))
    d1 = model.cfg.latent_dim
    terms = vae_loss(out.recon, x, out.mu, out.logvar, loss="bce", prior_mu=out.prior_mu,
                     prior_logvar=out.prior_logvar)
    per_dim = kl_per_dim(out.mu, out.logvar, out.prior_mu, out.prior_logvar)  # (B, D1 + D2)
    q, p = Normal(out.mu, torch.exp(0.5 * out.logvar)), Normal(out.prior_mu, torch.exp(0.5 * out.prior_logvar))
    torch.testing.assert_close(per_dim, kl_divergence(q, p), rtol=1e-5, atol=1e-5)  # each dimension, closed form
    bottom, top = per_dim[:, :d1].sum(1), per_dim[:, d1:].sum(1)
    assert (per_dim >= 0).all() and (bottom > 0).all() and (top > 0).all()
    # top: KL(q(z2|x) || N(0, I)); bottom: KL(q(z1|x, z2) || p(z1|z2)) at the z2 drawn
    torch.testing.assert_close(top, kl_divergence(Normal(out.mu[:, d1:], torch.exp(0.5 * out.logvar[:, d1:])),
                                                  Normal(0.0, 1.0)).sum(1))
    torch.testing.assert_close(bottom.mean() + top.mean(), terms.kl)
    parts = step_terms(model, x, loss="bce", rng=torch.Generator().manual_seed(1)).extra
    assert list(parts) == ["kl_z1", "kl_z2"] == list(term_names(model.cfg, "elbo"))
    torch.testing.assert_close(parts["kl_z1"] + parts["kl_z2"], terms.kl)
    torch.testing.assert_close(parts["kl_z1"], bottom.mean())


def test_the_hierarchical_prior_draws_z2_then_z1_given_z2():
    model = model_of("hierarchical")
    eps = torch.randn(7, model.cfg.code_dim, generator=torch.Generator().manual_seed(2))
    z = model.prior_code(eps)
    d1 = model.cfg.latent_dim
    torch.testing.assert_close(z[:, d1:], eps[:, d1:])
    mu1, logvar1 = model.prior_z1(eps[:, d1:])
    torch.testing.assert_close(z[:, :d1], mu1 + eps[:, :d1] * torch.exp(0.5 * logvar1))
    torch.testing.assert_close(model.from_top(z)[:, :d1], mu1)


@pytest.mark.parametrize("variant", ["vae", "hierarchical"])
def test_iwae_with_one_sample_is_the_elbo_of_that_sample(variant):
    """k = 1: -log w of the one draw, which is the ELBO's single-sample estimate, to float precision."""
    model = model_of(variant)
    x = (torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    terms = step_terms(model, x, loss="bce", objective="iwae", k=1, rng=torch.Generator().manual_seed(5))
    out = model(x, torch.Generator().manual_seed(5))  # the same draw
    prior = Normal(0.0, 1.0) if out.prior_mu is None else Normal(out.prior_mu, torch.exp(0.5 * out.prior_logvar))
    elbo = -recon_nll(out.recon, x, "bce") + prior.log_prob(out.z).sum(1) - \
        Normal(out.mu, torch.exp(0.5 * out.logvar)).log_prob(out.z).sum(1)
    torch.testing.assert_close(terms.total, -elbo.mean(), rtol=1e-6, atol=1e-4)
    torch.testing.assert_close(terms.extra["neg_elbo"], terms.recon + terms.kl)  # analytic KL beside it


def test_iwae_with_one_sample_averages_to_the_analytic_elbo():
    """Over many draws the k = 1 bound's mean is the ELBO computed with the closed-form KL (within 4 std. errors)."""
    model = model_of()
    x = (torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    with torch.no_grad():
        log_w = log_weights(model, x, None, 4000, "bce", 1.0, torch.Generator().manual_seed(7))[0]  # (4000, 8)
        out = model(x, torch.Generator().manual_seed(8))
        mu, logvar = model.encode(x)
        draws = model.reparameterize(mu.repeat(4000, 1), logvar.repeat(4000, 1), torch.Generator().manual_seed(9))
        recon = recon_nll(model.decode(draws), x.repeat(4000, 1, 1, 1), "bce").reshape(4000, 8).mean(0)
    analytic = -(recon + kl_per_dim(out.mu, out.logvar).sum(1))
    se = log_w.std(0) / math.sqrt(4000)
    assert ((log_w.mean(0) - analytic).abs() < 4 * se + 0.05).all(), (log_w.mean(0), analytic)


@pytest.mark.parametrize("variant", ["vae", "hierarchical"])
def test_more_importance_samples_give_a_bound_no_looser(variant):
    """Jensen, draw by draw: log of the mean weight >= mean of the log weights of the same k draws; and on average
    the k = 64 bound is above the k = 1 bound."""
    model = model_of(variant)
    x = (torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    with torch.no_grad():
        log_w = log_weights(model, x, None, 64, "bce", 1.0, torch.Generator().manual_seed(4))[0]
        assert (iwae_bound(log_w) >= log_w.mean(0) - 1e-4).all()
        for k in (2, 5, 64):
            assert (iwae_bound(log_w[:k]) >= log_w[:k].mean(0) - 1e-4).all()
        k64 = iwae_bound(log_w).mean()
        k1 = log_w.mean()  # 64 single-draw bounds, averaged
        assert k64 > k1 + 1.0, (k64, k1)
