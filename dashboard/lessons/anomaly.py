"""Lesson 6: anomaly detection. Train on the normal first part of a real physiological recording, score every time
step by how badly the model rebuilds it, set a threshold on normal data, compare the VAE with simple baselines on the
same steps, and see why point-adjusted F1 flatters even a random score."""
from __future__ import annotations

import importlib.resources
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from vae_core import anomaly as A
from vae_core.anomaly.workbench import Outcome, Scored, apply_rule, score_all
from vae_core.data import SensorOptions, load_upload
from vae_core.run import Run

from ..components import anomaly_charts
from ..components.anomaly_events import signals
from ..components.anomaly_task import memo_key
from ..components.charts import PALETTE, _layout
from ..components.time_axis import time_axis
from ..lesson_titles import TITLES
from .common import Lesson, Plot, Row, Step, Text

PERCENTILE = 99.0
RULE = A.ThresholdRule("percentile", percentile=PERCENTILE)
LONG_EVENTS = "ecg-diff-count-3_TEST.csv"  # aeon's labelled ECG test series: three anomalies of 100 steps each
SHORT = {"vae": "VAE", "random": "random", "zscore": "rolling z-score", "pca": "PCA", "iforest": "Isolation Forest"}


def scored(run: Run) -> Scored:
    """The run's recording scored by the VAE and the baselines (shared with the Anomalies page's memo)."""
    return run.memo.get(memo_key(run), lambda: score_all(run.model, run.data))


def outcome(run: Run) -> Outcome:
    return run.memo.get(("anomaly_outcome", id(run.data.series), RULE), lambda: apply_rule(scored(run), RULE))


@dataclass(frozen=True)
class Trap:
    """The random score on a recording, measured three ways."""

    name: str
    event_steps: int  # the longest labelled event
    point_adjusted_f1: float | None
    event_f1: float | None
    vus_pr: float | None


def random_trap(name: str, labels: np.ndarray, parts: np.ndarray, window: int) -> Trap:
    """The seeded random score at the lesson's threshold: point-adjusted F1, event F1 and VUS-PR."""
    scores = A.random_scores(len(labels))
    threshold = RULE.threshold(A.validation_scores(scores, parts, labels))
    found = A.alarm_metrics(scores, labels, threshold) | A.vus_metrics(scores, labels, window)
    spans = A.labelled_spans(labels)
    return Trap(name, int((spans[:, 1] - spans[:, 0] + 1).max()), found["point_adjusted_f1"], found["event_f1"],
                found["vus_pr"])


def long_event_trap() -> Trap:
    """The same random score on a recording with long labelled events (aeon's bundled ECG test series)."""
    blob = (importlib.resources.files("aeon") / "datasets" / "data" / "UnitTest" / LONG_EVENTS).read_bytes()
    data = load_upload([(LONG_EVENTS, blob)], SensorOptions(window=64, stride=8, train_range=(0, 1500)))
    return random_trap("aeon's ECG test series (3 events of 100 steps)", data.series_anomaly, data.step_parts(), 64)


def traps(run: Run) -> tuple[Trap, Trap]:
    """The random score on the run's recording and on one with long events (kept with the run's results)."""
    s = scored(run)
    here = run.memo.get(("lesson", "trap"), lambda: random_trap(
        f"{run.data.name} (its labelled event: {int(s.scores.labels.sum())} steps)", s.scores.labels, s.scores.parts,
        s.window))
    return here, run.memo.get(("lesson", "trap_long"), long_event_trap)


def after(runs: list[Run]) -> None:
    """Slow parts, in the lesson's background thread: every step scored by the VAE and the baselines."""
    outcome(runs[0])
    traps(runs[0])


def _f(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def story(runs: list[Run]) -> list:
    run = runs[0]
    data, s, o = run.data, scored(run), outcome(run)
    events = A.labelled_spans(s.scores.labels)
    first_unseen = data.split_starts[0] if data.split_starts else None
    out = [Text(
        f"The model trained on the {len(data.indices('train'))} windows of the "
        + (f"first {first_unseen:,} steps" if first_unseen else "training part")
        + ", which hold no anomaly. Every time step then gets a score: the mean reconstruction error of the windows "
          "that cover it. The worse the model rebuilds a stretch, the less it looks like what it learned.")]
    test = o.alarms.get("vae", {}).get("test") or o.alarms["vae"]["all"]
    delay = o.replay.event_delays[0] if o.replay and len(o.replay.event_delays) else None
    when = f"{delay} steps after it begins" if delay is not None and delay >= 0 else \
        f"{-delay if delay is not None else 0} steps before its labelled start"
    found = (f"it is found: streamed live, the alarm would fire {when} (a step's score is final only once the last "
             "window covering it has arrived)" if delay is not None else "it is missed: no alarm overlaps it")
    many = len(events) != 1
    out.append(Text(
        f"The threshold is the {PERCENTILE:g}th percentile of the validation steps' scores: "
        f"**{o.thresholds['vae']:.3g} nats**. The recording has {len(events)} labelled anomal{'ies' if many else 'y'} "
        f"({'the first ' if many else ''}steps {events[0][0]:,}–{events[0][1]:,}), and {'the first' if many else ''}"
        f"{' ' if many else ''}{found}. On the test part the VAE raises {test['alarms']} alarm "
        f"episode{'s' * (test['alarms'] != 1)}, {test['false_alarms']} of them false.",
        "success" if delay is not None and test["false_alarms"] <= 1 else "warning"))
    part = "test" if "test" in s.parts else "all"
    vus = {m: s.ranking[m][part]["vus_pr"] for m in s.methods}
    ranked = sorted((m for m in vus if vus[m] is not None), key=lambda m: -vus[m])
    place = ranked.index("vae") + 1 if "vae" in ranked else None
    out.append(Text(
        f"**Against simple baselines** on the {'test part' if part == 'test' else 'whole recording'} (the same "
        f"{int(s.parts[part].sum()):,} steps for every method), VUS-PR, which needs no threshold and credits "
        "detections just beside a labelled range: " + ", ".join(f"{SHORT[m]} {vus[m]:.3f}" for m in ranked) + ". "
        + ("The VAE ranks **first**." if place == 1 else f"The VAE ranks **{place} of {len(ranked)}**: "
           f"{SHORT[ranked[0]]} does better on this recording, so a VAE is not automatically the best detector."
           if place else "")))
    here, long = traps(run)
    lucky = (here.point_adjusted_f1 or 0) > 0.5
    out.append(Text(
        "**The point-adjust trap.** Point-adjusted F1 counts a whole labelled event as found when any one of its "
        f"steps is flagged. On {data.name} the random score gets {_f(here.point_adjusted_f1, 2)} "
        + (f"(its longest labelled event is {here.event_steps} steps, so a random flag seldom lands in it). "
           if not lucky else f"against a VUS-PR of {_f(here.vus_pr)}. ")
        + f"On {long.name}, the same random score reaches **point-adjusted F1 {_f(long.point_adjusted_f1, 2)}** "
        f"while its event F1 is {_f(long.event_f1, 2)} and its VUS-PR {_f(long.vus_pr)}: "
        + ("a number that looks good for a detector that knows nothing. " if (long.point_adjusted_f1 or 0) > 0.5
           else "point adjusting lifts it far above its honest figures. ")
        + "Always read a point-adjusted figure beside the random score's.", "warning"))
    return out


def _bars(values: dict[str, dict[str, float | None]], title: str, y_title: str) -> go.Figure:
    """Grouped bars: one group per category (outer keys), one bar per series (inner keys)."""
    fig = go.Figure()
    series = list(next(iter(values.values())))
    for i, name in enumerate(series):
        fig.add_trace(go.Bar(x=list(values), y=[v[name] or 0 for v in values.values()], name=name,
                             marker_color=PALETTE[i % len(PALETTE)],
                             text=[_f(v[name]) for v in values.values()], textposition="outside"))
    fig.update_yaxes(title_text=y_title, range=[0, 1.12])
    _layout(fig, title, 360)
    return fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.15, xanchor="left", x=0),
                             margin=dict(b=70), barmode="group")


def figures(runs: list[Run]) -> list:
    run = runs[0]
    data, s, o = run.data, scored(run), outcome(run)
    axis = time_axis(data)
    blocks = [Plot(anomaly_charts.score_timeline(data, axis, s.scores.total, o.thresholds["vae"], o.events),
                   "Every time step's score; shaded: the train, validation and test parts; red: the labelled anomaly; "
                   "orange: the events above the threshold (dashed).")]
    part = "test" if "test" in s.parts else "all"
    compared = {SHORT[m]: {"VUS-PR": s.ranking[m][part]["vus_pr"],
                           "event F1": (o.alarms.get(m, {}).get(part) or {}).get("event_f1")} for m in s.methods}
    here, long = traps(run)
    trap = {t.name.split(" (")[0]: {"point-adjusted F1": t.point_adjusted_f1, "event F1": t.event_f1,
                                    "VUS-PR": t.vus_pr} for t in (here, long)}
    blocks.append(Row([
        Plot(_bars(compared, f"The VAE beside the baselines ({'test part' if part == 'test' else 'whole recording'})",
                   "score (1 is perfect)"),
             "VUS-PR ranks every step without a threshold; event F1 uses each method's own 99th-percentile "
             "threshold."),
        Plot(_bars(trap, "The random score, three ways", "score (1 is perfect)"),
             "Point-adjusted F1 looks good for a random score where events are long; VUS-PR does not.")]))
    labelled = A.labelled_spans(s.scores.labels)
    hit = [e for e in o.events if e.start <= labelled[0][1] and e.end >= labelled[0][0]] if len(labelled) else []
    if hit:
        first, original, recon = signals(run, hit[0])
        blocks.append(Plot(anomaly_charts.event_signals(axis, first, original, recon, list(data.channels), hit[0],
                                                        "value (file units)"),
                           "The detected event over the labelled anomaly: the recording (solid) and what the model "
                           "rebuilds (dashed)."))
    return blocks


LESSON = Lesson(
    number=6, title=TITLES[6],
    summary="Train on normal windows of a real recording, score every time step, compare with simple baselines, and "
            "see the point-adjust trap.",
    data="bleeding", base={"arch": "conv1d", "latent_dim": 8, "loss": "mse", "epochs": 30, "beta": 1.0},
    steps=(Step("trained on normal windows"),),
    look_for=(
        "The model only ever sees normal windows: the first 1,000 steps of the recording, which hold no anomaly.",
        "The score over time: low where the signal looks like training, a peak where it does not.",
        "The threshold comes from validation steps (normal, unseen): a 99th percentile means about 1 in 100 normal "
        "steps is above it.",
        "Whether the VAE beats a rolling z-score, PCA and an Isolation Forest on the same steps, and a random score.",
        "Why a point-adjusted F1 must always be read beside the random score's.",
    ),
    story=story, figures=figures, after=after, minutes="about 30 seconds",
)
