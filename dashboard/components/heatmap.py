"""Sweep heat maps: β up the side, latent size across, one map per loss; collapsed cells marked ✕.

Streamlit's selections report nothing for heat-map traces, only for scatter points. So the heat map itself takes
no hover or click (hoverinfo "skip"), and every cell gets an invisible marker at its centre whose customdata is
the trial's key ('' for a cell not run yet). With no hover cut-off (hoverdistance -1) a click anywhere picks the
nearest centre, and on a grid of equal cells the nearest centre is the cell's own: the whole cell is the target.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from vae_core.config import LOSS_NAMES
from vae_core.sweep.results import score

# metric -> (label, colour scale, what a bright cell means)
METRICS = {
    "test_neg_elbo": ("test neg. ELBO (nats)", "Viridis_r", "bright = lower = better fit"),
    "kl": ("KL to the prior (nats)", "Viridis", "bright = more information in z"),
    "active_units": ("active latent units", "Viridis", "bright = more dimensions in use"),
    "recon": ("reconstruction error (nats)", "Viridis_r", "bright = lower = sharper reconstructions"),
}
COLLAPSED = "#d62728"  # a red dotted frame shows on dark and bright cells alike


def _label(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def cells(rows: Sequence[dict]) -> dict[tuple[float, int], tuple[dict, int]]:
    """(β, latent size) -> (the best finished row in that cell, how many trials landed there)."""
    out: dict[tuple[float, int], tuple[dict, int]] = {}
    for row in rows:
        if row.get("status") == "failed" or row.get("beta") is None or row.get("latent_dim") is None:
            continue
        cell = (float(row["beta"]), int(row["latent_dim"]))
        best, n = out.get(cell, (row, 0))
        if score(row) < score(best):
            best = row
        out[cell] = (best, n + 1)
    return out


def _hover(row: dict, n: int) -> str:
    active = f"{row['active_units']}/{row['latent_dim']}" if row.get("active_units") is not None else "-"

    def num(v: Any) -> str:
        return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.2f}"

    lines = [f"β = {_label(row['beta'])}, latent size {row['latent_dim']}, {row.get('loss')}",
             f"test neg. ELBO {num(row.get('test_neg_elbo'))} = recon {num(row.get('recon'))} "
             f"+ KL {num(row.get('kl'))}",
             f"active units {active}" + (" · COLLAPSED" if row.get("collapsed") else ""),
             f"trial {row.get('trial')} ({row.get('status')})"]
    if n > 1:
        lines.append(f"best of {n} trials in this cell")
    return "<br>".join(lines)


def sweep_heatmap(rows: Sequence[dict], metric: str, title: str, height: int | None = None) -> go.Figure:
    """One heat map of `metric` over β (rows) x latent size (columns); collapsed cells get an ✕."""
    label, scale, _ = METRICS[metric]
    table = cells(rows)
    betas = sorted({b for b, _ in table})
    latents = sorted({z for _, z in table})
    xs, ys = [str(z) for z in latents], [_label(b) for b in betas]
    values, texts, hovers = [], [], []
    for b in betas:
        line_v, line_t, line_h = [], [], []
        for z in latents:
            row, n = table.get((b, z), (None, 0))
            v = None if row is None else row.get(metric)
            v = None if isinstance(v, float) and not math.isfinite(v) else v
            line_v.append(v)
            text = "" if v is None else (str(v) if metric == "active_units" else f"{v:.1f}")
            line_t.append(f"{text}<br>✕ collapsed" if row is not None and row.get("collapsed") else text)
            line_h.append("not run yet" if row is None else _hover(row, n))
        values.append(line_v)
        texts.append(line_t)
        hovers.append(line_h)
    fig = go.Figure(go.Heatmap(x=xs, y=ys, z=values, text=texts, texttemplate="%{text}", hoverinfo="skip",
                               colorscale=scale, xgap=2, ygap=2,
                               colorbar=dict(title=dict(text=label, side="right"), thickness=12)))
    # the click targets: one invisible marker per cell (see the module's docstring), carrying the cell's hover text;
    # a collapsed cell gets a dashed frame as well as its "✕ collapsed" line
    centres = [(z, b, table.get((b, z), (None, 0))) for b in betas for z in latents]
    fig.add_trace(go.Scatter(
        x=[str(z) for z, _, _ in centres], y=[_label(b) for _, b, _ in centres], mode="markers",
        customdata=[row["key"] if row is not None else "" for _, _, (row, _) in centres],
        text=["not run yet" if row is None else _hover(row, n) for _, _, (row, n) in centres],
        hovertemplate="%{text}<extra></extra>", showlegend=False, name="trials",
        marker=dict(symbol="square", size=44, color="rgba(0,0,0,0)", line=dict(width=0)),
        selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1))))
    for i, b in enumerate(betas):
        for j, z in enumerate(latents):
            row, _ = table.get((b, z), (None, 0))
            if row is not None and row.get("collapsed"):
                fig.add_shape(type="rect", x0=j - 0.47, x1=j + 0.47, y0=i - 0.45, y1=i + 0.45,
                              line=dict(color=COLLAPSED, width=2, dash="dot"), layer="above")
    fig.update_xaxes(title_text="latent size (dimensions of z)", type="category", categoryorder="array",
                     categoryarray=xs)
    fig.update_yaxes(title_text="β (KL weight)", type="category", categoryorder="array", categoryarray=ys)
    fig.update_layout(title=title, height=height or max(260, 130 + 75 * len(betas)),
                      margin=dict(l=10, r=10, t=50, b=10), hovermode="closest", hoverdistance=-1,
                      clickmode="event+select", dragmode=False, hoverlabel=dict(align="left"))
    return fig


def sweep_heatmaps(rows: Sequence[dict], metric: str) -> list[tuple[str, go.Figure]]:
    """One (loss, figure) per loss in the rows: neg. ELBOs of different likelihoods do not share a scale."""
    losses = sorted({r.get("loss") for r in rows if r.get("status") != "failed" and r.get("loss")})
    return [(loss, sweep_heatmap([r for r in rows if r.get("loss") == loss], metric,
                                 f"{LOSS_NAMES.get(loss, loss).split(' (')[0]} loss ({loss})")) for loss in losses]


def picked_key(event: Any) -> str | None:
    """The trial key of the cell clicked on a sweep heat map (from st.plotly_chart's selection), or None."""
    try:
        points = event.selection.points if hasattr(event, "selection") else event["selection"]["points"]
    except (KeyError, TypeError, AttributeError):
        return None
    for p in points or []:
        data = p.get("customdata")
        if isinstance(data, list):
            data = data[0] if data else None
        if isinstance(data, str):
            return data
    return None
