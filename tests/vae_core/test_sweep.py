"""Sweeps: values and grids, random and Bayesian trial counts, real sweeps on the local and Ray engines, resume."""
from __future__ import annotations

import csv
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from cli_session import run_cli

from vae_core import runs
from vae_core.checkpoint import load_run
from vae_core.cli import main
from vae_core.sweep import (
    Choice,
    InlineEngine,
    Range,
    SweepError,
    grid,
    grid_size,
    make_plan,
    normalize,
    parse_values,
    read,
    run,
    sample,
)
from vae_core.sweep.results import RESULTS
from vae_core.sweep.trial import FIELDS

TINY = {"hidden": (16,), "epochs": 1}  # small real models: a trial takes a fraction of a second in-process
CLI_TINY = ["--data", "mnist", "--latent-dim", "2", "--hidden", "32", "--epochs", "1", "--eval-k", "0",
            "--threads", "1"]


@pytest.fixture(scope="module")
def tiny(mnist):
    """The first 600 bundled MNIST digits (their split codes travel with them)."""
    return replace(mnist, x=mnist.x[:600], split=mnist.split[:600], y=mnist.y[:600])


def csv_rows(folder: Path) -> list[dict]:
    return list(csv.DictReader((folder / RESULTS).open()))


# ---- values, grids, samples ------------------------------------------------------------------------------

def test_values_parse_lists_ranges_and_layer_options():
    assert parse_values("beta", "0.5,1,4,1") == Choice((0.5, 1.0, 4.0))  # repeats dropped, order kept
    assert parse_values("latent_dim", "2, 8,16") == Choice((2, 8, 16))
    assert parse_values("loss", "BCE,mse") == Choice(("bce", "mse"))
    assert parse_values("lr", "1e-4:1e-2") == Range(1e-4, 1e-2)
    assert parse_values("latent_dim", "2:32") == Range(2, 32, integer=True)
    assert parse_values("hidden", ["64", "128,64"]) == Choice(((64,), (128, 64)))
    assert normalize({"beta": 4, "hidden": (64, 32), "lr": [1e-3, 2e-3]}) == {
        "beta": Choice((4.0,)), "hidden": Choice(((64, 32),)), "lr": Choice((1e-3, 2e-3))}


@pytest.mark.parametrize("name, text, message", [
    ("beta", "0.5,x", "--beta: 'x' is not a number"),
    ("latent_dim", "2.5", "--latent-dim: '2.5' is not a whole number"),
    ("loss", "bce,l2", "--loss: 'l2' is not one of bce, cbce, mse, mae, huber"),
    ("lr", "1e-2:1e-4", "--lr: a range needs 0 <= LOW < HIGH"),
    ("loss", "bce:mse", "--loss takes a list like a,b,c, not a range"),
    ("hidden", ["64,x"], "--hidden: '64,x' is not layer sizes"),
    ("seed", "1,2", "cannot sweep 'seed'"),
])
def test_bad_values_say_what_is_wrong(name, text, message):
    with pytest.raises(SweepError, match=message.replace("(", r"\(")):
        parse_values(name, text)


def test_grid_crosses_every_list_in_order():
    space = normalize({"beta": [0.5, 1, 2, 4], "latent_dim": [2, 8, 16], "loss": ["bce", "mse"]})
    combos = grid(space)
    assert grid_size(space) == len(combos) == 24
    assert combos[0] == {"beta": 0.5, "latent_dim": 2, "loss": "bce"}
    assert combos[1] == {"beta": 0.5, "latent_dim": 2, "loss": "mse"}  # the last parameter varies fastest
    assert combos[-1] == {"beta": 4.0, "latent_dim": 16, "loss": "mse"}
    assert len({json.dumps(c, sort_keys=True) for c in combos}) == 24
    with pytest.raises(SweepError, match="a grid needs lists, but --lr is a range"):
        grid({**space, "lr": Range(1e-4, 1e-2)})


def test_random_search_draws_n_distinct_seeded_settings():
    space = normalize({"beta": [0.5, 1, 4], "loss": ["bce", "mse"]})
    space["lr"] = Range(1e-4, 1e-2)
    a, b, c = sample(space, 7, seed=3), sample(space, 7, seed=3), sample(space, 7, seed=4)
    assert len(a) == 7 and a == b and a != c
    assert len({json.dumps(p, sort_keys=True) for p in a}) == 7
    assert all(p["beta"] in (0.5, 1.0, 4.0) and 1e-4 <= p["lr"] <= 1e-2 for p in a)
    lrs = np.array([p["lr"] for p in sample({"lr": Range(1e-4, 1e-2)}, 2000, seed=0)])
    assert 0.45 < np.mean(lrs < 1e-3) < 0.55  # log-uniform: half the draws in the lower decade (uniform: 9 %)
    finite = sample(normalize({"beta": [1, 2], "latent_dim": [2, 8]}), 10, seed=0)
    assert len(finite) == 4 and len({json.dumps(p, sort_keys=True) for p in finite}) == 4  # a finite grid caps it


def test_plan_checks_every_setting_against_the_data(tiny, basicmotions):
    with pytest.raises(SweepError, match="arch=conv1d: the conv1d architecture is for sensor windows"):
        make_plan(tiny, "mnist", normalize({"arch": ["mlp", "conv1d"]}), fixed=TINY)
    with pytest.raises(SweepError, match="the bce loss models values in \\[0, 1\\] but basicmotions is not"):
        make_plan(basicmotions, "basicmotions", normalize({"loss": ["mse", "bce"]}), fixed={"epochs": 1})
    with pytest.raises(SweepError, match="--search random needs --trials N"):
        make_plan(tiny, "mnist", normalize({"beta": [1, 2]}), search="random")


@pytest.fixture(scope="module")
def basicmotions():
    from vae_core.data import load_bundled

    return load_bundled("basicmotions")


# ---- in-process engine: trial counts, stop, resume, failures -----------------------------------------------

REAL_FIT = runs.fit


class CountingFit:
    """Wraps runs.fit to count real trainings (and optionally fail some)."""

    def __init__(self, fail_beta: float | None = None) -> None:
        self.calls, self.fail_beta, self._fit = [], fail_beta, REAL_FIT

    def __call__(self, data, model_cfg, train_cfg, **kw):
        self.calls.append((train_cfg.beta, model_cfg.latent_dim))
        if train_cfg.beta == self.fail_beta:
            raise RuntimeError("boom")
        return self._fit(data, model_cfg, train_cfg, **kw)


def test_bayes_runs_exactly_n_trials_and_resumes_its_study(tiny, tmp_path, monkeypatch):
    fit = CountingFit()
    monkeypatch.setattr(runs, "fit", fit)
    space = {"beta": Range(0.25, 16.0), "latent_dim": Choice((2, 4))}
    plan = make_plan(tiny, "mnist-600", space, search="bayes", trials=3, fixed=TINY, iwae_k=0)
    first_run = run(plan, InlineEngine(tiny), tmp_path)
    assert len(first_run.new) == 3 == len(fit.calls) == len(read(tmp_path))
    assert (tmp_path / "study.db").exists() and first_run.study.startswith("vae-sweep-")
    assert all(0.25 <= r["beta"] <= 16 and r["latent_dim"] in (2, 4) for r in first_run.rows)

    more = make_plan(tiny, "mnist-600", space, search="bayes", trials=5, fixed=TINY, iwae_k=0)
    second = run(more, InlineEngine(tiny), tmp_path)  # the same study, two more trials
    assert second.skipped == 3 and len(second.new) == 2 and len(fit.calls) == 5
    assert len(read(tmp_path)) == 5 and len(second.rows) == 5

    import optuna

    study = optuna.load_study(study_name=second.study.split()[0], storage=f"sqlite:///{tmp_path / 'study.db'}")
    complete = [t for t in study.trials if t.state.name == "COMPLETE" and not t.user_attrs.get("duplicate")]
    assert len(complete) == 5
    by_key = {r["key"]: r for r in read(tmp_path)}
    assert all(t.value == pytest.approx(by_key[t.user_attrs["key"]]["test_neg_elbo"]) for t in complete)


class CtrlCEngine(InlineEngine):
    """Ctrl-C arrives while the second trial trains."""

    def wait(self, timeout=None):
        if self.calls_left == 0:
            self.interrupted = self._queue[0].params
            raise KeyboardInterrupt
        self.calls_left -= 1
        return super().wait(timeout)


@pytest.mark.parametrize("killed", [False, True], ids=["ctrl-c", "killed"])
def test_bayes_interrupted_keeps_finished_trials_and_retries_the_one_in_flight(tiny, tmp_path, monkeypatch, killed):
    if killed:  # no chance to clean up: the study keeps a RUNNING trial that the next run must recover
        from vae_core.sweep import bayes

        monkeypatch.setattr(bayes.OptunaProposer, "abandon", lambda self: None)
    plan = make_plan(tiny, "mnist-600", {"beta": Range(0.25, 16.0)}, search="bayes", trials=3, fixed=TINY, iwae_k=0)
    engine = CtrlCEngine(tiny)
    engine.calls_left = 1
    with pytest.raises(KeyboardInterrupt):
        run(plan, engine, tmp_path)
    assert len(read(tmp_path)) == 1
    monkeypatch.undo()
    resumed = run(plan, InlineEngine(tiny), tmp_path)
    assert resumed.skipped == 1 and len(resumed.new) == 2 and len(read(tmp_path)) == 3
    assert resumed.new[0]["beta"] == pytest.approx(engine.interrupted["beta"])  # the same point, tried again


def test_bayes_stops_when_a_small_space_is_exhausted(tiny, monkeypatch):
    fit = CountingFit()
    monkeypatch.setattr(runs, "fit", fit)
    plan = make_plan(tiny, "mnist-600", normalize({"beta": [1, 4]}), search="bayes", trials=5, fixed=TINY, iwae_k=0)
    outcome = run(plan, InlineEngine(tiny))  # no folder: an in-memory study
    assert len(outcome.new) == 2 == len(fit.calls)
    assert "exhausted" in outcome.note


def test_stopping_keeps_finished_trials_and_a_rerun_skips_them(tiny, tmp_path, monkeypatch):
    fit = CountingFit()
    monkeypatch.setattr(runs, "fit", fit)
    plan = make_plan(tiny, "mnist-600", normalize({"beta": [0.5, 1, 4], "latent_dim": [2]}), fixed=TINY, iwae_k=0)
    stop = []
    first_run = run(plan, InlineEngine(tiny, should_stop=lambda: bool(stop)), tmp_path,
                    on_progress=lambda p: stop.append(1) if p.row else None, should_stop=lambda: bool(stop))
    assert first_run.stopped and len(first_run.new) == 1
    kept = csv_rows(tmp_path)
    assert len(kept) == 1 and kept[0]["status"] == "finished" and kept[0]["beta"] == "0.5"
    assert (tmp_path / "trials" / kept[0]["trial"] / "model.safetensors").exists()

    second = run(plan, InlineEngine(tiny), tmp_path)
    assert second.skipped == 1 and len(second.new) == 2
    assert [c[0] for c in fit.calls] == [0.5, 1.0, 4.0]  # β=0.5 trained once, never again
    rows = csv_rows(tmp_path)
    assert [r["beta"] for r in rows] == ["0.5", "1.0", "4.0"] and list(rows[0].keys()) == list(FIELDS)
    assert rows[0]["finished_at"] == kept[0]["finished_at"]
    assert run(plan, InlineEngine(tiny), tmp_path).new == []  # a third run has nothing left to do


def test_a_failed_trial_is_recorded_and_retried_next_time(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "fit", CountingFit(fail_beta=4.0))
    plan = make_plan(tiny, "mnist-600", normalize({"beta": [1, 4]}), fixed=TINY, iwae_k=0)
    outcome = run(plan, InlineEngine(tiny), tmp_path)
    failed = [r for r in outcome.new if r["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["message"] == "RuntimeError: boom" and failed[0]["test_neg_elbo"] is None
    assert len(outcome.rows) == 1  # only finished trials count as done

    fit = CountingFit()
    monkeypatch.setattr(runs, "fit", fit)
    again = run(plan, InlineEngine(tiny), tmp_path)
    assert fit.calls == [(4.0, 16)] and again.skipped == 1
    assert [r["status"] for r in csv_rows(tmp_path)] == ["finished", "finished"]


def test_two_sweeps_can_share_a_folder_and_each_reports_its_own_trials(tiny, tmp_path):
    a = make_plan(tiny, "mnist-600", normalize({"beta": [1, 4]}), fixed=TINY, iwae_k=0)
    b = make_plan(tiny, "mnist-600", normalize({"beta": [4, 16]}), fixed=TINY, iwae_k=0)
    run(a, InlineEngine(tiny), tmp_path)
    second = run(b, InlineEngine(tiny), tmp_path)
    assert second.skipped == 1 and [r["beta"] for r in second.new] == [16.0]  # β=4 is the same trial
    assert sorted(r["beta"] for r in second.rows) == [4.0, 16.0]
    assert sorted(r["beta"] for r in read(tmp_path)) == [1.0, 4.0, 16.0]


# ---- the CLI on the local process pool, and on Ray ------------------------------------------------------------

@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    """`vae-explorer sweep` on the local process pool: two real trials on the bundled MNIST."""
    out = tmp_path_factory.mktemp("sweep") / "local"
    code = main(["sweep", *CLI_TINY, "--beta", "0.5,4", "--out", str(out), "--json", "--quiet"])
    assert code == 0
    return out


@pytest.mark.slow
def test_cli_local_engine_runs_a_real_sweep(local_sweep, capsys):
    rows = csv_rows(local_sweep)
    assert [(r["beta"], r["latent_dim"], r["status"]) for r in rows] in (
        [("0.5", "2", "finished"), ("4.0", "2", "finished")], [("4.0", "2", "finished"), ("0.5", "2", "finished")])
    for r in rows:
        assert float(r["test_neg_elbo"]) == pytest.approx(float(r["recon"]) + float(r["kl"]))
        assert r["hidden"] == "32" and r["epochs"] == "1" and r["seed"] == "0" and float(r["seconds"]) > 0
        saved = load_run(local_sweep / "trials" / r["trial"])  # a normal run folder: evaluate and the UI open it
        assert saved.train_cfg.beta == float(r["beta"]) and saved.model.cfg.hidden == (32,)
        assert saved.data_info["source"] == "mnist"
        assert saved.summary["test_neg_elbo"] == pytest.approx(float(r["test_neg_elbo"]))

    code, out, err = run_cli(capsys, "evaluate", str(local_sweep / "trials" / rows[0]["trial"]), "--eval-k", "0",
                             "--json")
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["test_neg_elbo"] == pytest.approx(float(rows[0]["test_neg_elbo"]))


@pytest.mark.slow
def test_cli_rerun_skips_finished_trials_and_runs_only_new_ones(local_sweep, tmp_path, capsys):
    import shutil

    out = tmp_path / "resumed"
    shutil.copytree(local_sweep, out)
    before = {r["key"]: r for r in csv_rows(out)}
    code, stdout, err = run_cli(capsys, "sweep", *CLI_TINY, "--beta", "0.5,4,16", "--out", str(out), "--json")
    assert code == 0, err
    result = json.loads(stdout.strip().splitlines()[-1])
    assert (result["total"], result["skipped"], result["run"], result["failed"]) == (3, 2, 1, 0)
    after = {r["key"]: r for r in csv_rows(out)}
    assert len(after) == 3 and set(before) < set(after)
    for key, row in before.items():  # untouched: not trained again
        assert after[key] == row
    (new,) = [r for k, r in after.items() if k not in before]
    assert new["beta"] == "16.0"
    assert "resuming: 2 trials already done" in err

    code, stdout, err = run_cli(capsys, "sweep", *CLI_TINY, "--beta", "0.5,4,16", "--out", str(out))
    assert code == 0 and "0 trials run, 3 skipped" in stdout
    assert "collapsed" in stdout.splitlines()[0] and "neg.ELBO" in stdout.splitlines()[0]


@pytest.mark.slow
def test_ray_engine_gives_the_local_engine_numbers(local_sweep, tmp_path, capsys):
    import ray  # a dev dependency: installed by `make test`, so this runs in CI too
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        code, stdout, err = run_cli(capsys, "sweep", *CLI_TINY, "--beta", "0.5,4", "--out", str(tmp_path / "ray"),
                                    "--ray-address", "auto", "--json")
    finally:
        ray.shutdown()
    assert code == 0, err
    assert "Ray (2 at once)" in err
    local = {r["key"]: r for r in csv_rows(local_sweep)}
    remote = {r["key"]: r for r in csv_rows(tmp_path / "ray")}
    assert set(local) == set(remote) and len(local) == 2
    for key in local:
        for field in ("status", "test_neg_elbo", "recon", "kl", "active_units", "collapsed", "trial"):
            assert remote[key][field] == local[key][field], field  # the same digits, not just close
        assert math.isfinite(float(remote[key]["test_neg_elbo"]))
        assert (tmp_path / "ray" / "trials" / remote[key]["trial"] / "model.safetensors").read_bytes() == \
            (local_sweep / "trials" / local[key]["trial"] / "model.safetensors").read_bytes()


@pytest.mark.parametrize("flags, message", [
    (["--beta", "0.5,x"], "error: --beta: 'x' is not a number"),
    (["--search", "random", "--beta", "1,2"], "error: --search random needs --trials N"),
    (["--lr", "1e-4:1e-2"], "error: a grid needs lists, but --lr is a range; use --search random or bayes"),
    (["--beta", "1,2", "--storage", "sqlite:///x.db"], "error: --storage is for --search bayes"),
    (["--beta", "1", "--workers", "0"], "error: --workers must be 1 or more, not 0"),
    (["--arch", "gru"], "error: arch=gru: the gru architecture is for sensor windows"),
    (["--trials", "many"], "error: argument --trials: invalid int value: 'many'"),
])
def test_cli_bad_sweeps_are_one_error_line_and_exit_2(flags, message, tmp_path, capsys):
    code, out, err = run_cli(capsys, "sweep", "--data", "mnist", *flags, "--out", str(tmp_path / "x"))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), err
    assert not (tmp_path / "x" / RESULTS).exists()


@pytest.mark.slow
def test_a_sweep_trial_has_the_weights_of_the_same_run_from_train(local_sweep, tmp_path, capsys):
    import hashlib

    row = next(r for r in csv_rows(local_sweep) if r["beta"] == "4.0")
    code, _, err = run_cli(capsys, "train", *CLI_TINY, "--beta", "4", "--eval-k", "0", "--quiet",
                           "--out", str(tmp_path / "single"))
    assert code == 0, err
    digest = [hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
              for folder in (local_sweep / "trials" / row["trial"], tmp_path / "single")]
    assert digest[0] == digest[1]
