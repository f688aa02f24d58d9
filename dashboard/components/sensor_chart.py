"""A recording drawn as small multiples: one panel per channel on a shared time axis (the file's own timestamps when
it has them), the train/validation/test parts and the labelled anomalies shaded, each named once in the legend."""
from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from vae_core.dataset import Dataset

from .anomaly_charts import LABEL_COLOUR, shade_mask, shade_parts
from .charts import PALETTE, _layout
from .time_axis import drawn, time_axis

PANEL_PX = 130  # height of one channel's panel
COLOURS = [c for c in PALETTE if c != LABEL_COLOUR]  # red stays the labelled anomalies' colour
MAX_PANELS = 9  # more channels: the page offers a picker


def recording_panels(data: Dataset, channels: Sequence[str], title: str) -> go.Figure:
    """The chosen channels of a sensor recording's series (scaled), one panel each."""
    axis = time_axis(data)
    rows = len(channels)
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=min(0.08, 0.25 / rows),
                        subplot_titles=list(channels))
    for row, name in enumerate(channels, start=1):
        c = data.channels.index(name)
        x, y = drawn(data.series[:, c], axis, "mean")
        fig.add_trace(go.Scattergl(x=x, y=y, mode="lines", name=name, showlegend=False,
                                   line=dict(width=1, color=COLOURS[c % len(COLOURS)]),
                                   hovertemplate=f"{name} at %{{x}}: %{{y:.3g}}<extra></extra>"), row=row, col=1)
    shade_parts(fig, data, axis, row=1)
    shade_mask(fig, data.series_anomaly, axis, "labelled anomaly", LABEL_COLOUR, 0.3, row=1)
    fig.update_xaxes(title_text=axis.title, row=rows, col=1)
    fig.update_annotations(font_size=12, xanchor="left", x=0)  # channel names at each panel's top left
    height = 150 + PANEL_PX * rows
    _layout(fig, title, height)
    # the legend under the time axis: above, it met the title in a narrow column
    return fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-75 / height, xanchor="left", x=0),
                             margin=dict(t=70, b=90))
