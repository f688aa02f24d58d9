"""Sweep page: a tiny real sweep in the background, its heat map, and opening a trial as a run."""
from __future__ import annotations

import json

import pytest
from app_session import open_app, workspace

SWEEP = "sweep"  # the page keeps its sweep under this key in ws.background

PAGE = "app_pages/sweep.py"


def start_sweep(at, betas, latents, epochs=1, timeout=180):
    pills(at, "sweep_betas").set_value(betas)
    pills(at, "sweep_latents").set_value(latents)
    at.slider(key="sweep_epochs").set_value(epochs)
    at.run()
    at.button(key="sweep_start").click().run()
    assert not at.exception, at.exception
    sweep = workspace(at).background[SWEEP]
    assert sweep.done.wait(timeout), "the sweep did not finish in time"
    at.run()
    assert not at.exception, at.exception
    return sweep


def pills(at, key: str):
    """The sweep's β, latent-size or loss pills (a button group)."""
    return next(g for g in at.get("button_group") if g.key == key)


def heatmaps(at) -> list[dict]:
    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return [f for f in figs if any(t.get("type") == "heatmap" for t in f["data"])]


def test_page_before_a_sweep_explains_itself():
    at = open_app(PAGE)
    assert at.title[0].value == "Sweep"
    assert any("Start sweep" in i.value for i in at.info)
    assert not heatmaps(at)
    pills(at, "sweep_betas").set_value([]).run()  # nothing to sweep: Start is off and says why
    assert at.button(key="sweep_start").disabled
    assert any("at least one value" in w.value for w in at.warning)


@pytest.mark.slow
def test_tiny_sweep_draws_a_heat_map_and_opens_a_trial():
    at = open_app(PAGE)
    at.session_state["train_settings"] = {"kind": "image", "arch": "mlp", "hidden": (32,)}  # small models
    sweep = start_sweep(at, betas=[0.5, 16.0], latents=[2])
    snap = sweep.snapshot()
    assert snap.status == "finished", snap.message
    assert [r["status"] for r in snap.rows] == ["finished", "finished"]
    assert {r["beta"] for r in snap.rows} == {0.5, 16.0} and {r["hidden"] for r in snap.rows} == {"32"}
    assert any("Sweep finished" in s.value for s in at.success)

    maps = heatmaps(at)
    assert len(maps) == 1  # one loss, one map
    heat = next(t for t in maps[0]["data"] if t["type"] == "heatmap")
    assert heat["x"] == ["2"] and heat["y"] == ["0.5", "16"]
    by_beta = {r["beta"]: r["test_neg_elbo"] for r in snap.rows}
    assert heat["z"] == [[pytest.approx(by_beta[0.5])], [pytest.approx(by_beta[16.0])]]
    cells = next(t for t in maps[0]["data"] if t["type"] == "scatter")
    assert sorted(cells["customdata"]) == sorted(r["key"] for r in snap.rows)  # what a click reports
    marked = [["collapsed" in t for t in line] for line in heat["text"]]  # "✕ collapsed" under the value
    assert marked == [[bool(r["collapsed"])] for r in sorted(snap.rows, key=lambda r: r["beta"])]
    assert len(maps[0]["layout"].get("shapes", [])) == sum(r["collapsed"] for r in snap.rows)  # and a dotted frame

    at.selectbox(key="sweep_metric").set_value("kl").run()  # colour by KL instead
    heat = next(t for t in heatmaps(at)[0]["data"] if t["type"] == "heatmap")
    assert heat["z"] == [[pytest.approx(r["kl"])] for r in sorted(snap.rows, key=lambda r: r["beta"])]

    # open the β=16 trial from the picker: it becomes a run of this workspace, selected for the other pages
    ws = workspace(at)
    assert not ws.runs
    target = next(r for r in snap.rows if r["beta"] == 16.0)
    picker = next(s for s in at.selectbox if (s.key or "").startswith("sweep_pick_"))
    picker.set_value(target["key"]).run()
    at.button(key="sweep_open").click().run()
    assert not at.exception, at.exception
    assert len(ws.runs) == 1 and ws.selected_run == ws.runs[0].id
    run = ws.runs[0]
    assert run.train_cfg.beta == 16.0 and run.model.cfg.latent_dim == 2 and run.model.cfg.hidden == (32,)
    assert run.summary["test_neg_elbo"] == pytest.approx(target["test_neg_elbo"])
    assert run.data is sweep.data
    at.button(key="sweep_open").click().run()  # opening it again selects the same run, no duplicate
    assert len(ws.runs) == 1


def test_too_many_trials_are_refused():
    at = open_app(PAGE)
    pills(at, "sweep_betas").set_value([0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0]).run()
    pills(at, "sweep_latents").set_value([1, 2, 4, 8]).run()
    assert at.button(key="sweep_start").disabled  # 28 > 24
    at.radio(key="sweep_search").set_value("random").run()
    assert not at.button(key="sweep_start").disabled
    assert "6** trials" in " ".join(c.value for c in at.caption)


@pytest.mark.slow
def test_a_sweep_waits_in_the_queue_when_the_server_is_busy():
    from dashboard.state import job_slots

    at = open_app(PAGE)
    at.session_state["train_settings"] = {"kind": "image", "arch": "mlp", "hidden": (16,)}
    slots = job_slots()  # the server-wide slots the page uses (one shared object per server)
    held = [slots.acquire(f"someone-else-{i}", lambda: False) for i in range(slots.limit)]
    assert all(held)
    try:
        pills(at, "sweep_betas").set_value([1.0])
        pills(at, "sweep_latents").set_value([2])
        at.slider(key="sweep_epochs").set_value(1)
        at.run()
        at.button(key="sweep_start").click().run()
        sweep = workspace(at).background[SWEEP]
        for _ in range(100):  # the thread reaches the queue quickly
            if sweep.snapshot().status == "queued":
                break
            sweep.done.wait(0.05)
        at.run()
        assert any("Waiting for a free training slot: number 1 in the queue" in i.value for i in at.info)
        assert not sweep.snapshot().rows
    finally:
        for _ in held:
            slots.release()
    assert sweep.done.wait(120)
    at.run()
    assert [r["status"] for r in sweep.snapshot().rows] == ["finished"]
    assert slots.running == 0  # the sweep gave its slot back
