"""The VAE family on the pages, headless: tiny real runs of each variant trained from the Train page's controls;
the Reconstructions & samples page draws a chosen class, class-conditional traversals, every class from the same
codes and each layer's traversals (pixels checked against vae_core's own results); the Diagnostics page splits the
KL by layer; the live curves carry the adversarial autoencoder's two losses; the Runs page sets the runs side by
side."""
from __future__ import annotations

import re

import numpy as np
import pytest
from app_session import metrics, open_app, spec, train_tiny
from test_generate_page import close, media, tiles  # noqa: F401 - media is a fixture

from dashboard.components import images
from vae_core import analysis
from vae_core.objectives import TERM_WORDS

GENERATE = "app_pages/generate.py"
SMALL = {"latent_dim": 4, "batch_size": 64}


@pytest.fixture(scope="module")
def family():
    """One session with three tiny real MNIST runs: conditional, hierarchical, adversarial (one epoch each)."""
    at = open_app()
    ws = train_tiny(at, epochs=1, conditional=True, **SMALL)
    cond = ws.current_run()
    train_tiny(at, epochs=1, conditional=False, variant="hierarchical", **SMALL)
    hier = ws.current_run()
    train_tiny(at, epochs=1, variant="adversarial", **SMALL)
    aae = ws.current_run()
    assert (cond.model.classes, hier.model_cfg.variant, aae.model_cfg.variant) == (10, "hierarchical", "adversarial")
    return at, ws, cond, hier, aae


def show(at, ws, run, page: str):
    ws.selected_run = run.id
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_the_adversarial_autoencoders_two_losses_are_on_the_live_curves(family):
    at, ws, _, _, aae = family
    show(at, ws, aae, "app_pages/train.py")
    chart = next(spec(c) for c in at.get("plotly_chart") if c.proto.spec and '"name":"total"' in c.proto.spec.replace(
        " ", ""))
    traces = {t["name"]: t for t in chart["data"]}
    steps = [e for e in aae.events if e.kind == "step"]
    for term in ("adv_d", "adv_g"):
        assert traces[TERM_WORDS[term]]["y"] == pytest.approx([e.term(term) for e in steps], rel=1e-6)


def test_a_conditional_run_draws_the_class_you_choose(family, media):  # noqa: F811
    at, ws, cond, _, _ = family
    show(at, ws, cond, GENERATE)
    assert [t.label for t in at.tabs] == ["Reconstructions", "Samples of a chosen class", "Latent traversals",
                                          "Interpolation", "Every class × the same z"]
    at.selectbox(key="gen_prior_class").set_value(7).run()
    (grid,) = [im for im in at.image if im.captions == ["32 samples of class 7, seed 0"]]
    close(tiles(media(grid.value[0]), 32, cols=8, upscale=3),
          images.as_uint8(analysis.sample_prior(cond.model, 32, 0, y=7)))
    (classes,) = [im for im in at.image if im.captions and im.captions[0].startswith("Columns: class 0, 1, 2")]
    expected = analysis.class_grid(cond.model, analysis.prior_codes(cond.model, 6, seed=0))  # (6 codes, 10 classes)
    shown = tiles(media(classes.value[0]), 60, cols=10, upscale=3)
    close(shown, images.as_uint8(expected.reshape(60, *expected.shape[2:])))


def test_a_conditional_runs_traversals_keep_the_chosen_class(family, media):  # noqa: F811
    at, ws, cond, _, _ = family
    show(at, ws, cond, GENERATE)
    at.selectbox(key="gen_trav_class").set_value(3).run()
    assert any("Every row is drawn as class 3" in c.value for c in at.caption)
    rows = [m.value for m in at.markdown if m.value.startswith("**z")]
    first = int(re.match(r"\*\*z(\d+)\*\*", rows[0])[1])
    sweep = analysis.traverse(cond.model, np.zeros(4, np.float32), [first], np.linspace(-2.5, 2.5, 9, dtype=np.float32),
                              y=3)[0]
    row = next(im for im in at.image if len(im.value) == 1 and not im.captions[0]
               and media(im.value[0]).shape == images.mosaic(np.zeros((9, 1, 28, 28)), cols=9).shape)
    close(tiles(media(row.value[0]), 9, cols=9, upscale=2), images.as_uint8(sweep))


def test_each_layer_of_a_hierarchical_run_is_traversed(family, media):  # noqa: F811
    at, ws, _, hier, _ = family
    show(at, ws, hier, GENERATE)
    assert at.radio(key="gen_trav_layer").options == ["z1, the bottom layer (feeds the decoder)",
                                                      "z2, the top layer (sets z1's prior)"]
    assert all(m.value.startswith("**z1[") for m in at.markdown if m.value.startswith("**z"))
    at.radio(key="gen_trav_layer").set_value("z2").run()
    rows = [m.value for m in at.markdown if m.value.startswith("**z")]
    d2 = hier.model_cfg.top_latent_dim
    assert len(rows) == min(d2, 8) and all(r.startswith("**z2[") for r in rows)
    kl = np.asarray(hier.summary["kl_per_dim"])
    first = hier.model_cfg.latent_dim + int(re.match(r"\*\*z2\[(\d+)\]\*\*", rows[0])[1])
    assert first == hier.model_cfg.latent_dim + int(np.argmax(kl[hier.model_cfg.latent_dim:]))
    sweep = analysis.traverse(hier.model, np.zeros(hier.model_cfg.code_dim, np.float32), [first],
                              np.linspace(-2.5, 2.5, 9, dtype=np.float32))[0]
    row = next(im for im in at.image if len(im.value) == 1 and not im.captions[0]
               and media(im.value[0]).shape == images.mosaic(np.zeros((9, 1, 28, 28)), cols=9).shape)
    close(tiles(media(row.value[0]), 9, cols=9, upscale=2), images.as_uint8(sweep))


def test_the_diagnostics_page_splits_the_kl_by_layer(family):
    at, ws, _, hier, _ = family
    show(at, ws, hier, "app_pages/diagnostics.py")
    diag = hier.diagnosis("test")
    d1 = hier.model_cfg.latent_dim
    shown = metrics(at)
    assert shown["KL of z1"] == f"{diag.kl_per_dim[:d1].sum():.2f} nats"
    assert shown["KL of z2"] == f"{diag.kl_per_dim[d1:].sum():.2f} nats"
    assert any(f"= {diag.kl:.2f} nats" in m.value and "add up to the total KL" in m.value for m in at.markdown)
    bars = next(spec(c) for c in at.get("plotly_chart") if "KL per latent dimension" in c.proto.spec)
    assert {x for trace in bars["data"] for x in trace["x"]} == {f"z1[{d}]" for d in range(d1)} | \
        {f"z2[{d}]" for d in range(hier.model_cfg.top_latent_dim)}


def test_the_runs_page_sets_the_family_side_by_side(family):
    at, ws, cond, hier, aae = family
    at.switch_page("app_pages/runs.py").run()
    picker = next(w for w in at.multiselect if w.key.startswith("runs_compare_"))
    picker.set_value([cond.id, hier.id, aae.id]).run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "variant" in d.value.columns and "KL per layer" in d.value.columns)
    assert table["variant"].tolist() == ["conditional VAE", "hierarchical VAE", "adversarial autoencoder"]
    assert table["test neg. ELBO"].tolist() == pytest.approx([r.summary["test_neg_elbo"] for r in (cond, hier, aae)])
    assert table["KL per layer"].tolist()[1] == " + ".join(f"{n} {v:.1f}" for n, v in hier.summary["kl_layers"].items())
    caption = next(c.value for c in at.caption if c.value.startswith("Measured on the test part of mnist"))
    assert "k = 64 importance samples; grey levels in [0, 1], not binarised" in caption
