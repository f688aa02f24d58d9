"""The objective's terms against independent references (torch.distributions, torch.nn.functional)."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import ContinuousBernoulli, Laplace, Normal, kl_divergence

from vae_core.losses import (
    cb_log_norm,
    cb_mean,
    kl_per_dim,
    kl_weight,
    log_importance_weights,
    recon_nll,
    reconstruction_mean,
    vae_loss,
)


@pytest.fixture()
def gen():
    return torch.Generator().manual_seed(0)


def test_kl_matches_torch_distributions(gen):
    mu = torch.randn(32, 8, generator=gen) * 2
    logvar = torch.randn(32, 8, generator=gen)
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0))
    torch.testing.assert_close(kl_per_dim(mu, logvar), expected, rtol=1e-5, atol=1e-6)


def test_kl_is_zero_only_at_the_prior():
    assert kl_per_dim(torch.zeros(1, 3), torch.zeros(1, 3)).abs().max() < 1e-7
    assert (kl_per_dim(torch.full((1, 3), 0.1), torch.zeros(1, 3)) > 0).all()


def test_bce_matches_torch(gen):
    logits = torch.randn(16, 1, 5, 5, generator=gen) * 3
    x = torch.rand(16, 1, 5, 5, generator=gen)
    expected = F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="none").flatten(1).sum(1)
    torch.testing.assert_close(recon_nll(logits, x, "bce"), expected, rtol=1e-4, atol=1e-4)


def test_continuous_bernoulli_normaliser_matches_closed_form():
    lam = torch.tensor([1e-4, 0.01, 0.2, 0.4, 0.499, 0.501, 0.6, 0.9, 0.99, 0.9999], dtype=torch.float64)
    closed = torch.log(2 * torch.atanh(1 - 2 * lam) / (1 - 2 * lam))
    torch.testing.assert_close(cb_log_norm(torch.logit(lam)), closed, rtol=1e-6, atol=1e-6)
    # at lambda = 1/2 the normaliser's limit is 2
    assert cb_log_norm(torch.zeros(1, dtype=torch.float64)).item() == pytest.approx(math.log(2.0))


def test_continuous_bernoulli_nll_and_mean_match_torch(gen):
    logits = torch.randn(8, 20, generator=gen) * 4
    x = torch.rand(8, 20, generator=gen)
    dist = ContinuousBernoulli(logits=logits)
    torch.testing.assert_close(recon_nll(logits, x, "cbce"), -dist.log_prob(x).sum(1), rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(cb_mean(logits), dist.mean, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(reconstruction_mean(logits, "cbce"), dist.mean, rtol=1e-4, atol=1e-4)


def test_gaussian_and_laplace_are_nlls_up_to_their_constants(gen):
    mean = torch.randn(4, 10, generator=gen)
    x = torch.randn(4, 10, generator=gen)
    gauss = -Normal(mean, math.sqrt(0.5)).log_prob(x).sum(1) - 10 * 0.5 * math.log(math.pi)
    torch.testing.assert_close(recon_nll(mean, x, "mse"), gauss, rtol=1e-5, atol=1e-4)
    laplace = -Laplace(mean, 1.0).log_prob(x).sum(1) - 10 * math.log(2.0)
    torch.testing.assert_close(recon_nll(mean, x, "mae"), laplace, rtol=1e-5, atol=1e-4)
    huber = F.huber_loss(mean, x, reduction="none", delta=0.5).sum(1)
    torch.testing.assert_close(recon_nll(mean, x, "huber", huber_delta=0.5), huber)


def test_unknown_loss_is_refused():
    with pytest.raises(ValueError, match="unknown loss"):
        recon_nll(torch.zeros(1, 2), torch.zeros(1, 2), "hinge")


def test_vae_loss_reduction_is_sum_over_dims_mean_over_batch(gen):
    logits = torch.randn(10, 6, generator=gen)
    x = torch.rand(10, 6, generator=gen)
    mu, logvar = torch.randn(10, 3, generator=gen), torch.randn(10, 3, generator=gen)
    terms = vae_loss(logits, x, mu, logvar, loss="bce", beta=4.0)
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / 10
    kl = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum() / 10
    torch.testing.assert_close(terms.recon, recon)
    torch.testing.assert_close(terms.kl, kl)
    torch.testing.assert_close(terms.total, recon + 4.0 * kl)
    torch.testing.assert_close(terms.kl_per_dim.sum(), kl)


def test_free_bits_only_change_the_penalty_below_the_floor():
    mu = torch.tensor([[2.0, 0.01]], requires_grad=True)  # dim 0 well above 0.5 nats, dim 1 far below
    logvar = torch.zeros(1, 2)
    x = torch.full((1, 4), 0.5)
    logits = torch.zeros(1, 4)
    terms = vae_loss(logits, x, mu, logvar, loss="bce", free_bits=0.5)
    kl = kl_per_dim(mu, logvar)[0]
    torch.testing.assert_close(terms.total, terms.recon + kl[0] + 0.5)
    torch.testing.assert_close(terms.kl, kl.sum())  # the reported KL is the true one
    terms.total.backward()
    assert mu.grad[0, 1] == 0  # below the floor: no pressure towards the prior
    assert mu.grad[0, 0] != 0


def test_kl_warmup_schedules():
    assert kl_weight(3.0, 2.0) == 2.0
    assert [kl_weight(t, 2.0, "linear", 4.0) for t in (0, 1, 2, 4, 10)] == [0.0, 0.5, 1.0, 2.0, 2.0]
    # cyclical: ramp over the first half of each 4-epoch cycle, hold beta, then start again
    assert [kl_weight(t, 1.0, "cyclical", 4.0) for t in (0, 1, 2, 3, 4, 5)] == [0.0, 0.5, 1.0, 1.0, 0.0, 0.5]


def test_importance_weight_is_a_single_sample_elbo(gen):
    """Burda et al. 2016: with k = 1 the IWAE bound is the ELBO (here: the same sample, by hand)."""
    logits = torch.randn(5, 12, generator=gen)
    x = torch.rand(5, 12, generator=gen).round()
    mu, logvar = torch.randn(5, 3, generator=gen), torch.randn(5, 3, generator=gen)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(5, 3, generator=gen)
    log_w = log_importance_weights(logits, x, z, mu, logvar, loss="bce")
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(0.0, 1.0)
    elbo_sample = -recon_nll(logits, x, "bce") + p.log_prob(z).sum(1) - q.log_prob(z).sum(1)
    torch.testing.assert_close(log_w, elbo_sample, rtol=1e-5, atol=1e-4)
