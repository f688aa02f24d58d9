"""Lesson 5: choosing the loss for sensor data. Squared error (MSE), absolute error (MAE) and Huber, trained on
a real physiological recording whose training part has a few glitches, and what each does to the
reconstructions and to the anomaly scores.

The glitches are added here, in a documented and seeded way: InternalBleeding16's training part (steps 0-999,
anomaly-free in the UCR archive) gets SPIKES single-step spikes of +-SPIKE_SIZE standard deviations (the
recording is z-scored on its training part, so one unit is one standard deviation) at steps drawn with
numpy's default_rng(SPIKE_SEED). Validation and test parts are left as they are; the test part holds the
recording's real labelled anomaly.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import plotly.graph_objects as go

from vae_core import analysis
from vae_core.dataset import Dataset
from vae_core.run import Run

from ..components import charts, compare
from ..components.charts import PALETTE, _layout
from ..lesson_titles import TITLES
from .common import Lesson, Plot, Step, Text, pct

LOSSES = ("mse", "mae", "huber")
SHORT = {"mse": "squared error (MSE)", "mae": "absolute error (MAE)", "huber": "Huber"}
SPIKES = 5
SPIKE_SIZE = 10.0  # standard deviations of the training part
SPIKE_SEED = 0


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Glitches:
    steps: np.ndarray  # (SPIKES,) time steps of the spikes, sorted
    heights: np.ndarray  # (SPIKES,) +-SPIKE_SIZE


def glitches(data: Dataset) -> Glitches:
    """Where the spikes go: seeded steps inside the training part, at least one window away from its end."""
    rng = np.random.default_rng(SPIKE_SEED)
    window, end = data.input_shape[0], data.split_starts[0]
    steps = np.sort(rng.choice(np.arange(window, end - window), SPIKES, replace=False))
    return Glitches(steps, rng.choice([-1.0, 1.0], SPIKES) * SPIKE_SIZE)


def with_glitches(data: Dataset) -> Dataset:
    """The recording with the spikes added to its (one-channel) series and to every window that holds them."""
    g = glitches(data)
    series = data.series.copy()
    series[g.steps, 0] += g.heights
    window = data.input_shape[0]
    x = np.stack([series[s:s + window] for s in data.window_starts]).astype(np.float32)
    note = (f"{SPIKES} spikes of ±{SPIKE_SIZE:g} standard deviations added to the training part at steps "
            f"{', '.join(str(int(s)) for s in g.steps)} (numpy default_rng({SPIKE_SEED})) by lesson 5")
    return replace(data, name=f"{data.name} + {SPIKES} spikes", x=x, series=series, notes=(*data.notes, note))


def clean_series(data: Dataset) -> np.ndarray:
    g = glitches(data)
    series = data.series.copy()
    series[g.steps, 0] -= g.heights
    return series


def glitched_windows(data: Dataset) -> np.ndarray:
    """Indices of the windows that hold a spike."""
    window, g = data.input_shape[0], glitches(data)
    starts = data.window_starts
    return np.flatnonzero([any(s <= p < s + window for p in g.steps) for s in starts])


@dataclass(frozen=True)
class Effect:
    """What one loss did, in the data's own units (standard deviations), so losses can be compared."""

    reproduced: float  # mean share of a spike's height the reconstruction copies (0 ignores, 1 copies it)
    stray: float  # mean |reconstruction - clean signal| over the glitched windows
    typical: float  # mean |reconstruction - input| over the normal test windows
    auc: float | None
    ap: float | None


def effect(run: Run) -> Effect:
    def compute():
        data = run.data
        window, g = data.input_shape[0], glitches(data)
        clean = clean_series(data)
        glitched = glitched_windows(data)
        recon = analysis.reconstruct(run.model, data.x[glitched])
        clean_windows = np.stack([clean[s:s + window] for s in data.window_starts[glitched]])
        shares = []
        for p, h in zip(g.steps, g.heights, strict=True):
            # the window in which the spike sits most centrally
            k = min(range(len(glitched)), key=lambda j: abs(p - data.window_starts[glitched[j]] - window / 2))
            t = int(p - data.window_starts[glitched[k]])
            shares.append((recon[k, t, 0] - clean[p, 0]) / h)
        test = data.indices(compare.eval_part(data))
        normal = test[data.y[test] == 0] if data.y is not None else test
        typical = float(np.abs(analysis.reconstruct(run.model, data.x[normal]) - data.x[normal]).mean())
        return Effect(float(np.mean(shares)), float(np.abs(recon - clean_windows).mean()), typical,
                      run.summary.get("anomaly_auc"), run.summary.get("anomaly_ap"))
    return run.memo.get(("lesson", "loss_effect"), compute)


def ordered(runs: list[Run]) -> list[Run]:
    return sorted(runs, key=lambda r: LOSSES.index(r.model.cfg.loss) if r.model.cfg.loss in LOSSES else 99)


def story(runs: list[Run]) -> list:
    runs = ordered(runs)
    data = runs[0].data
    g = glitches(data)
    glitched = glitched_windows(data)
    n_train = len(data.indices("train"))
    anomaly = np.flatnonzero(data.series_anomaly) if data.series_anomaly is not None else np.array([])
    where = f" (steps {anomaly.min()}–{anomaly.max()})" if len(anomaly) else ""
    out = [Text(
        f"The training part got {SPIKES} spikes of ±{SPIKE_SIZE:g} standard deviations at seeded random steps "
        f"({', '.join(str(int(s)) for s in g.steps)}); they touch {len(glitched)} of its {n_train} windows. The "
        f"validation and test parts are untouched, and the test part holds the recording's real labelled "
        f"anomaly{where}.")]
    effects = {r.model.cfg.loss: effect(r) for r in runs}
    lines = []
    for r in runs:
        e = effects[r.model.cfg.loss]
        auc = f"; anomaly ROC-AUC {e.auc:.3f}" if e.auc is not None else ""
        lines.append(f"- **{SHORT.get(r.model.cfg.loss, r.model.cfg.loss)}**: copied {pct(e.reproduced)} of each "
                     f"spike's height; reconstructions of the glitched windows stray {e.stray:.2f} sd from the clean "
                     f"signal; typical error on normal test windows {e.typical:.2f} sd{auc}.")
    out.append(Text("In standard deviations of the signal:\n" + "\n".join(lines)))
    chaser = max(runs, key=lambda r: effects[r.model.cfg.loss].stray)
    calm = min(runs, key=lambda r: effects[r.model.cfg.loss].stray)
    out.append(Text(
        f"**{cap(SHORT[chaser.model.cfg.loss])}** bent its reconstructions furthest towards the spikes "
        f"({effects[chaser.model.cfg.loss].stray:.2f} sd from the clean signal), **{SHORT[calm.model.cfg.loss]}** "
        f"least ({effects[calm.model.cfg.loss].stray:.2f} sd). A squared error charges a {SPIKE_SIZE:g}-sd miss "
        f"{SPIKE_SIZE ** 2:g} times a 1-sd miss, an absolute error only {SPIKE_SIZE:g} times, so a model trained "
        "on squared error pays to chase glitches and one trained on absolute error can afford to ignore them"
        + ("." if chaser.model.cfg.loss == "mse" else
           f"; this run does not show that, so the models may still be far from fitting the signal at all (they "
           f"trained {chaser.summary['epochs']} epochs): train longer and compare again.")))
    scored = [r for r in runs if effects[r.model.cfg.loss].auc is not None]
    if scored:
        ranked = sorted(scored, key=lambda r: -effects[r.model.cfg.loss].auc)
        best = ranked[0]
        ranking = ", then ".join(f"{SHORT[r.model.cfg.loss]} ({effects[r.model.cfg.loss].auc:.3f})" for r in ranked)
        why = ("Squared errors make big misses stand out, which helps a detector even when it hurts the fit."
               if best.model.cfg.loss == "mse" else
               "Trained without chasing glitches, it rebuilds normal shapes well, so the real anomaly stands out.")
        out.append(Text(f"As an anomaly detector on the real labelled anomaly (ROC-AUC, higher is better): "
                        f"{ranking}. {why} The loss you train with and the score you flag with are two choices."))
    units = ", ".join(f"{r.summary['recon']:.1f} ({SHORT[r.model.cfg.loss]})" for r in runs)
    out.append(Text(f"Each loss reports its reconstruction term in its own units ({units} nats): they are different "
                    "likelihoods, so these numbers cannot be compared with each other, hence the standard deviations "
                    "above."))
    return out


def glitch_figure(runs: list[Run]) -> go.Figure:
    """The most central spike's window: input with the spike, the clean signal, each loss's reconstruction."""
    runs = ordered(runs)
    data = runs[0].data
    window, g = data.input_shape[0], glitches(data)
    glitched = glitched_windows(data)
    p = int(g.steps[0])
    k = int(min(glitched, key=lambda i: abs(p - data.window_starts[i] - window / 2)))
    start = int(data.window_starts[k])
    clean = clean_series(data)[start:start + window, 0]
    t = np.arange(start, start + window)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=t, y=data.x[k, :, 0], mode="lines", name="input (with the spike)",
                             line=dict(color="#999", width=1.5)))
    fig.add_trace(go.Scatter(x=t, y=clean, mode="lines", name="clean signal", line=dict(color="black", dash="dot")))
    for i, r in enumerate(runs):
        recon = r.memo.get(("lesson", "glitch_recon", k), lambda r=r: analysis.reconstruct(r.model, data.x[[k]])[0])
        fig.add_trace(go.Scatter(x=t, y=recon[:, 0], mode="lines", name=SHORT[r.model.cfg.loss],
                                 line=dict(color=PALETTE[i], width=2)))
    fig.update_xaxes(title_text="time step")
    fig.update_yaxes(title_text="signal (standard deviations)")
    fig = _layout(fig, f"A training window with a spike at step {p}: what each loss rebuilds", 420)
    return compare.legend_below(fig)


def roc_figure(runs: list[Run]) -> go.Figure | None:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line=dict(color="#aaa", dash="dash")))
    drawn = False
    for i, r in enumerate(ordered(runs)):
        data = r.data
        if data.y is None:
            continue
        m = r.anomaly_metrics(compare.eval_part(data))
        if m["auc"] is None:
            continue
        drawn = True
        fig.add_trace(go.Scatter(x=m["fpr"], y=m["tpr"], mode="lines", line_shape="hv", line=dict(color=PALETTE[i]),
                                 name=f"{SHORT[r.model.cfg.loss]} (AUC {m['auc']:.3f})"))
    fig.update_xaxes(title_text="false positive rate", range=[-0.02, 1.02])
    fig.update_yaxes(title_text="true positive rate", range=[-0.02, 1.02])
    return compare.legend_below(_layout(fig, "ROC curves on the test part, one per loss", 420)) if drawn else None


def figures(runs: list[Run]) -> list:
    data = ordered(runs)[0].data
    end = data.split_starts[1] if data.split_starts else len(data.series)
    series = charts.sensor_lines(data.series[:end], compare.channel_names(data),
                                 "Training and validation parts, with the added spikes", height=320)
    blocks = [Plot(series, "The recording as the models saw it in training: the tall needles are the spikes."),
              Plot(glitch_figure(runs), "Grey: the input with its spike; dotted: the clean signal; coloured: "
                                        "each model's reconstruction.")]
    roc = roc_figure(runs)
    if roc is not None:
        blocks.append(Plot(roc, "Each model's own reconstruction error as the anomaly score."))
    return blocks


LESSON = Lesson(
    number=5, title=TITLES[5],
    summary="Squared error, absolute error and Huber on a real physiological recording with a few glitches: "
            "what each does to the reconstructions and to the anomaly scores.",
    data="bleeding", base={"arch": "conv1d", "latent_dim": 8, "epochs": 30, "beta": 1.0},
    steps=tuple(Step(cap(SHORT[loss]), {"loss": loss}) for loss in LOSSES),
    look_for=(
        f"The training part has {SPIKES} glitches: single steps {SPIKE_SIZE:g} standard deviations off. Real "
        "sensors do this (loose contacts, dropped bits).",
        "Squared error punishes a big miss quadratically: does its reconstruction bend towards the spikes?",
        "Absolute error and Huber grow only linearly for big misses: do they ignore the spikes and keep the clean "
        "shape?",
        "Then the anomaly scores: which model ranks the recording's real anomaly highest?",
    ),
    story=story, figures=figures, prepare=with_glitches, minutes="about 30 seconds",
)
