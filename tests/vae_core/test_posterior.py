"""One input's posterior on a 2-D view of the latent space, and drawings turned into inputs."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2

from vae_core.posterior import LatentPlane, background_level, drawing_to_input


def test_a_2d_code_is_its_own_plane_and_the_ellipse_is_mu_plus_minus_two_sigma():
    view = LatentPlane.of(np.random.default_rng(0).normal(size=(100, 2)))
    assert view.is_code
    ring = view.ellipse(np.array([1.0, -2.0]), np.array([0.5, 0.1]), points=400)
    assert ring[:, 0].max() == pytest.approx(2.0, abs=1e-3) and ring[:, 0].min() == pytest.approx(0.0, abs=1e-3)
    assert ring[:, 1].max() == pytest.approx(-1.8, abs=1e-3) and ring[:, 1].min() == pytest.approx(-2.2, abs=1e-3)


def test_the_projected_ellipse_holds_the_share_of_draws_a_2d_gaussian_puts_within_two_sigma():
    rng = np.random.default_rng(1)
    codes = rng.normal(size=(500, 6)) * [3, 2, 1, 0.5, 0.2, 0.1]
    view = LatentPlane.of(codes)
    assert not view.is_code and view.explained[0] > view.explained[1] > 0
    mu, sigma = rng.normal(size=6), rng.uniform(0.2, 1.5, size=6)
    draws = view.to_plane(mu + sigma * rng.normal(size=(20_000, 6)))
    cov = view.basis @ np.diag(sigma ** 2) @ view.basis.T
    np.testing.assert_allclose(np.cov(draws.T), cov, rtol=0.05, atol=0.01)  # the projection of q is this Gaussian
    centred = draws - view.to_plane(mu)
    inside = np.einsum("ni,ij,nj->n", centred, np.linalg.inv(cov), centred) <= 4
    assert inside.mean() == pytest.approx(chi2.cdf(4, 2), abs=0.01)  # ~86 %, as the page says


def test_from_plane_returns_codes_on_the_plane():
    rng = np.random.default_rng(2)
    view = LatentPlane.of(rng.normal(size=(300, 5)))
    coords = rng.normal(size=(10, 2))
    np.testing.assert_allclose(view.to_plane(view.from_plane(coords)), coords, atol=1e-9)


def stroke(width: int = 190) -> np.ndarray:
    """A white vertical bar drawn off-centre on a black RGBA canvas, as the canvas returns it."""
    img = np.zeros((width, width, 4), np.uint8)
    img[..., 3] = 255
    img[30:170, 20:40, :3] = 255
    return img


def test_a_drawing_becomes_an_input_centred_and_scaled_like_mnist():
    x = drawing_to_input(stroke(), (1, 28, 28))
    assert x.shape == (1, 28, 28) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    ink = x[0]
    rows, cols = np.nonzero(ink > 0.1)
    assert rows.max() - rows.min() + 1 in (19, 20, 21)  # the long side fills 20 of 28 pixels
    ys, xs = np.indices(ink.shape)
    assert (ys * ink).sum() / ink.sum() == pytest.approx(13.5, abs=1.0)  # centred by its centre of mass
    assert (xs * ink).sum() / ink.sum() == pytest.approx(13.5, abs=1.0)


def test_a_drawing_is_inverted_for_data_with_a_light_background_and_none_when_blank():
    light = np.ones((10, 1, 28, 28), np.float32)
    light[:, :, 8:20, 8:20] = 0
    assert background_level(light) == 1.0
    x = drawing_to_input(stroke(), (1, 28, 28), background=background_level(light))
    assert x[0, 0, 0] == 1.0 and x.min() < 0.5  # dark ink on white
    blank = np.zeros((190, 190, 4), np.uint8)
    assert drawing_to_input(blank, (1, 28, 28)) is None
