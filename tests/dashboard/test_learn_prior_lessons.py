"""Lessons 9-12 headless: each trains its (tiny) runs in the background and explains them with those runs' own
numbers. Runs train 2 epochs ($VAE_EXPLORER_LESSON_EPOCHS), MNIST lessons on every 4th digit."""
from __future__ import annotations

import time

import pytest
from app_session import open_app, workspace
from lesson_session import lessons_in_short

from dashboard.components import prior_view, prior_words, rate_distortion_view
from dashboard.lessons import LESSONS, ar_collapse, augmentation
from dashboard.lessons import rate_distortion as rd_lesson
from dashboard.lessons.runner import key

EPOCHS = 2
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def short_lessons():
    with lessons_in_short(EPOCHS):
        yield


def texts(at) -> list[str]:
    return [e.value for kind in ("markdown", "info", "success", "warning", "error", "caption") for e in at.get(kind)]


def run_lesson(number: int, timeout: float = 400):
    at = open_app("app_pages/learn.py")
    at.query_params["lesson"] = str(number)
    at.run()
    at.button(key="learn_run").click().run()
    ws = workspace(at)
    runner = ws.background[key(number)]
    deadline = time.time() + timeout
    while runner.active:
        assert time.time() < deadline, "the lesson did not finish in time"
        time.sleep(0.1)
    at.run()
    assert not at.exception, at.exception
    snap = runner.snapshot()
    assert snap.status == "finished", snap.error
    runs = [ws.run(i) for i in snap.run_ids]
    assert len(runs) == len(LESSONS[number].steps) and all(r.summary["epochs"] == EPOCHS for r in runs)
    return at, runs


def test_lesson_9_prior_explains_holes_and_coverage_with_each_runs_numbers():
    at, runs = run_lesson(9)
    shown = texts(at)
    for run in runs:
        r = prior_view.results(run)
        assert any(prior_words.gap_words(r["gap"]) in t for t in shown), run.model_cfg.latent_dim
        assert prior_words.coverage_words(r["coverage"], r["mixture_coverage"]) in shown
    two = next(r for r in runs if r.model_cfg.latent_dim == 2)
    assert prior_words.map_words(prior_view.results(two)["map"], "train") in shown
    side = next(t for t in shown if t.startswith("Side by side"))
    a, b = (prior_view.results(r)["coverage"] for r in sorted(runs, key=lambda r: r.model_cfg.latent_dim))
    assert f"unsure {prior_words.pct(a.unsure_share)} of the time with a 2-D code" in side
    assert f"{prior_words.pct(b.unsure_share)} with a 16-D one" in side


def test_lesson_10_draws_the_curve_of_its_runs():
    at, runs = run_lesson(10)
    curve = rd_lesson.curve(runs)
    assert [p.beta for p in curve.points] == list(rd_lesson.BETAS)
    shown = texts(at)
    assert "**On the test digits.** " + curve.sentence() in shown
    lines = next(t for t in shown if t.startswith("- β = 0.25: distortion"))
    for p in curve.points:
        assert f"- β = {p.beta:g}: distortion {p.distortion:.1f}, rate {p.rate:.2f}" in lines
    best = min(curve.points, key=lambda p: p.rate + p.distortion)
    assert any(f"it is lowest at β = {best.beta:g} ({best.distortion + best.rate:.1f} nats)" in t for t in shown)
    assert len([im for im in at.image if im.captions and im.captions[0].startswith("β = ")]) == len(runs)
    assert rate_distortion_view.rows_of(runs)[0]["kl"] == runs[0].summary["kl"]


def test_lesson_11_sets_each_cure_beside_the_plain_autoregressive_decoder():
    at, runs = run_lesson(11)
    shown = " ".join(texts(at))
    by = {ar_collapse.role(r): r for r in runs}
    assert set(by) == {"plain", "baseline", "warmup", "free_bits", "dropout", "weak"}
    assert by["plain"].model_cfg.arch == "argru" and by["baseline"].model_cfg.arch == "conv1d"
    assert by["dropout"].model_cfg.decoder_input_dropout == ar_collapse.INPUT_DROPOUT
    assert by["weak"].model_cfg.hidden == ar_collapse.WEAK
    for run in runs:
        assert ar_collapse._facts(run) in shown, ar_collapse.name(run)


def test_lesson_12_compares_validation_losses_with_and_without_augmentation():
    at, runs = run_lesson(12)
    plain, aug = augmentation.roles(runs)
    assert aug.train_cfg.augment == augmentation.AUGMENT and plain.train_cfg.augment == ()
    shown = " ".join(texts(at))
    for run in (plain, aug):
        best, at_epoch, last, _ = augmentation._course(run)
        assert f"lowest at epoch {at_epoch} ({best:.1f} nats per recording)" in shown
    _, _, p_last, _ = augmentation._course(plain)
    _, _, a_last, _ = augmentation._course(aug)
    assert f"With augmentation the last validation loss is {a_last:.1f}, {abs(p_last - a_last):.1f} nats " \
           f"{'better' if a_last < p_last else 'worse'}" in shown
