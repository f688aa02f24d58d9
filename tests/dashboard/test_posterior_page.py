"""The Posterior page headless: a picked input's q(z|x) on the map with the page's sentence agreeing with the
model's own numbers, and a clicked point decoded. (Drawing with the mouse is the browser test's.)"""
from __future__ import annotations

import numpy as np
import pytest
from app_session import open_app, spec, train_tiny

from vae_core import analysis

PAGE = "app_pages/posterior.py"


@pytest.fixture(scope="module")
def explored():
    app = open_app()
    ws = train_tiny(app, epochs=2, latent_dim=2)
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app, ws.runs[-1]


def test_a_picked_input_shows_its_posterior_ellipse_and_its_own_kl(explored):
    app, run = explored
    app.radio[0].set_value("pick").run()
    index = app.selectbox(key="posterior_pick_test").value
    mu, logvar = analysis.encode(run.model, run.data.x[index:index + 1])
    sigma = np.exp(0.5 * logvar[0])
    kl = 0.5 * float(np.sum(mu[0] ** 2 + sigma ** 2 - 1 - 2 * np.log(sigma)))
    sentence = next(m.value for m in app.markdown if m.value.startswith("KL(q(z|x)"))
    assert f"**{kl:.2f} nats**" in sentence
    assert f"σ runs from {sigma.min():.2f} to {sigma.max():.2f}" in sentence
    figure = spec(app.get("plotly_chart")[0])
    ring = next(t for t in figure["data"] if t["name"] == "q(z|x): μ ± 2σ")
    assert max(ring["x"]) == pytest.approx(mu[0, 0] + 2 * sigma[0], abs=1e-3)  # the 2-D code: exactly μ ± 2σ
    assert min(ring["y"]) == pytest.approx(mu[0, 1] - 2 * sigma[1], abs=1e-3)
    assert any("the ellipse is q(z|x) exactly" in c.value for c in app.caption)


def test_another_input_moves_the_ellipse(explored):
    app, run = explored
    app.radio[0].set_value("pick").run()
    before = next(t for t in spec(app.get("plotly_chart")[0])["data"] if t["name"] == "μ")
    box = app.selectbox(key="posterior_pick_test")
    box.set_value(int(run.data.indices("test")[5])).run()
    after = next(t for t in spec(app.get("plotly_chart")[0])["data"] if t["name"] == "μ")
    assert (before["x"], before["y"]) != (after["x"], after["y"])
