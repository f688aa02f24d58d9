"""Comparing more than a handful of runs on the Runs page: one curve per run in its own colour, every latent map
(three to a row) and one reconstruction row per run, all from real tiny runs."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from app_session import open_app, train_tiny, workspace
from test_runs_page import by_prefix, chart, spec

from dashboard.components import compare
from vae_core.data import load_bundled

RUNS = 5


@pytest.mark.slow
def test_five_runs_side_by_side():
    at = open_app()
    ws = workspace(at)
    digits = load_bundled("mnist")
    keep = np.arange(0, len(digits.x), 10)
    ws.set_data(replace(digits, x=digits.x[keep], split=digits.split[keep], y=digits.y[keep]), "upload:tenth.csv")
    for beta in (0.5, 1.0, 2.0, 4.0, 8.0)[:RUNS]:
        train_tiny(at, epochs=1, beta=beta)
    at.switch_page("app_pages/runs.py").run()
    every = [r.id for r in ws.runs]
    by_prefix(at.multiselect, "runs_compare").set_value(every).run()
    assert not at.exception, at.exception

    curves = chart(at, "runs_curves")
    train = [t for t in curves["data"] if not t["name"].endswith("(validation)")]
    assert {t["name"] for t in train} == {f"run {r.number}" for r in ws.runs}
    colours = {t["name"]: t["line"]["color"] for t in train}
    assert len(set(colours.values())) == RUNS  # each run its own colour
    for r in ws.runs:  # the run's own per-epoch KL, point for point
        kl = [e.kl for e in r.events if e.kind == "epoch" and e.phase == "train"]
        drawn = [t for t in train if t["name"] == f"run {r.number}" and t["xaxis"] == "x2"]
        assert drawn and drawn[0]["y"] == pytest.approx(kl)

    maps = [spec(c) for c in at.get("plotly_chart") if "-runs_map_" in c.proto.id]
    assert [m["layout"]["title"]["text"] for m in maps] == [f"Run {r.number}: latent means" for r in ws.runs]
    rows = [m.value for m in at.markdown if m.value.startswith("**") and m.value.endswith("**")]
    assert {f"**run {r.number}**" for r in ws.runs} <= set(rows) and "**original**" in rows
    assert not at.warning  # one data set, one loss: one chart, nothing to warn about
    assert at.get("download_button")[-1].label == "Download these reconstructions (PNG)"


def test_the_near_zero_line_is_labelled_only_where_the_bars_leave_room():
    low = compare.kl_bars(np.array([0.2, 0.01]), np.array([True, False]))
    assert [a.text for a in low.layout.annotations] == ["~0 below 0.05 nats"]
    tall = compare.kl_bars(np.array([0.5, 0.01]), np.array([True, False]))
    assert list(tall.layout.annotations) == []  # no label at all (not plotly's placeholder "new text")


def test_runs_that_read_the_same_but_for_the_name_get_what_tells_them_apart():
    from pathlib import Path

    from vae_core.store_index import RunEntry

    def entry(name, data, **changes):
        settings = {"input_shape": [64, 3], "arch": "conv1d", "beta": 1.0, "latent_dim": 8, "loss": "mse",
                    "lr": 0.002, "epochs": 20, **changes}
        return RunEntry(id=name.replace(" ", ""), path=Path("."), owner=None, status="finished", name=name, data=data,
                        settings=settings)

    runs = [entry("run 1", "walk.csv"), entry("run 2", "walk.csv", lr=0.01), entry("run 3", "walk.csv", lr=0.01,
                                                                                     epochs=5),
            entry("run 4", "mnist", input_shape=[1, 28, 28], arch="mlp", loss="bce")]
    labels = compare.run_labels(runs)
    assert labels["run1"] == "run 1: walk.csv (3 ch), conv1d, β=1, z=8, mse · lr 0.002, epochs 20"
    assert labels["run2"] == "run 2: walk.csv (3 ch), conv1d, β=1, z=8, mse · lr 0.01, epochs 20"
    assert labels["run3"] == "run 3: walk.csv (3 ch), conv1d, β=1, z=8, mse · lr 0.01, epochs 5"
    assert labels["run4"] == "run 4: mnist, mlp, β=1, z=8, bce"  # nothing to tell apart: as it was


@pytest.mark.slow
def test_nats_of_other_data_or_losses_are_drawn_apart_and_said_not_to_compare():
    at = open_app()
    train_tiny(at, epochs=1)  # run 1: MNIST, Bernoulli
    train_tiny(at, epochs=1, loss="mse")  # run 2: MNIST, Gaussian
    at.switch_page("app_pages/data.py").run()
    at.get("button_group")[0].set_value("bleeding").run()
    ws = train_tiny(at, epochs=1)  # run 3: a sensor recording, Gaussian
    at.switch_page("app_pages/runs.py").run()
    by_prefix(at.multiselect, "runs_compare").set_value([r.id for r in ws.runs]).run()
    assert not at.exception, at.exception
    warning = " ".join(w.value for w in at.warning)
    assert ("These runs' nats do not compare: run 1 on mnist, bce loss; run 2 on mnist, mse loss; run 3 on "
            "bleeding, mse loss.") in warning
    for key, run in (("runs_curves", ws.runs[0]), ("runs_curves_1", ws.runs[1]), ("runs_curves_2", ws.runs[2])):
        drawn = chart(at, key)
        assert {t["name"] for t in drawn["data"]} <= {f"run {run.number}", f"run {run.number} (validation)"}
        assert drawn["layout"]["title"]["text"].endswith(compare.scored_on(run))
