"""Prior against aggregate posterior: q(z) against an oracle, the 2-D view's holes on codes made to have them,
and on a real run, draws from a mixture fitted to the codes land where the codes are, unlike prior draws."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vae_core import prior_geometry as G
from vae_core.config import configs_for
from vae_core.runs import new_run, train_run


def test_log_aggregate_equals_a_mixture_of_the_posteriors():
    rng = np.random.default_rng(0)
    mu, logvar = rng.normal(size=(40, 3)), rng.normal(-1, 0.5, size=(40, 3))
    z = rng.normal(size=(25, 3))
    components = torch.distributions.Independent(
        torch.distributions.Normal(torch.tensor(mu), torch.tensor(np.exp(0.5 * logvar))), 1)
    oracle = torch.distributions.MixtureSameFamily(torch.distributions.Categorical(torch.ones(40)), components)
    assert G.log_aggregate(z, mu, logvar, batch=7) == pytest.approx(oracle.log_prob(torch.tensor(z)).numpy(), abs=1e-6)
    standard = torch.distributions.Normal(0.0, 1.0)
    assert G.log_prior(z) == pytest.approx(standard.log_prob(torch.tensor(z)).sum(1).numpy())


def test_codes_that_are_the_prior_leave_no_holes_and_codes_in_one_corner_leave_most_of_the_disc_empty():
    n, d = 2000, 5
    matched = G.density_map(np.zeros((n, d)), np.zeros((n, d)))  # every q(z|x) is N(0, I): q(z) is the prior
    disc = matched.prior[matched.in_disc].sum()
    assert disc == pytest.approx(0.95, abs=0.02) and matched.prior.sum() == pytest.approx(math.erf(4 / 2 ** 0.5) ** 2)
    assert matched.hole_mass < 0.01 and matched.outside_prior == pytest.approx(1 - disc, abs=0.02)
    rng = np.random.default_rng(1)
    corner = G.density_map(np.full((n, 2), 2.5) + 0.1 * rng.normal(size=(n, 2)), np.full((n, 2), -6.0))
    assert corner.names == ("z0", "z1") and corner.hole_mass > 0.85 and corner.outside_prior > 0.9


def test_a_one_dimensional_code_has_no_2d_view():
    assert G.density_map(np.zeros((10, 1)), np.zeros((10, 1))) is None


def test_the_view_of_a_larger_code_follows_its_two_widest_directions():
    rng = np.random.default_rng(2)
    mu = rng.normal(size=(500, 4)) * np.array([0.1, 3.0, 0.1, 1.5])
    axes, names, explained = G.view_axes(mu)
    assert names == ("PC 1", "PC 2") and abs(axes[0, 1]) > 0.99 and abs(axes[1, 3]) > 0.99
    assert np.allclose(axes @ axes.T, np.eye(2)) and explained[0] > explained[1]


@pytest.fixture(scope="module")
def trained(mnist_small):
    run = new_run(mnist_small, *configs_for("image", (1, 28, 28), {"latent_dim": 8, "hidden": (128,), "epochs": 4}))
    list(train_run(run))
    return run


def test_mixture_draws_land_where_the_codes_are_and_prior_draws_do_not(trained, mnist_small):
    gap = G.prior_gap(trained.model, mnist_small, n=500)
    prior, mixture, held = gap.medians()
    assert mixture > prior + 1.0 and gap.gap == pytest.approx(mixture - prior)  # the mixture's draws score better
    assert gap.mixture_in_holes < gap.prior_in_holes
    assert gap.held_out_part == "test" and gap.n_held_out == len(mnist_small.indices("test"))
    assert np.mean(gap.log_q_held_out < gap.threshold) == pytest.approx(G.HOLE_PERCENTILE / 100, abs=0.01)
    assert gap.z_prior.shape == gap.z_mixture.shape == (500, 8) and gap.components == G.MIXTURE_COMPONENTS
    again = G.prior_gap(trained.model, mnist_small, n=500)
    assert np.array_equal(again.z_mixture, gap.z_mixture)  # seeded


def test_dimension_spread_sorts_by_kl_and_samples_around_the_means(trained, mnist_small):
    kl = np.arange(8.0)
    spread = G.dimension_spread(trained.model, mnist_small, "test", kl)
    assert list(spread.kl_order) == list(range(7, -1, -1))
    assert spread.mu.shape == spread.z.shape == (len(mnist_small.indices("test")), 8)
    assert np.all(spread.z_sd >= spread.mu_sd * 0.9)  # sampled codes spread at least as wide as their means
