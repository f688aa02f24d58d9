"""The rate-distortion curve of a β sweep (vae_core.rate_distortion): KL (rate) against reconstruction (distortion),
one point per β, collapsed runs marked, each with a thumbnail of its reconstructions and samples. The Sweep page
draws it from the trials, lesson 10 from its runs."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vae_core import analysis
from vae_core.dataset import Dataset
from vae_core.rate_distortion import Curve, curves
from vae_core.run import Run

from . import charts, images, prior_charts

THUMBS = 4  # reconstructions (top row) and samples (bottom row) per thumbnail
PER_ROW = 4


def rows_of(runs: Sequence[Run]) -> list[dict]:
    """Finished runs as the rows `rate_distortion.curves` reads (their held-out summaries)."""
    return [{"beta": r.train_cfg.beta, "kl": r.summary.get("kl"), "recon": r.summary.get("recon"),
             "collapsed": r.summary.get("collapsed"), "active_units": r.summary.get("active_units"),
             "latent_dim": r.model_cfg.latent_dim, "loss": r.model_cfg.loss, "key": r.id,
             "status": r.summary.get("stop_reason", r.status)} for r in runs]


def figure(found: Sequence[Curve], title: str = "Rate against distortion, one point per β") -> go.Figure:
    """Distortion on x, rate on y (Alemi et al. 2018's picture); a line per curve, β written at each point."""
    fig = go.Figure()
    for i, curve in enumerate(found):
        colour = charts.PALETTE[i % len(charts.PALETTE)]
        pts = curve.points
        fig.add_trace(go.Scatter(
            x=[p.distortion for p in pts], y=[p.rate for p in pts], mode="lines+markers+text", name=curve.label,
            text=[f"β={p.beta:g}" for p in pts], line=dict(color=colour),
            textposition=["top left" if p.distortion == max(q.distortion for q in pts) else "top right" for p in pts],
            marker=dict(size=10, symbol=["x" if p.collapsed else "circle" for p in pts]),
            customdata=[[p.beta, p.active_units, p.latent_dim, "collapsed" if p.collapsed else ""] for p in pts],
            hovertemplate="β=%{customdata[0]:g}: rate %{y:.2f} nats, distortion %{x:.1f} nats, active units "
                          "%{customdata[1]}/%{customdata[2]} %{customdata[3]}<extra></extra>"))
    fig.update_layout(xaxis_title="distortion D: reconstruction, nats per sample",
                      yaxis_title="rate R: KL, nats per sample")
    return prior_charts._below(charts._layout(fig, title, 440), -0.2)


def sparkline(values: np.ndarray, width: int = 120, height: int = 36) -> np.ndarray:
    """A window's first channel (T,) as a small grey line picture: (height, width) floats in [0, 1] (white 1)."""
    canvas = np.ones((height, width))
    t = np.linspace(0, len(values) - 1, width * 4)
    v = np.interp(t, np.arange(len(values)), values)
    lo, hi = float(values.min()), float(values.max())
    rows = ((hi - v) / max(hi - lo, 1e-9) * (height - 3) + 1).round().astype(int)
    canvas[rows, (t / max(len(values) - 1, 1) * (width - 1)).round().astype(int)] = 0.1
    return canvas


def thumbnail(run: Run, data: Dataset) -> np.ndarray:
    """Top row: reconstructions of THUMBS fixed test inputs; bottom row: THUMBS samples from the prior (seed 0)."""
    def compute() -> np.ndarray:
        part = "test" if len(data.indices("test")) else "all"
        ids = data.indices(part)[analysis.subsample(len(data.indices(part)), THUMBS, seed=0)]
        recon = analysis.reconstruct(run.model, data.x[ids])
        samples = analysis.sample_prior(run.model, THUMBS, seed=0)
        both = np.concatenate([recon, samples])
        if data.kind == "sensor":
            both = np.stack([sparkline(w[:, 0]) for w in both])[:, None]
        return images.mosaic(both, cols=len(ids), upscale=1 if data.kind == "sensor" else 2)
    return run.memo.get(("rd_thumbnail",), compute)


def show(rows: Sequence[dict], varied: Sequence[str], run_of: Callable[[str], Run | None], data: Dataset,
         key: str) -> None:
    """The curves of these rows, their sentences, and a thumbnail per point whose run is at hand."""
    found = curves(rows, varied)
    if not found:
        st.caption("The rate-distortion curve appears once two or more values of β have finished with the other "
                   "settings alike.")
        return
    st.plotly_chart(figure(found), key=f"rd_curve_{key}", config=charts.PNG_CONFIG)
    st.caption("On the test part: distortion D is the reconstruction −log p(x|z), rate R the KL(q(z|x) ‖ p(z)), both "
               "in nats per sample. Each β picks one point: low β pays rate (nats in the code) for low distortion "
               "(sharp reconstructions); high β saves rate and blurs. ✕ marks a collapsed run: its code carries "
               "almost nothing, so the curve ends at zero rate.")
    for curve in found:
        st.markdown(f"**{curve.label}:** {curve.sentence()}")
        pictures = [(p, run_of(p.key)) for p in curve.points]
        pictures = [(p, r) for p, r in pictures if r is not None]
        per_row = max(3, min(PER_ROW, len(pictures)))
        for start in range(0, len(pictures), per_row):
            cols = st.columns(per_row)
            for col, (p, r) in zip(cols, pictures[start:start + per_row], strict=False):
                col.image(thumbnail(r, data), width="stretch",
                          caption=f"β = {p.beta:g} · R {p.rate:.2f} · D {p.distortion:.1f}"
                                  + (" · collapsed" if p.collapsed else ""))
        if pictures:
            st.caption("In each picture, top: reconstructions of the same test inputs; bottom: samples from the prior "
                       "(the same draws for every β)." + (" Sensor windows: the first channel." if data.kind == "sensor"
                                                           else ""))
