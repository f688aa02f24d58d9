"""The Anomalies page's figures: the whole recording's step scores with its parts, labels and events; the channel x
time heat map of reconstruction error; one event's signals beside their reconstruction. Arrays in, figures out."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from vae_core.anomaly import Event, channel_time_matrix
from vae_core.dataset import Dataset

from .charts import _layout
from .time_axis import TimeAxis, drawn, part_spans, spans

PART_COLOURS = {"train": "#1f77b4", "validation": "#2ca02c", "test": "#7f7f7f"}
LABEL_COLOUR, EVENT_COLOUR, THRESHOLD_COLOUR, RECON_COLOUR = "#d62728", "#ff7f0e", "#d62728", "#1f77b4"


def _legend_patch(fig: go.Figure, name: str, colour: str, opacity: float, row: int | None = None) -> None:
    """A legend entry for shaded regions (shapes have none): one label, however many regions, never on the chart."""
    trace = go.Scatter(x=[None], y=[None], mode="markers", name=name, showlegend=True,
                       marker=dict(symbol="square", size=14, color=colour, opacity=min(1.0, opacity * 2.5)))
    fig.add_trace(trace, **({"row": row, "col": 1} if row else {}))


def shade_parts(fig: go.Figure, data: Dataset, axis: TimeAxis, row: int | None = None) -> None:
    """Train, validation and test stretches as faint bands, one legend entry each."""
    where = {"row": "all", "col": 1} if row else {}
    for name in dict.fromkeys(p for p, _, _ in part_spans(data)):
        _legend_patch(fig, f"{name} part", PART_COLOURS[name], 0.08, row)
    for name, first, last in part_spans(data):
        fig.add_vrect(x0=axis.edge(first), x1=axis.edge(last + 1) if last + 1 < len(axis.x) else axis.at(last),
                      fillcolor=PART_COLOURS[name], opacity=0.08, line_width=0, layer="below", **where)


def shade_mask(fig: go.Figure, mask: np.ndarray | None, axis: TimeAxis, name: str, colour: str, opacity: float,
               row: int | None = None) -> int:
    """Steps where a 0/1 mask (L,) is set as bands (labelled anomalies, alarms), one legend entry; how many bands."""
    found = spans(mask) if mask is not None else []
    if not found:
        return 0
    _legend_patch(fig, name, colour, opacity, row)
    where = {"row": "all", "col": 1} if row else {}
    for first, last in found:
        fig.add_vrect(x0=axis.edge(first), x1=axis.edge(last + 1) if last + 1 < len(axis.x) else axis.at(last),
                      fillcolor=colour, opacity=opacity, line_width=0, layer="below", **where)
    return len(found)


def events_mask(events: Sequence[Event], length: int) -> np.ndarray:
    mask = np.zeros(length, bool)
    for e in events:
        mask[e.start:e.end + 1] = True
    return mask


def legend_under(fig: go.Figure, height: int) -> go.Figure:
    """The legend under the x axis's ticks and title (above the chart it met the title in narrow columns)."""
    return fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-95 / (height - 175), xanchor="left", x=0),
                             margin=dict(t=50, b=125))


def score_timeline(data: Dataset, axis: TimeAxis, total: np.ndarray, threshold: float | None,
                   events: Sequence[Event], log_y: bool = False, height: int = 460) -> go.Figure:
    """Step scores (L,) of the whole recording: parts shaded, labelled anomalies red, events orange, the threshold."""
    x, y = drawn(total, axis)
    fig = go.Figure()
    shade_parts(fig, data, axis)
    shade_mask(fig, data.series_anomaly, axis, "labelled anomaly", LABEL_COLOUR, 0.3)
    shade_mask(fig, events_mask(events, len(total)), axis, "detected event", EVENT_COLOUR, 0.25)
    fig.add_trace(go.Scattergl(x=x, y=y, mode="lines", name="step score", line=dict(color="#1f77b4", width=1.2),
                               hovertemplate="%{x}: %{y:.3g}<extra>step score</extra>"))
    if threshold is not None:
        fig.add_trace(go.Scatter(x=[x[0], x[-1]], y=[threshold, threshold], mode="lines", name="threshold",
                                 line=dict(color=THRESHOLD_COLOUR, dash="dash", width=1.5),
                                 hovertemplate=f"threshold {threshold:.3g}<extra></extra>"))
    fig.update_xaxes(title_text=axis.title)
    fig.update_yaxes(title_text="step score (nats)", type="log" if log_y else "linear")
    return legend_under(_layout(fig, "Anomaly score of every time step, whole recording", height), height)


def channel_heatmap(axis: TimeAxis, channel_scores: np.ndarray, names: Sequence[str], height: int = 320) -> go.Figure:
    """Channel x time heat map of each channel's reconstruction error (max over each column of steps)."""
    matrix, starts = channel_time_matrix(np.nan_to_num(channel_scores), n_bins=600)
    fig = go.Figure(go.Heatmap(z=matrix, x=axis.x[starts], y=list(names), colorscale="Reds",
                               colorbar=dict(title=dict(text="error (nats)", side="right"), thickness=12),
                               hovertemplate="%{y} at %{x}: %{z:.3g} nats<extra></extra>"))
    fig.update_xaxes(title_text=axis.title)
    fig.update_yaxes(autorange="reversed", type="category")
    return _layout(fig, "Which channel is rebuilt badly, when (reconstruction error per channel)",
                   max(height, 90 + 28 * len(names)))


def event_signals(axis: TimeAxis, first: int, original: np.ndarray, recon: np.ndarray, names: Sequence[str],
                  event: Event, unit: str) -> go.Figure:
    """One panel per channel: the recording (solid) and the model's reconstruction (dashed) around an event."""
    steps = np.arange(first, first + len(original))
    x = axis.x[steps]
    fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, vertical_spacing=0.12 / max(len(names), 1),
                        subplot_titles=list(names))
    for c in range(len(names)):  # one colour per role in every panel, as the legend says
        fig.add_trace(go.Scatter(x=x, y=original[:, c], mode="lines", name="recording", legendgroup="recording",
                                 showlegend=c == 0, line=dict(color="#333", width=1.4)), row=c + 1, col=1)
        fig.add_trace(go.Scatter(x=x, y=recon[:, c], mode="lines", name="reconstruction", legendgroup="recon",
                                 showlegend=c == 0, line=dict(color=RECON_COLOUR, width=1.8, dash="dash")),
                      row=c + 1, col=1)
    fig.add_vrect(x0=axis.edge(event.start), x1=axis.edge(event.end + 1), fillcolor=EVENT_COLOUR, opacity=0.2,
                  line_width=0, layer="below", row="all", col=1)
    fig.update_xaxes(title_text=axis.title, row=len(names), col=1)
    fig.update_yaxes(title_text=unit, title_font=dict(size=11))
    _layout(fig, "", 120 + 170 * len(names))
    return fig.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.04, xanchor="right", x=1),
                             margin=dict(t=70))
