"""The Learn page headless: each lesson's set-up, then real (tiny) training in the background and an explanation
that quotes the numbers of the runs it just trained. Lessons train 2 epochs ($VAE_EXPLORER_LESSON_EPOCHS) and
MNIST lessons a quarter of the digits (every 4th image, all three parts), so the file stays short."""
from __future__ import annotations

import importlib.resources
import json
import time

import numpy as np
import pytest
from app_session import open_app, spec, workspace
from lesson_session import lessons_in_short

from dashboard.components import compare, presenter
from dashboard.components.charts import unit_kinds
from dashboard.lessons import LESSONS, anomaly, collapse, latent_size, sensor_loss
from dashboard.lessons.common import diagnosis, dims_off, dims_on, epochs, posterior_sigma
from dashboard.lessons.runner import key
from dashboard.lessons.touch import LiveLesson
from vae_core import analysis
from vae_core import anomaly as A
from vae_core.data import SensorOptions, load_upload

EPOCHS = 2


@pytest.fixture(scope="module", autouse=True)
def short_lessons():
    with lessons_in_short(EPOCHS):
        yield


def texts(at) -> list[str]:
    return [e.value for kind in ("markdown", "info", "success", "warning", "error") for e in at.get(kind)]


def shown(at, *parts: str) -> str:
    """The one text block on the page holding every part (fails, listing the page's texts, when none does)."""
    hits = [t for t in texts(at) if all(p in t for p in parts)]
    assert hits, f"no text holds {parts}; the page says:\n" + "\n---\n".join(texts(at))
    return hits[0]


def open_lesson(number: int):
    at = open_app("app_pages/learn.py")
    at.query_params["lesson"] = str(number)
    at.run()
    assert not at.exception, at.exception
    return at


def until(condition, timeout: float, message: str) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, message
        time.sleep(0.05)


def run_lesson(number: int, timeout: float = 240):
    """Press Run, wait for every run (and the lesson's analysis), redraw; returns (app, runs in step order)."""
    at = open_lesson(number)
    at.button(key="learn_run").click().run()
    ws = workspace(at)
    runner = ws.background[key(number)]
    until(lambda: not runner.active, timeout, "the lesson did not finish in time")
    at.run()
    assert not at.exception, at.exception
    snap = runner.snapshot()
    assert snap.status == "finished", snap.error
    runs = [ws.run(i) for i in snap.run_ids]
    assert len(runs) == len(LESSONS[number].steps) and all(r.status == "finished" for r in runs)
    assert all(r.summary["epochs"] == EPOCHS for r in runs)
    assert [s.value for s in at.subheader] == ["What you got", "What happened"]
    return at, runs


def curve_points(at, name: str = "total") -> list[int]:
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return [len(t["y"]) for s in specs for t in s["data"] if t.get("name") == name]


# ---- set-up ------------------------------------------------------------------------------------------------
def test_every_lesson_opens_with_what_to_look_for_and_its_runs():
    at = open_app("app_pages/learn.py")
    assert at.header[0].value == "Lesson 1: What a VAE is" and at.query_params["lesson"] == "1"
    for number, lesson in LESSONS.items():
        at.query_params["lesson"] = str(number)
        at.run()
        assert not at.exception, at.exception
        assert at.header[0].value == f"Lesson {number}: {lesson.title}"
        look = shown(at, "**What to look for**")
        assert all(line in look for line in lesson.look_for)
        if isinstance(lesson, LiveLesson):  # one run steered live: a start button, its moves waiting for a run
            assert not at.button(key="touch_start").disabled and at.button(key="touch_move_0").disabled
            continue
        plan = shown(at, "**The runs**")
        for step in lesson.steps:  # each run, with its settings and the capped epochs
            assert f"**{step.name}**" in plan
        assert plan.count(f"{EPOCHS} epochs") == len(lesson.steps)
        assert not at.button(key="learn_run").disabled and at.button(key="learn_stop").disabled
        assert not at.subheader  # nothing explained before the lesson has run


def test_lesson_one_writes_out_the_elbo_before_running():
    at = open_lesson(1)
    latex = " ".join(e.value for e in at.get("latex"))
    assert r"\mathrm{ELBO}" in latex and r"\mathrm{KL}" in latex and r"\mu(x) + \sigma(x)" in latex
    assert at.get("graphviz_chart"), "the encoder -> z -> decoder diagram"
    assert "reparameterisation trick" in shown(at, "**encoder**")


def test_set_up_only_fills_the_train_page_with_the_lessons_settings():
    at = open_lesson(3)
    at.button(key="learn_setup").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Train"
    assert at.select_slider(key="set_beta").value == collapse.BETA
    assert at.slider(key="set_latent_dim").value == 16 and at.slider(key="set_epochs").value == 10
    assert at.selectbox(key="set_warmup").value == "none" and at.slider(key="set_free_bits").value == 0
    assert any("Lesson 3 is set up: β = 32" in t for t in texts(at))
    assert workspace(at).job is None  # nothing trains until the visitor presses Train


# ---- each lesson, run and explained --------------------------------------------------------------------------
def test_lesson_one_explains_the_elbo_with_its_runs_numbers():
    at, (run,) = run_lesson(1)
    s, ep = run.summary, epochs(run)
    first, last = ep[0], ep[-1]
    shown(at, f"In epoch 1 the reconstruction term averaged **{first.recon:.1f} nats**", f"**{first.kl:.1f} nats**",
          f"After epoch {EPOCHS} the reconstruction was **{last.recon:.1f}**", f"to **{last.kl:.1f}**",
          "risen" if last.kl > first.kl else "fallen")
    shown(at, f"On the {s['n']} test images the negative ELBO is **{s['test_neg_elbo']:.1f} nats**",
          f"reconstruction {s['recon']:.1f} + KL {s['kl']:.1f}", f"{s['iwae_nll']:.1f} nats")
    shown(at, f"{s['active_units']} of {s['latent_dim']} latent dimensions are active units",
          f"{dims_on(s)} carry more than", f"**{analysis.VERDICT_WORDS[s['verdict']]}**")
    gained, paid = first.recon - last.recon, last.kl - first.kl
    if gained > 0 and paid > 0:  # the fall in reconstruction is not all bought by the KL: the decoder learns too
        shown(at, f"Two things bought that {gained:.1f}-nat fall in reconstruction", f"{paid:.1f} more nats",
              "the decoder got better at drawing digits", "cannot split the gain")
    elif gained > 0:
        shown(at, f"The reconstruction fell by {gained:.1f} nats while the KL did not grow")
    assert not any("every extra nat of KL bought" in t for t in texts(at))
    val = epochs(run, "val")[-1]
    shown(at, f"The validation loss after the last epoch was {val.loss:.1f} nats against {last.loss:.1f}")
    assert curve_points(at) == [sum(e.kind == "step" for e in run.events)]  # the live curve is this run's
    assert at.get("download_button"), "a report of the run"


def font_sizes(at) -> list:
    return [json.loads(c.proto.spec)["layout"].get("font", {}).get("size") for c in at.get("plotly_chart")]


def test_presenter_mode_enlarges_the_lessons_charts():
    at, _ = run_lesson(1)
    assert presenter.FONT_SIZE not in font_sizes(at)
    at.sidebar.toggle(key=presenter.KEY).set_value(True).run()
    assert not at.exception, at.exception
    assert font_sizes(at) and set(font_sizes(at)) == {presenter.FONT_SIZE}


@pytest.mark.slow
def test_lesson_two_compares_three_betas_with_their_numbers():
    at, runs = run_lesson(2)
    assert sorted(r.train_cfg.beta for r in runs) == [0.5, 1.0, 4.0]
    for r in runs:
        s = r.summary
        shown(at, f"**β = {r.train_cfg.beta:g}**: reconstruction {s['recon']:.1f} nats, KL {s['kl']:.1f} nats, "
                  f"{dims_off(s)} of {s['latent_dim']} dimensions switched off",
              f"σ = {posterior_sigma(r):.2f}")
    one, four = (next(r for r in runs if r.train_cfg.beta == b).summary for b in (1.0, 4.0))
    worse = four["recon"] - one["recon"]
    shown(at, "Raising β from 1 to 4, the KL " + ("rose" if four["kl"] > one["kl"] else "fell") +
          f" from {one['kl']:.1f} to {four['kl']:.1f} nats",
          f"reconstructions got {abs(worse):.1f} nats {'worse' if worse > 0 else 'better'}")
    best = min(runs, key=lambda r: r.summary["iwae_nll"])
    shown(at, f"the best is **β = {best.train_cfg.beta:g}**")


@pytest.mark.slow
def test_lesson_three_shows_the_red_flag_and_the_fix_from_its_own_runs():
    at, runs = run_lesson(3)
    plain, warm, free = collapse.roles(runs)
    s, f = plain.summary, free.summary
    ep = epochs(plain)
    if s["collapsed"]:
        flag = " ".join(e.value for e in at.error)
        assert "**Red flag: the code collapsed.**" in flag
        assert f"the KL was {ep[0].kl:.2f} nats after epoch 1 and {ep[-1].kl:.2f} after epoch {EPOCHS}" in flag
        assert f"{dims_off(s)} of {s['latent_dim']} dimensions carry nothing and {s['active_units']} are active" in flag
    elif s["verdict"] == "too_early":
        assert not at.error
        shown(at, "**Too early to call.**", s["collapse_reason"])
    else:
        assert not at.error
        shown(at, f"did not collapse the code (diagnosis: {analysis.VERDICT_WORDS[s['verdict']]})")
    if not f["collapsed"] and f["active_units"] > s["active_units"]:
        fix = " ".join(e.value for e in at.success)
        assert f"recovered the code: {f['active_units']} of {f['latent_dim']} active units (against " \
               f"{s['active_units']} without)" in fix and f"a KL of {f['kl']:.2f} nats" in fix
        assert f"({f['recon']:.1f} against {s['recon']:.1f})" in fix
    else:
        shown(at, "did not recover more of the code", f"{f['active_units']} of {f['latent_dim']} active units")
    reached = max(e.beta for e in warm.events if e.kind == "step")
    peak = max(epochs(warm), key=lambda e: e.kl)
    shown(at, "**KL warm-up**", f"{peak.kl:.2f} nats in epoch {peak.epoch}",
          f"β had only reached {reached:.3g}" if reached < collapse.BETA * 0.999 else "")
    shown(at, "**Over-regularisation, not the classic collapse.**", f"β = {collapse.BETA:g} charges",
          "The classic posterior collapse happens at β = 1", "autoregressive")
    # free bits: the loss trained on is not the ELBO, told with the free-bits run's own last epoch
    last, fs = epochs(free)[-1], free.summary
    charged = last.recon + last.beta * last.kl
    assert last.loss >= charged - 1e-6  # free bits only ever add to reconstruction + β × KL
    assert fs["test_neg_elbo"] == pytest.approx(fs["recon"] + fs["kl"], abs=0.01)  # the test figure is the ELBO
    shown(at, "**With free bits the objective is no longer the ELBO, the bound on log p(x).**",
          f"averaged {last.loss:.2f} nats on the training part, against {charged:.2f}",
          f"({last.recon:.2f} + {last.beta:g} × {last.kl:.2f})", f"the {last.loss - charged:.2f}-nat difference",
          f"negative ELBO {fs['test_neg_elbo']:.2f} = reconstruction {fs['recon']:.2f} + KL {fs['kl']:.2f} nats")
    specs = [spec(c) for c in at.get("plotly_chart")]
    overlay = next(sp for sp in specs if "run by run" in sp["layout"]["title"]["text"])
    assert {t["name"] for t in overlay["data"]} >= {f"run {r.number}" for r in runs}
    captions = " ".join(c.value for c in at.caption)
    assert "level line" not in captions
    for r in runs:  # the KL panel's caption says what each run's KL did, in its numbers
        assert f"run {r.number} ({collapse.name(r)}) {collapse.kl_course(r)}" in captions
        kls = [e.kl for e in epochs(r)]
        course = collapse.kl_course(r)
        assert (f"from {kls[0]:.2f} to {kls[-1]:.2f}" in course or f"at most {max(kls):.2f}" in course
                or f"bump to {max(kls):.2f}" in course)
    red_flag = specs[0]  # reconstruction and KL on panels of their own, never two y-axes on one
    assert red_flag["layout"]["xaxis2"]["anchor"] == "y2" and "overlaying" not in red_flag["layout"]["yaxis2"]
    assert [t["yaxis"] for t in red_flag["data"]] == ["y", "y2"]
    kl_top = max(e.kl for e in epochs(plain))  # the KL panel is at least a nat high: near zero looks near zero
    assert red_flag["layout"]["yaxis2"]["range"] == pytest.approx([0, max(1.0, 1.08 * kl_top)])
    assert compare.KL_BARS_CAPTION in captions
    for r, bars in zip(runs_in_kl_order(runs), kl_bar_specs(specs), strict=True):
        diag = diagnosis(r)
        for trace in bars["data"]:  # each bar's colour says what the two tests say of its dimension
            for x, y in zip(trace["x"], trace["y"], strict=True):
                d = int(x[1:])
                assert y == pytest.approx(diag.kl_per_dim[d])
                assert trace["name"] == unit_kinds(diag.kl_per_dim, diag.active)[d]
    assert kl_bar_widths(at) == [1 / 3] * 3  # side by side
    at.sidebar.toggle(key=presenter.KEY).set_value(True).run()
    assert kl_bar_widths(at) == [0.5] * 3  # presenter mode: two to a line, so their larger titles fit


def kl_bar_specs(specs: list[dict]) -> list[dict]:
    return [sp for sp in specs if "KL per dimension" in sp["layout"]["title"]["text"]]


def runs_in_kl_order(runs):
    plain, warm, free = collapse.roles(runs)
    return [plain, warm, free]


def kl_bar_widths(at) -> list[float]:
    """The width (share of the line) of each column holding a KL-per-dimension chart."""
    return [pytest.approx(c.weight) for c in at.columns
            if any("KL per dimension" in json.loads(p.proto.spec)["layout"]["title"]["text"]
                   for p in c.get("plotly_chart"))]


@pytest.mark.slow
def test_lesson_four_contrasts_latent_sizes_with_their_numbers():
    at, runs = run_lesson(4)
    small_run, large = latent_size.roles(runs)
    a, b = small_run.summary, large.summary
    assert (a["latent_dim"], b["latent_dim"]) == (2, 16)
    diff = a["test_neg_elbo"] - b["test_neg_elbo"]
    shown(at, f"With a **2-D code** the test negative ELBO is {a['test_neg_elbo']:.1f} nats",
          f"with **16 dimensions** it is {b['test_neg_elbo']:.1f}", f"{abs(diff):.1f} nats "
          f"{'better' if diff > 0 else 'worse'}")
    shown(at, f"The 16-D model uses {dims_on(b)} of its 16 dimensions", f"{b['active_units']} active units",
          f"the 2-D model uses {dims_on(a)} of 2")
    acc_a, acc_b = latent_size.knn_accuracy(small_run), latent_size.knn_accuracy(large)
    shown(at, f"**{100 * acc_a:.0f}%** of the test digits", f"**{100 * acc_b:.0f}%** from the 16-D ones")
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert any("z itself" in t for t in titles) and any("t-SNE" in t for t in titles)


@pytest.mark.slow
def test_lesson_five_measures_what_each_loss_does_to_the_spikes():
    at, runs = run_lesson(5)
    assert sorted(r.model.cfg.loss for r in runs) == sorted(sensor_loss.LOSSES)
    data = runs[0].data
    g = sensor_loss.glitches(data)
    assert np.allclose(data.series[g.steps, 0] - sensor_loss.clean_series(data)[g.steps, 0], g.heights)
    shown(at, f"({', '.join(str(int(s)) for s in g.steps)})",
          f"they touch {len(sensor_loss.glitched_windows(data))} of its {len(data.indices('train'))} windows")
    effects = {r.model.cfg.loss: sensor_loss.effect(r) for r in runs}
    for loss, e in effects.items():
        shown(at, f"**{sensor_loss.SHORT[loss]}**: copied {100 * e.reproduced:.0f}% of each spike's height",
              f"stray {e.stray:.2f} sd", f"normal test windows {e.typical:.2f} sd", f"ROC-AUC {e.auc:.3f}")
    chaser = max(effects, key=lambda k: effects[k].stray)
    shown(at, f"**{sensor_loss.cap(sensor_loss.SHORT[chaser])}** bent its reconstructions furthest",
          f"({effects[chaser].stray:.2f} sd from the clean signal)")
    best = max(effects, key=lambda k: effects[k].auc)
    shown(at, f"(ROC-AUC, higher is better): {sensor_loss.SHORT[best]} ({effects[best].auc:.3f})")


def test_lesson_six_compares_the_vae_with_baselines_and_shows_the_point_adjust_trap():
    at, (run,) = run_lesson(6)
    s, o = anomaly.scored(run), anomaly.outcome(run)
    labels, parts = s.scores.labels, s.scores.parts
    threshold = A.percentile_threshold(A.validation_scores(s.scores.total, parts, labels), anomaly.PERCENTILE)
    assert o.thresholds["vae"] == threshold
    shown(at, f"**{threshold:.3g} nats**", "(steps 4,187–4,198)")
    test = o.alarms["vae"]["test"]
    shown(at, f"On the test part the VAE raises {test['alarms']} alarm", f"{test['false_alarms']} of them false")
    text = shown(at, "**Against simple baselines** on the test part (the same 6,301 steps for every method)")
    test_steps = parts == 2
    vus = {m: A.vus_metrics(v[test_steps], labels[test_steps], 64)["vus_pr"] for m, v in s.methods.items()}
    for method, value in vus.items():
        assert f"{anomaly.SHORT[method]} {value:.3f}" in text
    assert ("The VAE ranks **first**" in text) == (max(vus, key=vus.get) == "vae")
    # the trap, measured here from scratch: the seeded random score on aeon's ECG with three 100-step events
    blob = (importlib.resources.files("aeon") / "datasets" / "data" / "UnitTest" / anomaly.LONG_EVENTS).read_bytes()
    ecg = load_upload([(anomaly.LONG_EVENTS, blob)], SensorOptions(window=64, stride=8, train_range=(0, 1500)))
    random = A.random_scores(len(ecg.series_anomaly))
    at_threshold = A.alarm_metrics(random, ecg.series_anomaly, A.percentile_threshold(
        A.validation_scores(random, ecg.step_parts(), ecg.series_anomaly), anomaly.PERCENTILE))
    honest = A.vus_metrics(random, ecg.series_anomaly, 64)["vus_pr"]
    assert at_threshold["point_adjusted_f1"] > 0.5 > 0.1 > honest  # looks good point-adjusted; VUS-PR says no
    shown(at, "**The point-adjust trap.**", f"**point-adjusted F1 {at_threshold['point_adjusted_f1']:.2f}**",
          f"its event F1 is {at_threshold['event_f1']:.2f} and its VUS-PR {honest:.3f}",
          "a number that looks good for a detector that knows nothing")
    here = A.alarm_metrics(s.methods["random"], labels, o.thresholds["random"])["point_adjusted_f1"]
    shown(at, f"On bleeding the random score gets {here:.2f}")
    bars = [sp for sp in (json.loads(c.proto.spec) for c in at.get("plotly_chart"))
            if sp["layout"]["title"]["text"] == "The random score, three ways"]
    assert len(bars) == 1 and [t["name"] for t in bars[0]["data"]] == ["point-adjusted F1", "event F1", "VUS-PR"]


def test_stopping_a_lesson_keeps_its_runs_and_says_how_far_it_got():
    at = open_lesson(2)
    at.button(key="learn_run").click().run()
    ws = workspace(at)
    runner = ws.background[key(2)]
    assert at.button(key="learn_run").disabled and not at.button(key="learn_stop").disabled
    at.query_params["lesson"] = "1"  # another lesson cannot start meanwhile
    at.run()
    assert at.button(key="learn_run").disabled
    assert "Another lesson is running" in at.button(key="learn_run").help
    at.query_params["lesson"] = "2"
    at.run()
    until(lambda: runner.job is not None and any(e.kind == "step" for e in runner.job.snapshot().events), 60,
          "the first run did not start")
    at.button(key="learn_stop").click().run()
    until(lambda: not runner.active, 60, "the lesson did not stop")
    at.run()
    assert not at.exception, at.exception
    snap = runner.snapshot()
    kept = [ws.run(i) for i in snap.run_ids]
    assert snap.status == "stopped" and len(kept) < 3 and all(r.status == "stopped" for r in kept)
    shown(at, f"You stopped the lesson after {len(kept)} of 3 runs")
    assert not at.subheader  # no explanation from half a lesson
    assert not at.button(key="learn_run").disabled
