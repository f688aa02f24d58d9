"""The rate-distortion curve of a β sweep: points grouped and ordered, sentences that agree with the numbers, and
on a real sweep the rate falls and the distortion rises as β grows."""
from __future__ import annotations

from dataclasses import replace

import pytest
from cli_session import run_cli

from vae_core import rate_distortion as rd
from vae_core.sweep import InlineEngine, make_plan, normalize, run


def _row(beta, kl, recon, latent=2, loss="bce", status="finished", collapsed=False):
    return {"beta": beta, "kl": kl, "recon": recon, "latent_dim": latent, "loss": loss, "status": status,
            "collapsed": collapsed, "active_units": 0 if collapsed else latent, "key": f"k{beta}{latent}"}


def test_rows_make_one_curve_per_other_setting_sorted_by_beta():
    rows = [_row(4, 2.0, 150), _row(0.5, 20.0, 100), _row(1, 10.0, 120), _row(1, 12.0, 110, latent=8),
            _row(4, 3.0, 140, latent=8), _row(2, 1.0, 1.0, status="failed"), _row(8, 1.0, 1.0, latent=16)]
    curves = rd.curves(rows, ["beta", "latent_dim"])
    # latent size 16 has one point: no curve
    assert [c.label for c in curves] == ["latent size 2, loss bce", "latent size 8, loss bce"]
    assert [p.beta for p in curves[0].points] == [0.5, 1.0, 4.0]
    assert curves[0].against_trend() == []
    assert curves[0].sentence() == ("From β = 0.5 to β = 4 the rate fell from 20.00 to 2.00 nats per sample and the "
                                    "distortion rose from 100.0 to 150.0 nats.")


def test_steps_against_the_trend_beyond_noise_are_named_and_collapse_is_marked():
    rows = [_row(0.5, 20.0, 100), _row(1, 20.3, 99.8), _row(2, 25.0, 90.0), _row(32, 0.01, 200, collapsed=True)]
    (curve,) = rd.curves(rows, ["beta"])
    assert curve.against_trend() == [(1.0, 2.0, "rate", pytest.approx(4.7)),
                                     (1.0, 2.0, "distortion", pytest.approx(-9.8))]
    text = curve.sentence()
    assert "from β = 1 to 2 the rate rose by 4.70 nats; from β = 1 to 2 the distortion fell by 9.80 nats" in text
    assert text.endswith("Collapsed (the code carries almost nothing): β = 32.")
    table = rd.table(curve)
    assert table.splitlines()[0] == ("rate-distortion, latent size 2, loss bce (test part, nats per sample; one point "
                                     "per β):")
    assert table.splitlines()[5].split() == ["32", "0.01", "200.00", "0/2", "collapsed"]


@pytest.fixture(scope="module")
def tiny(mnist):
    return replace(mnist, x=mnist.x[:1000], split=mnist.split[:1000], y=mnist.y[:1000])


def test_on_a_real_sweep_rate_falls_and_distortion_rises_with_beta(tiny):
    plan = make_plan(tiny, "mnist-1000", normalize({"beta": [0.25, 1, 4, 16]}),
                     fixed={"hidden": (64,), "latent_dim": 8, "epochs": 3}, iwae_k=0)
    outcome = run(plan, InlineEngine(tiny))
    (curve,) = rd.curves(outcome.rows, plan.varied)
    rates, distortions = [p.rate for p in curve.points], [p.distortion for p in curve.points]
    assert [p.beta for p in curve.points] == [0.25, 1.0, 4.0, 16.0]
    for a, b in zip(curve.points, curve.points[1:], strict=False):  # each step the right way, within training noise
        assert b.rate < a.rate + rd.NOISE_NATS and b.distortion > a.distortion - rd.NOISE_NATS
    assert rates[0] > 4 * rates[-1] and distortions[-1] > distortions[0] + 10
    assert curve.against_trend() == [] and "the rate fell" in curve.sentence()


@pytest.mark.slow
def test_the_sweep_command_prints_the_curve(tmp_path, capsys):
    code, out, err = run_cli(capsys, "sweep", "--data", "mnist", "--beta", "0.5,8", "--latent-dim", "2", "--hidden",
                             "32", "--epochs", "1", "--eval-k", "0", "--workers", "1", "--out", str(tmp_path / "s"),
                             "--quiet")
    assert code == 0, err
    block = out[out.index("rate-distortion, latent size 2, loss bce"):].splitlines()
    assert [line.split()[0] for line in block[2:4]] == ["0.5", "8"]
    assert block[4].strip().startswith("From β = 0.5 to β = 8 the rate fell")
