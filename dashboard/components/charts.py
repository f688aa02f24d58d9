"""Plotly figures from vae_core's arrays and events. Every chart has hover, zoom and a PNG button."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from vae_core.analysis import NEAR_ZERO_KL
from vae_core.config import LIVE
from vae_core.objectives import TERM_WORDS
from vae_core.training import TrainEvent

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd"]
TERM_COLOURS = {"total": "#1f77b4", "recon": "#2ca02c", "kl": "#d62728", "beta": "#7f7f7f",
                # a variant's own terms (objectives.TERM_WORDS): the KL of each layer, the adversaries, the ELBO
                "kl_z1": "#ff9896", "kl_z2": "#8c564b", "adv_d": "#9467bd", "adv_g": "#e377c2", "neg_elbo": "#17becf"}
KL_AXIS_NATS = 1.0  # the per-epoch KL panel reaches at least this high
MAX_LINE_POINTS = 1500  # longer step histories are thinned for a fast redraw
PNG_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


def _layout(fig: go.Figure, title: str, height: int = 360) -> go.Figure:
    fig.update_layout(_layout_dict(title, height))
    return fig


def _thin(items: list, limit: int = MAX_LINE_POINTS) -> list:
    if len(items) <= limit:
        return items
    idx = np.linspace(0, len(items) - 1, limit).round().astype(int)
    return [items[i] for i in idx]


def _figure(data: list[dict], layout: dict) -> go.Figure:
    """A Figure from plain dicts without plotly's per-property validation.

    Validating every property of every trace (and make_subplots) cost ~60 ms per loss chart and
    ~100 ms per latent map on this machine, on the script thread, holding the GIL the training thread
    needs, twice a second. The dicts below use only valid property names (the tests compare the
    JSON); plotly's JSON encoder still turns numpy arrays into typed arrays.
    """
    try:
        return go.Figure({"data": data, "layout": layout}, _validate=False)
    except (TypeError, ValueError):  # a plotly without the private switch: validate after all
        return go.Figure({"data": data, "layout": layout})


def _layout_dict(title: str, height: int, **extra) -> dict:
    """Every chart's layout: title, height, slim margins, a legend above on the right; `extra` adds or overrides."""
    return {**extra, "margin": extra.get("margin", {"l": 10, "r": 10, "t": 50, "b": 10}),
            "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1,
                       **extra.get("legend", {})},
            "title": {"text": title}, "height": height, "hovermode": "closest"}


def loss_curves(events: Sequence[TrainEvent], title: str = "Loss while training (nats per sample)",
                height: int = 380) -> go.Figure:
    """Total, reconstruction and KL per step (lines), validation per epoch (dots), β in force (dashed, right axis),
    and a variant's own terms per step (dotted): each layer's KL, the AAE's two losses, an IWAE run's neg. ELBO."""
    steps = _thin([e for e in events if e.kind == "step"])
    x = [e.step for e in steps]
    data: list[dict] = []
    for term, name in (("loss", "total"), ("recon", "reconstruction"), ("kl", "KL")):
        colour = TERM_COLOURS["total" if term == "loss" else term]
        data.append({"type": "scattergl", "x": x, "y": [getattr(e, term) for e in steps], "mode": "lines", "name": name,
                     "line": {"color": colour, "width": 1.5}, "xaxis": "x", "yaxis": "y"})
    val = [e for e in events if e.kind == "epoch" and e.phase == "val"]
    for term, name in (("loss", "total (validation)"), ("recon", "reconstruction (val.)"), ("kl", "KL (val.)")):
        colour = TERM_COLOURS["total" if term == "loss" else term]
        data.append({"type": "scatter", "x": [e.step for e in val], "y": [getattr(e, term) for e in val],
                     "mode": "markers", "name": name, "legendgroup": "val", "showlegend": term == "loss",
                     "marker": {"color": colour, "size": 8, "symbol": "diamond",
                                "line": {"width": 1, "color": "white"}},
                     "xaxis": "x", "yaxis": "y"})
    terms = list(dict(steps[-1].terms)) if steps else []
    game = [t for t in terms if t.startswith("adv_")]  # the AAE's losses, ~1 nat: an axis of their own (right)
    for term in terms:  # a variant's own terms
        data.append({"type": "scattergl", "x": x, "y": [e.term(term) for e in steps], "mode": "lines",
                     "name": TERM_WORDS.get(term, term), "line": {"color": TERM_COLOURS.get(term), "width": 1.2,
                                                                  "dash": "dot"},
                     "xaxis": "x", "yaxis": "y3" if term in game else "y"})
    shapes, notes = change_marks(events)
    if steps:
        data.append({"type": "scatter", "x": x, "y": [e.beta for e in steps], "mode": "lines", "name": "β in force",
                     "line": {"color": TERM_COLOURS["beta"], "dash": "dash", "width": 1}, "xaxis": "x", "yaxis": "y2"})
    # the layout make_subplots(specs=[[{"secondary_y": True}]]) builds: β on a right-hand axis over the loss axis
    layout = _layout_dict(
        title, height,
        # under the plot: above it, five entries ran over the title in a narrow column
        legend={"orientation": "h", "yanchor": "top", "y": -0.22, "xanchor": "left", "x": 0},
        margin={"l": 10, "r": 10, "t": 50, "b": 60},
        xaxis={"anchor": "y", "domain": [0.0, 0.94], "title": {"text": "step"}},
        yaxis={"anchor": "x", "domain": [0.0, 1.0], "title": {"text": "nats per sample"}},
        yaxis2={"anchor": "x", "overlaying": "y", "side": "right", "title": {"text": "β"}, "showgrid": False,
                # from 0 to a little above the largest β: a constant β gets round ticks, not 0.053, 0.224, …
                "range": [0, 1.05 * max([e.beta for e in steps], default=1.0) or 1.0], "tickformat": ".2~g",
                "tickmode": "auto"},
        shapes=shapes, annotations=notes)
    if game:  # the adversarial losses on a third axis, right of β's
        layout["xaxis"]["domain"] = [0.0, 0.8]
        layout["yaxis3"] = {"anchor": "free", "overlaying": "y", "side": "right", "position": 1.0, "showgrid": False,
                            "title": {"text": "adversarial losses"}, "rangemode": "tozero", "tickmode": "auto"}
    return _figure(data, layout)


def change_marks(events: Sequence[TrainEvent]) -> tuple[list[dict], list[dict]]:
    """A dotted line at each live setting change, labelled with the new value ("β → 16"): plotly shapes and notes.

    Changes at the same step share one label; labels alternate between two heights so neighbours do not overlap."""
    by_step: dict[int, list[str]] = {}
    for e in events:
        if e.kind == "change":
            word = LIVE[e.reason].widget.label.split(" (")[0] if e.reason in LIVE else e.reason
            by_step.setdefault(e.step, []).append(f"{word} → {e.value:g}")
    shapes, notes = [], []
    for i, (step, words) in enumerate(sorted(by_step.items())):
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": step, "x1": step, "y0": 0, "y1": 1,
                       "line": {"color": "#444", "dash": "dot", "width": 1}})
        notes.append({"xref": "x", "yref": "paper", "x": step, "y": 0.98 - 0.07 * (i % 2), "xanchor": "left",
                      "yanchor": "top", "text": ", ".join(words), "showarrow": False, "font": {"size": 11},
                      "bgcolor": "rgba(255,255,255,0.8)"})
    return shapes, notes


def epoch_curves(events: Sequence[TrainEvent], title: str, height: int = 320) -> go.Figure:
    """Reconstruction and KL per epoch (train), each on its own panel and scale: on two y-axes of one panel a KL of
    0.02 would look as large as a reconstruction of 210."""
    epochs = [e for e in events if e.kind == "epoch" and e.phase == "train"]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Reconstruction", "KL"), horizontal_spacing=0.1)
    x = [e.epoch for e in epochs]
    fig.add_trace(go.Scatter(x=x, y=[e.recon for e in epochs], name="reconstruction", mode="lines+markers",
                             line=dict(color=TERM_COLOURS["recon"]), showlegend=False), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=[e.kl for e in epochs], name="KL", mode="lines+markers",
                             line=dict(color=TERM_COLOURS["kl"]), showlegend=False), row=1, col=2)
    layers = [t for t, _ in (epochs[-1].terms if epochs else ()) if t.startswith("kl_")]  # each layer's KL
    for term in layers:
        fig.add_trace(go.Scatter(x=x, y=[e.term(term) for e in epochs], name=TERM_WORDS.get(term, term),
                                 mode="lines+markers", line=dict(color=TERM_COLOURS.get(term), dash="dot")),
                      row=1, col=2)
    fig.update_xaxes(title_text="epoch", dtick=1 if len(epochs) <= 20 else None)  # whole epochs, never 1.5
    fig.update_yaxes(title_text="nats per sample", row=1, col=1)
    # at least one nat high, so a KL of 0.02 looks like the near-nothing it is rather than filling its panel
    top = max((e.kl for e in epochs), default=0.0)
    fig.update_yaxes(range=[0, max(KL_AXIS_NATS, 1.08 * top)], row=1, col=2)
    fig = _layout(fig, title, height)
    fig.update_layout(margin=dict(t=80))  # the panel titles sit under the chart's title
    if layers:  # the layers' legend under the panels, clear of their titles
        fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.25, xanchor="left", x=0),
                          margin=dict(t=80, b=70))
    return fig


def map_axes(method: str) -> tuple[str, str]:
    """A latent map's axis names for its method: the 2-D code's own dimensions ('z'), else principal components."""
    return ("z1", "z2") if method == "z" else ("PC 1", "PC 2")


def latent_scatter(coords: np.ndarray, labels: Sequence[str], title: str, hover: Sequence[str] | None = None,
                   axis_names: tuple[str, str] = ("1", "2"), height: int = 480,
                   customdata: Sequence[int] | None = None,
                   extent: tuple[float, float, float, float] | None = None) -> go.Figure:
    """2-D latent map, one colour (and legend entry) per label; `extent` fixes the axes (a map replayed over epochs)."""
    coords = np.asarray(coords)
    labels = np.asarray(list(labels) if len(labels) else ["all"] * len(coords), dtype=object)
    hover = np.asarray(list(hover) if hover is not None else labels, dtype=object)
    ids = np.asarray(customdata if customdata is not None else np.arange(len(coords)))
    data = []
    for i, name in enumerate(sorted(set(labels.tolist()), key=_natural)):
        mask = labels == name
        data.append({"type": "scattergl", "x": coords[mask, 0], "y": coords[mask, 1], "mode": "markers", "name": name,
                     "marker": {"size": 5, "color": PALETTE[i % len(PALETTE)], "opacity": 0.8},
                     "text": hover[mask].tolist(), "customdata": ids[mask], "hovertemplate": "%{text}<extra></extra>"})
    layout = _layout_dict(title, height,
                          xaxis={"title": {"text": axis_names[0]}, "zeroline": False,
                                 **({"range": list(extent[:2])} if extent else {})},
                          yaxis={"title": {"text": axis_names[1]}, "zeroline": False, "scaleanchor": "x",
                                 "scaleratio": 1, **({"range": list(extent[2:])} if extent else {})},
                          # beside the map: ten labels above it ran into the title
                          legend={"title": {"text": "label"}, "itemsizing": "constant", "orientation": "v",
                                  "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"})
    return _figure(data, layout)


def _natural(text: str):
    return (0, int(text)) if text.isdigit() else (1, text)


# the three kinds of latent unit on a KL-per-dimension chart, by the two tests the pages quote
UNIT_KINDS = (("active unit", "#d62728"), (f"active, but under {NEAR_ZERO_KL:g} nats", "#f4a582"),
              ("inactive", "#c7c7c7"))


def unit_kinds(kl_per_dim: Sequence[float], active: Sequence[bool]) -> list[str]:
    """Each dimension's kind: active (Var of its mean > ACTIVE_VARIANCE) and carrying at least NEAR_ZERO_KL nats;
    active by that test but under NEAR_ZERO_KL (it carries next to nothing); or inactive."""
    return [UNIT_KINDS[2][0] if not a else UNIT_KINDS[0][0] if k >= NEAR_ZERO_KL else UNIT_KINDS[1][0]
            for k, a in zip(kl_per_dim, active, strict=True)]


def kl_bars(kl_per_dim: Sequence[float], active: Sequence[bool], title: str = "KL per latent dimension",
            order: Sequence[int] | None = None, height: int = 320, names: Sequence[str] | None = None) -> go.Figure:
    """KL of each dimension (named z0, z1, ... unless `names` says), coloured by its kind (unit_kinds), one legend
    entry per kind present."""
    kl = np.asarray(kl_per_dim)
    order = list(order) if order is not None else list(range(len(kl)))
    names = list(names) if names is not None else [f"z{d}" for d in range(len(kl))]
    kinds = unit_kinds(kl, active)
    fig = go.Figure()
    for name, colour in UNIT_KINDS:
        dims = [d for d in order if kinds[d] == name]
        if dims:
            fig.add_trace(go.Bar(x=[names[d] for d in dims], y=kl[dims], name=name, marker_color=colour,
                                 hovertemplate="%{x}: %{y:.3f} nats, " + name + "<extra></extra>"))
    fig.update_xaxes(title_text="latent dimension", type="category", categoryorder="array",
                     categoryarray=[names[d] for d in order])
    fig.update_yaxes(title_text="KL (nats per sample)")
    return _layout(fig, title, height)


def sensor_lines(series: np.ndarray, channels: Sequence[str], title: str, anomaly: np.ndarray | None = None,
                 split_starts: tuple[int, int] | None = None, height: int = 360) -> go.Figure:
    """Channels over time, labelled anomalies shaded red, train/val/test boundaries as dotted lines."""
    fig = go.Figure()
    t = np.arange(len(series))
    step = max(1, len(series) // 5000)  # keep the browser fast on long recordings
    for c, name in enumerate(channels):
        fig.add_trace(go.Scattergl(x=t[::step], y=series[::step, c], mode="lines", name=name,
                                   line=dict(width=1, color=PALETTE[c % len(PALETTE)])))
    ranges = anomaly_ranges(anomaly)
    for start, end in ranges:
        fig.add_vrect(x0=start - 0.5, x1=end - 0.5, fillcolor="red", opacity=0.25, line_width=0)
    if ranges:  # one legend entry, however many regions: a label on each ran into its neighbours
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="labelled anomaly",
                                 marker=dict(symbol="square", size=12, color="red", opacity=0.5)))
    boundaries = [x for x in (split_starts or ()) if 0 < x < len(series)]
    for x in boundaries:
        fig.add_vline(x=x, line_dash="dot", line_color="#555")
    if boundaries:  # named in the legend: two labels at nearby boundaries were drawn over each other
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line=dict(color="#555", dash="dot"),
                                 name="where validation, then test, begin"))
    fig.update_xaxes(title_text="time step")
    fig.update_yaxes(title_text="scaled value")
    _layout(fig, title, height)
    return fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.25, "xanchor": "left", "x": 0},
                             margin={"l": 10, "r": 10, "t": 50, "b": 70})  # under the axis, never over the title


def anomaly_ranges(mask: np.ndarray | None) -> list[tuple[int, int]]:
    """[start, end) index ranges where mask is set."""
    if mask is None or not np.any(mask):
        return []
    m = np.concatenate([[0], np.asarray(mask, dtype=np.int8), [0]])
    edges = np.flatnonzero(np.diff(m))
    return list(zip(edges[::2], edges[1::2], strict=True))


def window_overlay(original: np.ndarray, recon: np.ndarray | None, channels: Sequence[str], title: str,
                   height: int = 260) -> go.Figure:
    """One sensor window (T, C): originals solid, reconstructions (if given) dashed, one colour per channel."""
    fig = go.Figure()
    t = np.arange(original.shape[0])
    for c, name in enumerate(channels):
        colour = PALETTE[c % len(PALETTE)]
        fig.add_trace(go.Scatter(x=t, y=original[:, c], mode="lines", name=name, line=dict(color=colour, width=1.5),
                                 legendgroup=name))
        if recon is None:
            continue
        fig.add_trace(go.Scatter(x=t, y=recon[:, c], mode="lines", name=f"{name} (reconstruction)",
                                 line=dict(color=colour, width=1.5, dash="dash"), legendgroup=name, showlegend=False))
    fig.update_xaxes(title_text="time step in window")
    if len(channels) < 3:
        return _layout(fig, title, height)
    # several channels: the legend goes under the axis, where it cannot run over the title
    _layout(fig, title, height + 40)
    return fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.3, "xanchor": "left", "x": 0},
                             margin={"l": 10, "r": 10, "t": 50, "b": 70})


def label_counts(counts: dict[str, int], title: str = "Samples per label", height: int = 260) -> go.Figure:
    names = sorted(counts, key=_natural)
    fig = go.Figure(go.Bar(x=names, y=[counts[n] for n in names], marker_color="#1f77b4"))
    fig.update_xaxes(type="category", title_text="label")
    fig.update_yaxes(title_text="samples")
    return _layout(fig, title, height)
