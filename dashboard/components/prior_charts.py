"""Figures for the prior against the codes (vae_core.prior_geometry) and for mode coverage (vae_core.mode_coverage):
plotly figures from arrays, no Streamlit calls (the Reconstructions & samples page and lesson 9 draw them)."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from vae_core.mode_coverage import CONFIDENT, ModeCoverage
from vae_core.prior_geometry import EXTENT, PRIOR_DISC, DensityMap, DimensionSpread

from . import charts
from .prior_words import PART_WORDS

MEANS, SAMPLED, PRIOR = "#636efa", "#ef553b", "#2a2a2a"


def dimension_histogram(spread: DimensionSpread, dim: int, kl: float, part: str) -> go.Figure:
    """One latent dimension: histograms of the codes' means and of sampled z, with the prior N(0, 1) drawn over."""
    lo = min(-4.0, float(spread.z[:, dim].min())), max(4.0, float(spread.z[:, dim].max()))
    grid = np.linspace(*lo, 200)
    fig = go.Figure([
        go.Histogram(x=spread.mu[:, dim], histnorm="probability density", name="means μ of the codes", opacity=0.55,
                     marker_color=MEANS, nbinsx=60),
        go.Histogram(x=spread.z[:, dim], histnorm="probability density", name="sampled z (one per input)",
                     opacity=0.55, marker_color=SAMPLED, nbinsx=60),
        go.Scatter(x=grid, y=np.exp(-grid ** 2 / 2) / math.sqrt(2 * math.pi), name="prior N(0, 1)",
                   line=dict(color=PRIOR, dash="dash")),
    ])
    fig.update_layout(barmode="overlay", xaxis_title=f"z{dim}", yaxis_title="density")
    title = f"z{dim} (KL {kl:.2f} nats): codes of {len(spread.mu):,} {PART_WORDS.get(part, part)} inputs"
    return _below(charts._layout(fig, title, 360), -0.22)


def spread_bars(spread: DimensionSpread, kl_per_dim: np.ndarray) -> go.Figure:
    """Per dimension (largest KL first): the spread of the means and of sampled z, against the prior's 1."""
    order = spread.kl_order
    names = [f"z{d}" for d in order]
    fig = go.Figure([
        go.Bar(x=names, y=spread.mu_sd[order], name="sd of the means μ", marker_color=MEANS,
               customdata=np.asarray(kl_per_dim)[order], hovertemplate="%{x}: %{y:.2f} (KL %{customdata:.2f} nats)"),
        go.Bar(x=names, y=spread.z_sd[order], name="sd of sampled z", marker_color=SAMPLED),
    ])
    fig.add_hline(y=1.0, line=dict(color=PRIOR, dash="dash"), annotation_text="prior: 1",
                  annotation_position="top right")
    fig.update_layout(barmode="group", yaxis_title="standard deviation")
    return _below(charts._layout(fig, "Spread of the codes per dimension, largest KL first", 340), -0.15)


def density_figure(m: DensityMap, part: str) -> go.Figure:
    """The codes' density in the 2-D view as a heat map, the prior's 1 and 2 sd circles, the holes as crosses."""
    centres = m.centres
    with np.errstate(divide="ignore"):
        shown = np.log10(np.maximum(m.codes, 1e-6))
    ratio = m.codes / np.maximum(m.prior, 1e-12)
    text = [[f"codes {c:.2%} · prior {p:.2%} of the mass · ratio {r:.2g}" for c, p, r in zip(cr, pr, rr, strict=True)]
            for cr, pr, rr in zip(m.codes, m.prior, ratio, strict=True)]
    fig = go.Figure(go.Heatmap(x=centres, y=centres, z=shown, colorscale="Blues", zmin=-4, zmax=float(shown.max()),
                               colorbar=dict(title="codes' share<br>of a cell", tickvals=[-4, -3, -2, -1],
                                             ticktext=["0.01%", "0.1%", "1%", "10%"]),
                               text=text, hovertemplate="(%{x:.2f}, %{y:.2f}): %{text}<extra></extra>"))
    angle = np.linspace(0, 2 * math.pi, 120)
    for r, label in ((1.0, "prior: 1 sd"), (math.sqrt(PRIOR_DISC), "prior: 95% of its mass")):
        fig.add_trace(go.Scatter(x=r * np.cos(angle), y=r * np.sin(angle), mode="lines", name=label,
                                 line=dict(color=PRIOR, dash="dash" if r > 1 else "dot")))
    rows, cols = np.nonzero(m.holes)
    fig.add_trace(go.Scatter(x=centres[cols], y=centres[rows], mode="markers", name="hole (prior mass, no codes)",
                             marker=dict(symbol="x", color="#d62728", size=7)))
    names = [f"{n} ({share:.0%} of the codes' variance)" if n.startswith("PC") else n
             for n, share in zip(m.names, m.explained, strict=True)]
    fig.update_layout(xaxis=dict(title=names[0], range=[-EXTENT, EXTENT], constrain="domain"),
                      yaxis=dict(title=names[1], range=[-EXTENT, EXTENT], scaleanchor="x", constrain="domain"))
    title = f"Where the codes of the {PART_WORDS.get(part, part)} part lie, against the prior"
    return _below(charts._layout(fig, title, 560), -0.12)


def coverage_bars(cov: ModeCoverage, mixture: ModeCoverage | None = None) -> go.Figure:
    """Per class: the share of prior samples placed there (confidently and not), the data's share as a marker."""
    names = list(cov.label_names)
    fig = go.Figure([
        go.Bar(x=names, y=cov.confident / cov.n, name=f"prior samples, placed with ≥ {CONFIDENT:.0%} certainty",
               marker_color="#2ca02c"),
        go.Bar(x=names, y=cov.unsure / cov.n, name="prior samples, unsure (its best guess)", marker_color="#bcbd22"),
    ])
    if mixture is not None:
        fig.add_trace(go.Scatter(x=names, y=mixture.sample_share, mode="markers", name="mixture samples (all)",
                                 marker=dict(symbol="diamond", size=10, color=MEANS)))
    fig.add_trace(go.Scatter(x=names, y=cov.data_share, mode="markers", name="the training part",
                             marker=dict(symbol="line-ew-open", size=28, color=PRIOR, line=dict(width=3, color=PRIOR))))
    fig.update_layout(barmode="stack", yaxis_title="share", yaxis_tickformat=".0%", xaxis_title="class",
                      xaxis=dict(type="category"))
    return _below(charts._layout(fig, f"{cov.n:,} samples from the prior, by the class a classifier gives them", 440),
                  -0.25)


def _below(fig: go.Figure, y: float) -> go.Figure:
    """The legend under the plot, where a narrow column cannot make it cover the title."""
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=y, xanchor="left", x=0, title_text=""),
                      margin=dict(b=80))
    return fig
