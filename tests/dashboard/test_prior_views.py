"""The new page sections headless: 'Prior vs codes' on Reconstructions & samples (numbers from vae_core's own
results), the Train page's sanity checks and augmentation control, the Sweep page's rate-distortion curve with
thumbnails, and the Latent space page's export for the Embedding Projector."""
from __future__ import annotations

import numpy as np
import pytest
from app_session import open_app, spec, train_on, train_tiny, workspace

from dashboard.components import prior_view, prior_words
from vae_core import checks, projector
from vae_core.prior_geometry import held_out_part

GENERATE = "app_pages/generate.py"


def texts(at) -> list[str]:
    return [e.value for kind in ("markdown", "info", "success", "warning", "error", "caption") for e in at.get(kind)]


def figures(at) -> list[dict]:
    return [spec(c) for c in at.get("plotly_chart")]


def titled(at, start: str) -> dict:
    return next(f for f in figures(at) if f["layout"]["title"]["text"].startswith(start))


@pytest.fixture(scope="module")
def mnist_run():
    at = open_app()
    ws = train_tiny(at, epochs=2)
    at.switch_page(GENERATE).run()
    assert not at.exception, at.exception
    return at, ws.current_run()


def test_prior_vs_codes_draws_each_part_with_this_runs_numbers(mnist_run):
    at, run = mnist_run
    assert "Prior vs codes" in [t.label for t in at.tabs]
    r = prior_view.results(run)  # memoised: the very numbers the page drew
    assert r["part"] == "train" and r["gap"].held_out_part == held_out_part(run.data) == "test"
    subheaders = [s.value for s in at.subheader]
    assert subheaders[:4] == ["Each dimension against the prior", "Where the codes lie",
                              "Samples from the prior, and from a mixture fitted to the codes",
                              "Which classes the samples show"]
    shown = texts(at)
    for words in (prior_words.gap_words(r["gap"]), prior_words.map_words(r["map"], "train"),
                  prior_words.coverage_words(r["coverage"], r["mixture_coverage"]),
                  prior_words.spread_words(r["spread"], r["kl"])):
        assert words in shown
    prior, mixture, held = r["gap"].medians()
    assert f"gets log q = {held:.1f}" in prior_words.gap_words(r["gap"]) and f"gets {prior:.1f}" in \
        prior_words.gap_words(r["gap"])
    spread = titled(at, "Spread of the codes per dimension")
    order = [int(n[1:]) for n in spread["data"][0]["x"]]
    assert order == list(r["spread"].kl_order) and len(order) == run.model_cfg.latent_dim
    density = titled(at, "Where the codes of the training part lie")
    holes = next(t for t in density["data"] if t.get("name", "").startswith("hole"))
    assert len(holes.get("x", [])) == int(r["map"].holes.sum())
    bars = titled(at, f"{r['coverage'].n:,} samples from the prior")
    confident = next(t for t in bars["data"] if t.get("name", "").startswith("prior samples, placed"))
    assert confident["y"] == pytest.approx(list(r["coverage"].confident / r["coverage"].n))
    captions = [c for im in at.image for c in im.captions]
    assert "Prior N(0, I): 32 draws" in captions and "Mixture fitted to the codes: 32 draws" in captions
    assert any(t.startswith(f"The mixture has {r['gap'].components} Gaussian components") for t in shown)


def test_choosing_a_dimension_draws_its_histogram(mnist_run):
    at, run = mnist_run
    r = prior_view.results(run)
    last = int(r["spread"].kl_order[-1])
    box = next(s for s in at.selectbox if (s.key or "").startswith("prior_dim_"))
    box.set_value(last).run()
    assert not at.exception, at.exception
    hist = titled(at, f"z{last} (KL")
    means = next(t for t in hist["data"] if t["name"] == "means μ of the codes")
    assert len(means["x"]) == min(len(run.data.indices("train")), 2000)


def test_a_sensor_run_without_classes_says_why_there_is_no_coverage():
    at, ws = train_on("bleeding", 1, GENERATE)
    assert any(t.startswith("Mode coverage needs class labels: bleeding has no class labels") for t in texts(at))
    assert any(f.startswith("Prior N(0, I): 6 draws") for f in (f["layout"]["title"]["text"] for f in figures(at)))


# ---- Train page ------------------------------------------------------------------------------------------------
def _checklist(at):
    return next(e for e in at.get("expander") if e.label.startswith("Sanity checks"))


def test_the_checklist_is_one_closed_line_on_the_defaults_and_names_each_problem_with_its_fix():
    at = open_app()
    box = _checklist(at)
    assert box.label == f"Sanity checks: all {len(checks.CHECKS)} pass"
    assert [m.value for m in box.markdown][0] == ":green[:material/check:] The loss fits the data's range"
    at.select_slider(key="set_beta").set_value(0.0).run()
    box = _checklist(at)
    assert box.label == f"Sanity checks: 1 of {len(checks.CHECKS)} found a problem"
    (line,) = [m.value for m in box.markdown if "switches the KL term off" in m.value]
    assert line.startswith(":orange[:material/warning:] **β = 0 switches the KL term off") and \
        "Fix: set β above 0" in line


def test_augmentation_is_offered_for_sensor_data_only():
    at = open_app()
    (box,) = [w for w in at.get("multiselect") if w.key == "set_augment"]
    assert box.disabled and box.value == []  # images: drawn, switched off
    at.switch_page("app_pages/data.py").run()
    at.get("button_group")[0].set_value("bleeding").run()
    at.switch_page("app_pages/train.py").run()
    (box,) = [w for w in at.get("multiselect") if w.key == "set_augment"]
    assert not box.disabled and list(box.options) == ["jitter: add small Gaussian noise to every value",
                                 "scale: multiply each channel of a window by a factor near 1",
                                 "time warp: stretch and squeeze time smoothly within the window",
                                 "window shift: move the window a few steps earlier or later"]
    box.set_value(["jitter", "warp"]).run()
    assert not at.exception, at.exception
    at.button(key="train_start").click().run()
    ws = workspace(at)
    assert ws.job.done.wait(120)
    assert ws.current_run().train_cfg.augment == ("jitter", "warp")


# ---- Sweep page ------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_beta_sweep_draws_its_rate_distortion_curve_with_thumbnails():
    at = open_app("app_pages/sweep.py")
    at.session_state["train_settings"] = {"kind": "image", "arch": "mlp", "hidden": (32,)}
    next(g for g in at.get("button_group") if g.key == "sweep_betas").set_value([0.5, 4.0, 32.0])
    next(g for g in at.get("button_group") if g.key == "sweep_latents").set_value([2])
    at.slider(key="sweep_epochs").set_value(2)
    at.run()
    at.button(key="sweep_start").click().run()
    sweep = workspace(at).background["sweep"]
    assert sweep.done.wait(240)
    at.run()
    assert not at.exception, at.exception
    rows = sorted(sweep.snapshot().rows, key=lambda r: r["beta"])
    curve = titled(at, "Rate against distortion")
    (line,) = curve["data"]
    assert line["text"] == ["β=0.5", "β=4", "β=32"]
    assert line["x"] == pytest.approx([r["recon"] for r in rows])
    assert line["y"] == pytest.approx([r["kl"] for r in rows])
    assert line["marker"]["symbol"] == ["x" if r["collapsed"] else "circle" for r in rows]
    captions = [c for im in at.image for c in im.captions]
    shown = [c for c in captions if c.startswith("β = ")]
    assert shown == [f"β = {r['beta']:g} · R {r['kl']:.2f} · D {r['recon']:.1f}" + (" · collapsed" if r["collapsed"]
                                                                                   else "") for r in rows]
    assert any(t.startswith("**latent size 2, loss bce:** From β = 0.5 to β = 32 the rate") for t in texts(at))


# ---- Latent space page ---------------------------------------------------------------------------------------
def test_the_latent_page_offers_the_projector_export(mnist_run):
    at, run = mnist_run
    at.switch_page("app_pages/latent.py").run()
    assert not at.exception, at.exception
    (button,) = [b for b in at.get("download_button") if b.proto.label.startswith("Export")]
    n = len(run.data.indices("test"))
    assert button.proto.label == f"Export {n:,} codes for the Embedding Projector (.zip)"
    assert "tensorboard --logdir" in button.proto.help
    files = projector.projector_files(run.model, run.data, "test")
    assert files[projector.TENSORS].count(b"\n") == n and np.isfinite(run.means("test")).all()
