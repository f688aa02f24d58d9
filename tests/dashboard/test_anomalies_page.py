"""The Anomalies page headless, on real runs: the whole recording scored in the background, threshold controls that
change events and metrics at once, tables equal to the engine's figures, sentences that agree with their numbers."""
from __future__ import annotations

import re
import time

import numpy as np
import pytest
from app_session import metrics, open_app, spec, train_tiny, workspace
from sensor_filemakers import INJECTED, injected_recording

from dashboard.components.anomaly_tables import HEADERS
from dashboard.components.anomaly_task import memo_key
from vae_core import anomaly as A
from vae_core.anomaly.workbench import METHOD_NAMES, apply_rule
from vae_core.config import TrainConfig, default_model_config
from vae_core.data import load_bundled
from vae_core.runs import new_run

PAGE = "app_pages/anomalies.py"


def chart(at, key: str) -> dict:
    """The plotly chart drawn with `key` (keyed elements carry the key in their id)."""
    return spec(next(c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")))


# st.dataframe keys do not reach AppTest's elements: each table is known by a column only it has (and its place)
TABLES = {"anomaly_metrics_test": ("measure", 0), "anomaly_metrics_all": ("measure", 1),
          "anomaly_events_table": ("top channels", 0), "anomaly_point_adjusted": ("point-adjusted F1", 0),
          "anomaly_replay_delays": ("detection delay", 0)}


def table(at, key: str):
    column, place = TABLES[key]
    found = [d.value for d in at.dataframe if column in d.value.columns][place]
    return found.set_index("measure") if column == "measure" else found


def vae_column(shown) -> dict:
    return shown["VAE"].to_dict()


def scored_page(at, run, timeout: float = 300):
    """Open the page, wait for the background scoring, and draw the page again with its result."""
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    deadline = time.time() + timeout
    while run.memo.peek(memo_key(run)) is None:
        assert time.time() < deadline, "scoring did not finish in time"
        time.sleep(0.2)
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return run.memo.peek(memo_key(run))


@pytest.fixture(scope="module")
def bleeding_run():
    """A real two-epoch run on InternalBleeding16, chosen on the Data page like a visitor would, then scored."""
    at = open_app("app_pages/data.py")
    at.get("button_group")[0].set_value("bleeding").run()
    ws = train_tiny(at, epochs=2, beta=1.0)
    run = ws.runs[-1]
    assert run.data.name == "bleeding" and run.data.label_kind == "anomaly"
    scored = scored_page(at, run)
    return at, run, scored


def test_without_a_run_the_page_points_to_training():
    at = open_app(PAGE)
    assert "No trained model yet" in at.info[0].value
    assert at.get("page_link")[0].value == "Go to Train"


def test_an_image_run_is_sent_to_sensor_data():
    at = open_app()
    ws = workspace(at)
    mnist = ws.data
    ws.add_run(new_run(mnist, default_model_config("image", mnist.input_shape), TrainConfig()))
    at.switch_page(PAGE).run()
    assert not at.exception
    assert "This page is for sensor recordings" in at.info[0].value and "InternalBleeding16" in at.info[0].value
    assert at.get("page_link")[0].value == "Choose sensor data"
    assert not at.metric and not at.slider


@pytest.mark.slow
def test_every_step_is_scored_and_the_tables_equal_the_engine(bleeding_run):
    at, run, scored = bleeding_run
    data = run.data
    vae = A.score_recording(run.model, data)  # the same model, scored again by the engine itself
    np.testing.assert_allclose(scored.scores.total, vae.total)
    timeline = chart(at, "anomaly_timeline")
    line = next(t for t in timeline["data"] if t["name"] == "step score")
    assert len(line["x"]) == 2000 and max(line["y"]) == pytest.approx(np.nanmax(vae.total))  # bins keep the peak
    names = {t["name"] for t in timeline["data"]}
    assert {"train part", "validation part", "test part", "labelled anomaly", "threshold"} <= names
    assert not [a for a in timeline["layout"].get("annotations", []) if "anomaly" in a.get("text", "")]
    test = data.step_parts() == 2
    want = A.ranking_metrics(vae.total[test], data.series_anomaly[test], 64)
    shown = table(at, "anomaly_metrics_test")
    row = vae_column(shown)
    assert row["VUS-PR"] == f"{want['vus_pr']:.3f}" and row["point ROC-AUC"] == f"{want['point_auc']:.3f}"
    assert list(shown.columns) == [HEADERS[m] for m in ("vae", *A.BASELINES)]
    for method in A.BASELINES:  # every baseline's figures are the engine's on the same steps
        assert shown.loc["VUS-ROC", HEADERS[method]] == f"{scored.ranking[method]['test']['vus_roc']:.3f}"
    whole = table(at, "anomaly_metrics_all")
    assert whole.loc["VUS-PR", "VAE"] == f"{scored.ranking['vae']['all']['vus_pr']:.3f}"
    titles = [m.value for m in at.markdown if m.value.startswith("**Test part") or m.value.startswith("**Whole")]
    assert titles == ["**Test part: 6,301 steps never trained on (from step 1,200), 1 labelled event**",
                      "**Whole recording: all 7,501 steps, 1 labelled event (includes the steps the model trained "
                      "on)**"]


@pytest.mark.slow
def test_moving_the_threshold_changes_events_and_metrics_at_once(bleeding_run):
    at, run, scored = bleeding_run
    seen = {}
    for pct in (99.0, 90.0):
        at.slider(key="anomaly_percentile").set_value(pct).run()
        rule = A.ThresholdRule(percentile=pct)
        want = apply_rule(scored, rule)
        shown = metrics(at)
        assert shown["Threshold"] == f"{want.thresholds['vae']:.3g} nats"
        assert shown["Events (whole recording)"] == str(len(want.events))
        events = table(at, "anomaly_events_table")
        assert len(events) == len(want.events) and list(events["steps"]) == [e.length for e in want.events]
        row = vae_column(table(at, "anomaly_metrics_test"))
        alarms = want.alarms["vae"]["test"]
        assert row["events found"] == f"{alarms['events_detected']} of {alarms['events_total']}"
        assert row["false alarms"] == str(alarms["false_alarms"])
        seen[pct] = len(want.events)
    assert seen[90.0] > seen[99.0]
    at.number_input(key="anomaly_merge_gap").set_value(200).run()  # merging: fewer, longer events
    merged = apply_rule(scored, A.ThresholdRule(percentile=90.0, merge_gap=200))
    assert metrics(at)["Events (whole recording)"] == str(len(merged.events)) and len(merged.events) < seen[90.0]
    at.number_input(key="anomaly_merge_gap").set_value(0).run()
    at.slider(key="anomaly_percentile").set_value(99.0).run()


@pytest.mark.slow
def test_pot_and_budget_thresholds_come_from_the_engine(bleeding_run):
    at, run, scored = bleeding_run
    at.get("button_group")[0].set_value("pot").run()
    assert metrics(at)["Threshold"] == f"{apply_rule(scored, A.ThresholdRule('pot')).thresholds['vae']:.3g} nats"
    at.select_slider(key="anomaly_risk").set_value(3e-2).run()
    riskier = apply_rule(scored, A.ThresholdRule("pot", risk=3e-2)).thresholds["vae"]
    assert metrics(at)["Threshold"] == f"{riskier:.3g} nats"
    at.select_slider(key="anomaly_risk").set_value(1e-3).run()
    at.get("button_group")[0].set_value("budget").run()
    budget = apply_rule(scored, A.ThresholdRule("budget"))
    assert metrics(at)["Threshold"] == f"{budget.thresholds['vae']:.3g} nats"
    at.get("button_group")[0].set_value("percentile").run()


@pytest.mark.slow
def test_sentences_agree_with_their_tables_and_point_adjust_comes_with_its_caveat(bleeding_run):
    at, run, scored = bleeding_run
    for part in ("test", "all"):
        shown = table(at, f"anomaly_metrics_{part}")
        vus = {METHOD_NAMES[m]: shown.loc["VUS-PR", HEADERS[m]] for m in ("vae", *A.BASELINES)}
        name = "the test part" if part == "test" else "the whole recording"
        texts = [m.value for m in at.markdown]
        at_index = next(i for i, t in enumerate(texts) if t.startswith(f"On {name} the VAE's VUS-PR"))
        sentence, events = texts[at_index], texts[at_index + 1]
        said = re.search(r"VUS-PR is \*\*([\d.]+)\*\*, (above|below|level with) the best baseline \((.+), ([\d.]+)\); "
                         r"the random score gets ([\d.]+)\.", sentence)
        assert said, sentence
        value, side, best, best_value, random = said.groups()
        assert value == vus[METHOD_NAMES["vae"]] and random == vus[METHOD_NAMES["random"]]
        baselines = {m: float(v) for m, v in vus.items() if m not in (METHOD_NAMES["vae"], METHOD_NAMES["random"])}
        assert best == max(baselines, key=baselines.get) and best_value == vus[best]
        assert side == ("above" if float(value) > float(best_value) else "below" if float(value) < float(best_value)
                        else "level with")
        vae = vae_column(shown)
        assert events.startswith("At this threshold the VAE raises ")
        assert f"finds {vae['events found']} labelled" in events
        raised = int(events.split(" raises ")[1].split()[0])
        assert f"with {vae['false alarms']} false alarm" in events and f"(event F1 {vae['event F1']})" in events
        assert int(vae["false alarms"]) + round(float(vae["event precision"]) * raised) == raised  # true + false
    caveat = next(w.value for w in at.warning if w.value.startswith("Caveat: point-adjusted F1"))
    pa = table(at, "anomaly_point_adjusted")
    random_row = pa[pa["method"] == HEADERS["random"]].iloc[0]
    assert f"random score's point-adjusted F1 is {random_row['point-adjusted F1']}" in caveat
    assert f"its VUS-PR is {random_row['VUS-PR']}" in caveat
    assert all("point-adjusted" not in m for m in table(at, "anomaly_metrics_test").index)  # never on its own


@pytest.mark.slow
def test_the_replay_fires_the_alarms_of_the_threshold_and_says_each_delay(bleeding_run):
    at, run, scored = bleeding_run
    outcome = apply_rule(scored, A.ThresholdRule())
    at.button(key="anomaly_replay_restart").click().run()
    replay = chart(at, "anomaly_replay_chart")
    assert not [t for t in replay["data"] if t["name"] == "alarm fired"]  # nothing has streamed yet
    at.session_state["anomaly_replay_cursor"] = len(run.data.series) - 1  # as if it had played to the end
    at.run()
    delays = table(at, "anomaly_replay_delays")
    first = outcome.replay.event_delays[0]
    assert delays.iloc[0]["detection delay"] == ("missed" if first is None else f"{first:,} steps")
    fired = next(t for t in chart(at, "anomaly_replay_chart")["data"] if t["name"] == "alarm fired")
    assert len(fired["x"]) == sum(a.fired_at > len(run.data.series) - 1 - 2000 for a in outcome.replay.alarms)


@pytest.mark.slow
def test_a_generated_recording_names_the_injected_channels_in_the_heat_map_and_events():
    at = open_app("app_pages/data.py")
    at.file_uploader[0].set_value(("injected.csv", injected_recording(), "text/csv")).run()
    ws = train_tiny(at, epochs=3, beta=1.0)
    run = ws.runs[-1]
    assert run.data.channels == ("a", "b", "c")  # the 'anomaly' column never reaches the model
    scored = scored_page(at, run)
    heat = chart(at, "anomaly_heatmap")["data"][0]
    assert heat["y"] == ["a", "b", "c"] and len(heat["z"]) == 3 * 600  # 3 channels x 600 columns (decoded flat)
    spike, channel = INJECTED["spike"]
    at.slider(key="anomaly_percentile").set_value(99.9).run()
    outcome = apply_rule(scored, A.ThresholdRule(percentile=99.9))
    hit = [e for e in outcome.events if e.start < spike.stop and e.end >= spike.start]
    assert hit, "the spike was not an event"
    events = table(at, "anomaly_events_table")
    row = events.iloc[list(outcome.events).index(hit[0])]
    assert row["top channels"].startswith(f"{hit[0].top_channels[0][0]} ") and row["labelled"].startswith("event ")
    at.get("button_group")[0].set_value("pot").run()
    at.select_slider(key="anomaly_risk").set_value(3e-2).run()  # above the tail's share: the engine says why
    assert any("risk must be between 0 and 0.02" in w.value for w in at.warning) and metrics(at)["Threshold"] == "–"


@pytest.mark.slow
def test_class_labelled_motions_get_a_box_plot_and_no_anomaly_scores():
    at = open_app()
    ws = workspace(at)
    ws.set_data(load_bundled("basicmotions"), "bundled:basicmotions")
    train_tiny(at, epochs=2, beta=1.0)
    at.switch_page(PAGE).run()
    assert not at.exception
    boxes = chart(at, "anomaly_by_class")
    assert sorted(t["name"] for t in boxes["data"]) == sorted(ws.data.label_names)
    assert sum(len(t["y"]) for t in boxes["data"]) == len(ws.data.x)
    assert any("no anomaly labels" in i.value for i in at.info)
    assert "Flagged test samples" in metrics(at)
