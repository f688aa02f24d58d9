"""Figures, tables and small helpers for the Diagnostics, Anomalies and Runs pages.

Figures take arrays (vae_core's results) and return plotly figures; the helpers that call vae_core keep
their results in `run.memo`, which is cleared whenever the run is retrained.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from vae_core import analysis
from vae_core.checkpoint import run_to_zip
from vae_core.config import WIDGETS, to_dict
from vae_core.dataset import Dataset
from vae_core.run import STATUS_WORDS, Run, model_words, run_label
from vae_core.settings import format_value
from vae_core.store_index import RunEntry

from .. import links
from . import charts
from .charts import PALETTE, TERM_COLOURS, _layout, anomaly_ranges

BETAS = WIDGETS["beta"].widget.grid

MAP_POINTS = 1500  # latent means per comparison map: enough to see clusters, quick to draw
RECON_COUNT = 10  # test images per row in the comparison mosaic


def legend_below(fig: go.Figure, y: float = -0.18) -> go.Figure:
    """Move the legend under the plot, where it cannot cover titles or annotations (narrow columns, two rows)."""
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=y, xanchor="left", x=0, title_text=""),
                      margin=dict(b=70))
    return fig


# ---- runs ---------------------------------------------------------------------------------------------
def eval_part(data: Dataset) -> str:
    """The part results are measured on: the test part, or everything when there is none."""
    return "test" if len(data.indices("test")) else "all"


def run_zip(run: Run) -> bytes:
    """The run as a zip (checkpoint.run_to_zip), built once per model."""
    return run.memo.get("zip", lambda: run_to_zip(run))


def zip_name(run: Run) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in f"{run.short_name}-{run.data_name}")
    return f"vae-{safe.strip('-') or 'run'}.zip"


def file_digest(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()[:12]


def _num(value: Any) -> float:
    """A figure for a number column: NaN when the run has none (the table shows it empty, not 'None')."""
    return float("nan") if value is None else float(value)


OVERVIEW = ("run", "data", "model", "status", "test neg. ELBO", "active units")  # the Runs table's narrow default


def runs_table(entries: list[RunEntry], explored: str | None) -> pd.DataFrame:
    """One row per run of the store, with its settings and held-out figures (missing figures stay empty). Kept
    narrow enough for the page at 1024 px: the explored run marked '●' in its name, the settings in one 'model'
    column, no creation time (the run names give the order), and no column that is empty for every run (IWAE NLL
    without an image run, anomaly AUC without a labelled sensor run)."""
    rows = []
    for e in entries:
        s, r = e.settings, e.results
        active = e.active_units
        rows.append({
            "run": ("● " if e.id == explored else "") + (e.name or e.id[:8]), "data": e.data,
            "model": model_words(s), "epochs": e.epochs,
            "status": STATUS_WORDS.get(e.status, e.status) if e.status != "finished" else "finished",
            "test neg. ELBO": _num(e.test_neg_elbo), "recon": _num(r.get("recon")), "KL": _num(r.get("kl")),
            "active units": f"{active} of {r.get('latent_dim', s.get('latent_dim'))}" if active is not None else "",
            "IWAE NLL": _num(r.get("iwae_nll")), "anomaly AUC": _num(r.get("anomaly_auc")),
            "seconds": _num(r.get("seconds")),
        })
    frame = pd.DataFrame(rows)
    empty = [name for name in ("IWAE NLL", "anomaly AUC") if name in frame and frame[name].isna().all()]
    return frame.drop(columns=empty)


def _short(text: str, most: int = 24) -> str:
    return "-" if not text else text if len(text) <= most else text[:most - 1] + "…"


def run_labels(entries: list[RunEntry], most: int = 2) -> dict[str, str]:
    """Run id -> its label (run_label), with (up to `most`) settings that tell it apart from runs whose labels read
    the same but for the name ('run 4: mnist, mlp, β=1, z=16, bce · lr 0.01')."""
    out = {e.id: run_label(e.name, e.data, e.settings) for e in entries}
    groups: dict[str, list[RunEntry]] = {}
    for e in entries:
        groups.setdefault(out[e.id].split(": ", 1)[-1], []).append(e)
    for group in groups.values():
        if len(group) < 2:
            continue
        settings = [{k: format_value(v) for k, v in e.settings.items() if k not in ("input_shape", "classes")}
                    for e in group]  # the data's, not a setting
        differ = [k for k in settings[0] if len({s.get(k) for s in settings}) > 1][:most]
        for e, s in zip(group, settings, strict=True):
            if differ:
                out[e.id] += " · " + ", ".join(f"{k.replace('_', ' ')} {_short(s.get(k, ''))}" for k in differ)
    return out


def scored_on(run: Run) -> str:
    """'mnist, bce loss': the data and the likelihood a run's nats are measured under."""
    return f"{run.data_name}, {run.model.cfg.loss} loss"


def comparable(runs: list[Run]) -> list[list[Run]]:
    """Runs whose nats compare, grouped: the same data (name and shape) scored under the same likelihood. Nats of
    different data or losses are on different scales, so each group gets its own chart; groups keep the runs' order."""
    groups: dict[tuple, list[Run]] = {}
    for r in runs:
        groups.setdefault((scored_on(r), tuple(r.model.cfg.input_shape)), []).append(r)
    return list(groups.values())


def overlay_curves(runs: list[Run], height: int = 380, title: str = "Loss per epoch, run by run") -> go.Figure:
    """Reconstruction and KL per epoch of several runs, one colour per run (train solid, validation dotted); only
    runs of one `comparable` group share a scale."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Reconstruction", "KL"), horizontal_spacing=0.08)
    for i, run in enumerate(runs):
        colour = PALETTE[i % len(PALETTE)]
        for phase, dash in (("train", "solid"), ("val", "dot")):
            epochs = [e for e in run.events if e.kind == "epoch" and e.phase == phase]
            if not epochs:
                continue
            name = run.short_name + (" (validation)" if phase == "val" else "")
            for col, term in ((1, "recon"), (2, "kl")):
                fig.add_trace(go.Scatter(
                    x=[e.epoch for e in epochs], y=[getattr(e, term) for e in epochs], mode="lines+markers",
                    name=name, legendgroup=name, showlegend=col == 1, line=dict(color=colour, dash=dash),
                    marker=dict(size=5), hovertemplate=f"{name}, epoch %{{x}}: %{{y:.2f}}<extra></extra>"),
                    row=1, col=col)
    longest = max((e.epoch for r in runs for e in r.events if e.kind == "epoch"), default=0)
    fig.update_xaxes(title_text="epoch", dtick=1 if longest <= 12 else None)
    fig.update_yaxes(title_text="nats per sample", row=1, col=1)
    fig.update_yaxes(rangemode="tozero", row=1, col=2)
    return legend_below(_layout(fig, title, height), y=-0.22)


def latent_map(run: Run) -> tuple[np.ndarray, list[str], str]:
    """Latent means of (up to MAP_POINTS of) the run's test part -> 2-D coords, labels, method ('z' or 'PCA')."""
    def compute():
        part = eval_part(run.data)
        picked = analysis.subsample(len(run.data.indices(part)), MAP_POINTS, seed=0)
        idx = run.data.indices(part)[picked]
        mu = run.means(part)[picked]  # the memoised means the Latent space page draws too
        coords, method = (mu, "z") if mu.shape[1] == 2 else (analysis.pca_2d(mu)[0], "PCA")
        labels = [run.data.label_text(int(i)) for i in idx] if run.data.y is not None else []
        return coords, labels, method
    return run.memo.get("runs_latent_map", compute)


def rare_on_top(fig: go.Figure) -> go.Figure:
    """Draw the smallest groups last, so a few anomalous windows are not hidden under thousands of normal ones."""
    for rank, trace in enumerate(fig.data):
        trace.legendrank = 1000 + rank  # the legend keeps the label order
    fig.data = tuple(sorted(fig.data, key=lambda t: -len(t.x if t.x is not None else ())))
    return fig


def showcase(data: Dataset, n: int = RECON_COUNT) -> np.ndarray:
    """Indices of n test samples to show: one per class first (when labelled), else spread evenly."""
    idx = data.indices(eval_part(data))
    if data.y is not None:
        firsts = [int(idx[np.flatnonzero(data.y[idx] == c)[0]]) for c in np.unique(data.y[idx])][:n]
        rest = [int(i) for i in idx[np.linspace(0, len(idx) - 1, n).round().astype(int)] if int(i) not in firsts]
        return np.array((firsts + rest)[:n])
    return idx[np.linspace(0, len(idx) - 1, min(n, len(idx))).round().astype(int)]


def recon_rows(runs: list[Run], inputs: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """Originals and each run's reconstructions: (1 + len(runs), K, C, H, W); `labels` of the inputs go to
    conditional runs."""
    rows = [inputs]
    for run in runs:
        key = ("runs_recon", file_digest(inputs.tobytes()))
        y = labels if run.model.classes else None
        rows.append(run.memo.get(key, lambda run=run, y=y: analysis.reconstruct(run.model, inputs, y)))
    return np.stack(rows)


# ---- diagnostics --------------------------------------------------------------------------------------
KL_BARS_CAPTION = (f"Red: an active unit, whose mean E[z_d|x] varies from input to input (variance above "
                   f"{analysis.ACTIVE_VARIANCE:g}; Burda et al. 2016) and which carries at least "
                   f"{analysis.NEAR_ZERO_KL:g} nats. Orange: active by that test but under the dotted "
                   f"{analysis.NEAR_ZERO_KL:g}-nat line, so it carries next to nothing. Grey: inactive, its mean "
                   "hardly varies, whatever its KL.")


def kl_bars(kl_per_dim: np.ndarray, active: np.ndarray, names: list[str] | None = None) -> go.Figure:
    """charts.kl_bars sorted by KL, on an axis of at least 0.5 nats (so near-zero bars look near zero), with the
    line below which a dimension counts as carrying nothing (KL_BARS_CAPTION explains the colours and the line)."""
    order = np.argsort(-np.asarray(kl_per_dim), kind="stable")
    fig = charts.kl_bars(kl_per_dim, active, title="KL per latent dimension (sorted)", order=order, names=names)
    top = float(np.max(kl_per_dim))
    fig.update_yaxes(range=[0, max(0.5, top * 1.08)])
    # the line's label only where the bars leave room for it (any annotation_* argument alone makes plotly draw
    # its placeholder "new text")
    label = {"annotation_text": f"~0 below {analysis.NEAR_ZERO_KL:g} nats", "annotation_position": "top right"}
    fig.add_hline(y=analysis.NEAR_ZERO_KL, line_dash="dot", line_color="#555", **(label if top < 0.3 else {}))
    return legend_below(fig, y=-0.3)


@dataclass(frozen=True)
class Fix:
    """A one-click change to the Train page's settings that addresses posterior collapse."""

    key: str
    label: str
    help: str
    changes: dict[str, Any]
    says: str  # for the message after the click: "... with <says>"


def run_settings(run: Run) -> dict[str, Any]:
    """The Train page's settings that reproduce this run, as far as its controls reach (read as a link would be)."""
    values = {**to_dict(run.model.cfg), **to_dict(run.train_cfg)}
    return links.parse({name: format_value(values[name]) for name in links.SETTINGS}).settings


def lower_beta(beta: float) -> float:
    """Back to the plain ELBO (β = 1) from above; below 1, the next option at or under half."""
    if beta > 1:
        return 1.0
    return max(b for b in BETAS if b <= beta / 2)


def suggested_fixes(run: Run) -> list[Fix]:
    """Cures for collapse the run does not use yet (Bowman et al. 2016; Kingma et al. 2016; lower β)."""
    t = run.train_cfg
    fixes = []
    if t.warmup == "none":
        changes: dict[str, Any] = {"warmup": "linear", "warmup_epochs": 10}
        if t.epochs < 20:  # the ramp needs room to finish and the model time at full β afterwards
            changes["epochs"] = 20
        fixes.append(Fix("fix_warmup", "Use KL warm-up (linear, 10 epochs)",
                         "β starts at 0 and rises to its value over 10 epochs, so the encoder learns to use z "
                         "before the KL term pulls the codes to the prior." +
                         (" Epochs go up to 20 so the ramp can finish." if "epochs" in changes else ""),
                         changes,
                         "linear KL warm-up over 10 epochs" + (" and 20 epochs" if "epochs" in changes else "")))
    if t.free_bits < 0.5:
        fixes.append(Fix("fix_free_bits", "Use free bits (0.5 nats)",
                         "Each latent dimension may carry 0.5 nats for free, so switching it off no longer pays. "
                         "The training loss is then no longer the negative ELBO (no bound on log p(x)); the test "
                         "figures still are.",
                         {"free_bits": 0.5}, "0.5 free bits per dimension"))
    if t.beta > 0:
        new = lower_beta(t.beta)
        fixes.append(Fix("fix_beta", f"Lower β to {new:g}",
                         f"A smaller weight on the KL term (now {t.beta:g}) makes carrying information in z cheaper.",
                         {"beta": new}, f"β = {new:g}"))
    return fixes


# ---- anomalies ----------------------------------------------------------------------------------------
def window_errors(run: Run) -> np.ndarray:
    """Reconstruction error of every window of the run's data (N,), computed once per model."""
    return run.recon_errors("all")


def channel_names(data: Dataset) -> list[str]:
    """The data's channel names, or 'channel 0', 'channel 1', ... when it has none."""
    return list(data.channels) or [f"channel {c}" for c in range(data.input_shape[-1])]


def confusion(flags: np.ndarray, labels: np.ndarray) -> dict[str, float | int | None]:
    """Counts and rates of 0/1 flags against 0/1 labels; precision is None when nothing is flagged."""
    flags, labels = np.asarray(flags, bool), np.asarray(labels, bool)
    tp, fp = int((flags & labels).sum()), int((flags & ~labels).sum())
    fn, tn = int((~flags & labels).sum()), int((~flags & ~labels).sum())
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": tp / (tp + fp) if tp + fp else None, "recall": tp / (tp + fn) if tp + fn else None,
            "fpr": fp / (fp + tn) if fp + tn else None}


def error_timeline(centres: np.ndarray, errors: np.ndarray, threshold: float, window: int, series: np.ndarray | None,
                   channels: tuple[str, ...], anomaly: np.ndarray | None, split_starts: tuple[int, int] | None,
                   log_y: bool = False, height: int = 560) -> go.Figure:
    """Window errors (at window centres) over time with the threshold, flagged windows, labelled anomalies (dark:
    the labelled steps; light: centres of windows holding them) and the parts' boundaries; the signal below."""
    rows = 2 if series is not None else 1
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.07,
                        row_heights=[0.6, 0.4][:rows] if rows == 2 else None)
    fig.add_trace(go.Scattergl(x=centres, y=errors, mode="lines", name="reconstruction error",
                               line=dict(color="#1f77b4", width=1.2),
                               hovertemplate="window centred at %{x}: %{y:.3g} nats<extra></extra>"), row=1, col=1)
    flagged = errors > threshold
    fig.add_trace(go.Scattergl(x=centres[flagged], y=errors[flagged], mode="markers", name="flagged (above threshold)",
                               marker=dict(color="#d62728", size=6, symbol="x"),
                               hovertemplate="flagged, centred at %{x}: %{y:.3g} nats<extra></extra>"), row=1, col=1)
    fig.add_hline(y=threshold, line_dash="dash", line_color="#d62728", row=1, col=1,
                  annotation_text=f"threshold {threshold:.3g}", annotation_position="top left")
    if series is not None:
        t = np.arange(len(series))
        step = max(1, len(series) // 5000)
        for c, name in enumerate(list(channels) or [f"channel {i}" for i in range(series.shape[1])]):
            fig.add_trace(go.Scattergl(x=t[::step], y=series[::step, c], mode="lines", name=name,
                                       line=dict(width=1, color=PALETTE[(c + 2) % len(PALETTE)])), row=2, col=1)
        fig.update_yaxes(title_text="signal (scaled)", row=2, col=1)
    ranges = anomaly_ranges(anomaly)
    for start, end in ranges:
        # light: centres of the windows that hold labelled steps (those count as anomalous); dark: the steps
        fig.add_vrect(x0=start - window / 2, x1=end + window / 2, fillcolor="red", opacity=0.12, line_width=0,
                      row="all", col=1)
        fig.add_vrect(x0=start - 0.5, x1=end - 0.5, fillcolor="red", opacity=0.35, line_width=0, row="all", col=1)
    if ranges:  # one legend entry: a label over each region ran into its neighbours ("labelled anomalabelled ...")
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="labelled anomaly",
                                 marker=dict(symbol="square", size=12, color="red", opacity=0.6)), row=1, col=1)
    if split_starts:
        for x, name, side in zip(split_starts, ("validation starts", "test starts"), ("right", "left"), strict=True):
            fig.add_vline(x=x, line_dash="dot", line_color="#555", row="all", col=1)
            fig.add_annotation(x=x, y=1.0, yref="paper", text=name, showarrow=False, xanchor=side,
                               yanchor="bottom", font=dict(size=11, color="#555"))
    fig.update_yaxes(title_text="error (nats)", type="log" if log_y else "linear", row=1, col=1)
    fig.update_xaxes(title_text="time step (window centre)", row=rows, col=1)
    return legend_below(_layout(fig, "Reconstruction error per window over time", height), y=-0.14)


def roc_figure(fpr: np.ndarray, tpr: np.ndarray, auc: float, point: tuple[float, float] | None,
               height: int = 380) -> go.Figure:
    """ROC curve with the chance line and the chosen threshold's operating point."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line=dict(color="#aaa", dash="dash")))
    fig.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines", name=f"model (AUC {auc:.3f})",
                             line=dict(color=TERM_COLOURS["total"], width=2), line_shape="hv"))
    if point is not None:
        fig.add_trace(go.Scatter(x=[point[0]], y=[point[1]], mode="markers", name="chosen threshold",
                                 marker=dict(color="#d62728", size=11, symbol="x")))
    fig.update_xaxes(title_text="false positive rate (normal windows flagged)", range=[-0.02, 1.02])
    fig.update_yaxes(title_text="true positive rate (anomalous windows caught)", range=[-0.02, 1.02])
    return legend_below(_layout(fig, "ROC curve on the test part", height))  # above, it ran over the title


def errors_by_class(errors: np.ndarray, labels: list[str], threshold: float, log_y: bool = False,
                    height: int = 420) -> go.Figure:
    """Box plot of window errors per class, every window as a dot, threshold as a line."""
    fig = go.Figure()
    names = sorted(set(labels))
    for i, name in enumerate(names):
        mask = np.array([lab == name for lab in labels])
        fig.add_trace(go.Box(y=errors[mask], name=name, boxpoints="all", jitter=0.4, pointpos=0,
                             marker=dict(color=PALETTE[i % len(PALETTE)], size=5), line=dict(width=1.5)))
    fig.add_hline(y=threshold, line_dash="dash", line_color="#d62728", annotation_text=f"threshold {threshold:.3g}",
                  annotation_position="top left")
    fig.update_yaxes(title_text="reconstruction error (nats)", type="log" if log_y else "linear")
    fig.update_layout(showlegend=False)
    return _layout(fig, "Reconstruction error per window, by class", height)
