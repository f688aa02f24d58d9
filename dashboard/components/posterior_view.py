"""The posterior page's parts: an input drawn on a canvas or picked from the data, its q(z|x) as an ellipse on the map
of the codes, decodes of draws from it, and any point of the map decoded by clicking it."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vae_core import analysis
from vae_core.dataset import Dataset
from vae_core.posterior import LatentPlane, background_level, drawing_to_input
from vae_core.run import Run

from . import charts, compare, explore, images

MAP_POINTS = 2000  # codes drawn as the backdrop
GRID = 48  # click targets per side: a click anywhere on the map decodes the nearest one
DRAWS = 8
CANVAS = 190  # fits the narrow column at 1024 px


def plane(run: Run, part: str) -> tuple[LatentPlane, np.ndarray, np.ndarray]:
    """(the view, the backdrop's sample ids, their plane coordinates), computed once per run and part."""
    def compute():
        ids = run.data.indices(part)
        ids = ids[analysis.subsample(len(ids), MAP_POINTS, seed=0)]
        means = run.means(part)[analysis.subsample(len(run.data.indices(part)), MAP_POINTS, seed=0)]
        view = LatentPlane.of(run.means(part))
        return view, ids, view.to_plane(means)
    return run.memo.get(("posterior_plane", part), compute)


def drawn_input(data: Dataset, key: str) -> np.ndarray | None:
    """A canvas to draw on (ink white on black, as MNIST); the drawing as an input shaped like the data's."""
    from streamlit_drawable_canvas import st_canvas  # the component registers itself on import: only when drawn

    result = st_canvas(stroke_width=22, stroke_color="#ffffff", background_color="#000000", height=CANVAS,
                       width=CANVAS, drawing_mode="freedraw", key=key, return_image_data=True)
    if result.image_data is None:
        return None
    return drawing_to_input(np.asarray(result.image_data), data.input_shape, background_level(data.x))


def figure(run: Run, part: str, mu: np.ndarray | None, sigma: np.ndarray | None,
           draws: np.ndarray | None) -> go.Figure:
    view, ids, coords = plane(run, part)
    data = run.data
    labels = [data.label_text(int(i)) for i in ids] if data.y is not None else []
    axes = ("z0", "z1") if view.is_code else (f"PC 1 ({view.explained[0]:.0%})", f"PC 2 ({view.explained[1]:.0%})")
    title = "Codes' means, z itself" if view.is_code else "Codes' means, PCA plane"
    fig = charts.latent_scatter(coords, labels, title, hover=[explore.item_hover(data, int(i)) for i in ids],
                                axis_names=axes, customdata=ids, height=520)
    fig.update_traces(marker=dict(opacity=0.35))
    extent = coords
    if mu is not None:
        ring = view.ellipse(mu, sigma)
        centre = view.to_plane(mu)
        extent = np.concatenate([coords, ring])
        fig.add_trace(go.Scatter(x=ring[:, 0], y=ring[:, 1], mode="lines", name="q(z|x): μ ± 2σ",
                                 line=dict(color="black", width=2.5), hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=[centre[0]], y=[centre[1]], mode="markers", name="μ",
                                 marker=dict(color="black", size=12, symbol="x"), hoverinfo="skip"))
        if draws is not None:
            at = view.to_plane(draws)
            fig.add_trace(go.Scatter(x=at[:, 0], y=at[:, 1], mode="markers", name="draws z ~ q(z|x)",
                                     marker=dict(color="black", size=7, symbol="circle-open"), hoverinfo="skip"))
    (x0, x1), (y0, y1) = _span(extent[:, 0]), _span(extent[:, 1])
    gx, gy = np.meshgrid(np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID))
    fig.add_trace(go.Scatter(x=gx.ravel(), y=gy.ravel(), mode="markers", name="click to decode", showlegend=False,
                             marker=dict(size=6, color="rgba(0,0,0,0)"), hovertemplate="decode (%{x:.2f}, %{y:.2f})"
                             "<extra></extra>", selected=dict(marker=dict(opacity=1)),
                             unselected=dict(marker=dict(opacity=1))))
    fig.update_layout(hoverdistance=-1, clickmode="event+select", dragmode=False, height=600,
                      legend=dict(orientation="h", x=0, xanchor="left", y=-0.15, yanchor="top", entrywidth=80))  # a
    # legend below: beside the map it took a third of a narrow column
    return fig


def _span(values: np.ndarray) -> tuple[float, float]:
    low, high = float(np.min(values)), float(np.max(values))
    pad = 0.1 * max(high - low, 1e-3)
    return low - pad, high + pad


def clicked_point(event) -> tuple[float, float] | None:
    """The plane coordinates of the point a click picked on the map (a code's dot or a click target)."""
    try:
        point = event["selection"]["points"][0]
        return float(point["x"]), float(point["y"])
    except (KeyError, TypeError, IndexError, ValueError):
        return None


def decoded(run: Run, z: np.ndarray, caption: str, key: str) -> None:
    """Decoded codes z (n, D): images in a row, or a sensor window's lines."""
    data = run.data
    out = analysis.decode(run.model, z)
    if data.kind == "image":
        st.image(images.mosaic(out, cols=min(len(out), 4), upscale=3), caption=caption)
    else:
        st.plotly_chart(charts.window_overlay(out[0], None, compare.channel_names(data), caption), key=key)


def picked_input(data: Dataset, part: str) -> tuple[np.ndarray, str]:
    ids = data.indices(part)[:200]
    index = st.selectbox(f"An input of the {part} part", [int(i) for i in ids],
                         key=explore.keep(f"posterior_pick_{part}", int(ids[0])),
                         format_func=lambda i: explore.item_name(data, i))
    return data.x[index], explore.item_name(data, index)
