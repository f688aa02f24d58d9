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


def test_runs_that_read_the_same_but_for_the_number_get_what_tells_them_apart():
    from vae_core.config import configs_for
    from vae_core.data import SAMPLE_DATA_DIR, bundled_sensor_options, load_bundled, load_upload
    from vae_core.runs import new_run

    DAPHNET = SAMPLE_DATA_DIR / "daphnet_s06r02.csv.gz"

    base = bundled_sensor_options("daphnet")
    runs = []
    for number, channels in enumerate((("ankle_horiz_fwd", "ankle_vert", "ankle_horiz_lateral"),
                                       ("trunk_horiz_fwd", "trunk_vert", "trunk_horiz_lateral")), 1):
        data = load_upload([(DAPHNET.name, DAPHNET.read_bytes())], replace(base, channels=channels))
        runs.append(new_run(data, *configs_for(data.kind, data.input_shape, {})))
        runs[-1].number = number
    mnist = load_bundled("mnist")
    runs.append(new_run(mnist, *configs_for("image", mnist.input_shape, {})))
    runs[-1].number = 3
    labels = compare.run_labels(runs)
    assert runs[0].label.split(": ", 1)[1] == runs[1].label.split(": ", 1)[1]  # '3 ch' both
    assert labels[runs[0].id] == runs[0].label + " · channels ankle_horiz_fwd, ankle_…"
    assert labels[runs[1].id] == runs[1].label + " · channels trunk_horiz_fwd, trunk_…"
    assert labels[runs[2].id] == runs[2].label  # nothing to tell apart: as it was


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
