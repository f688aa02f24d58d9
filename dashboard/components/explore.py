"""Helpers for the Latent space and Reconstructions pages: item names, the background t-SNE, small-multiple charts.

Sensor windows are (T, C) arrays.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from vae_core import analysis
from vae_core.dataset import Dataset
from vae_core.run import Run
from vae_core.tasks import Task, get_or_start

from ..workspace import Workspace
from . import images
from .charts import PALETTE, PNG_CONFIG, _layout

SWEEP_SCALE = "RdBu_r"  # low values blue, high values red
_KEPT = "explore_widget_values"  # session_state: last values of the widgets drawn with keep()


def keep(key: str, default: Any) -> str:
    """Widget key whose value survives page switches (Streamlit drops the state of widgets not drawn).

    Draw the widget with `key=keep(key, default)` and no `value`/`index`: it starts from its last value,
    else from `default`.
    """
    saved = st.session_state.setdefault(_KEPT, {})
    if key not in st.session_state:
        st.session_state[key] = saved.get(key, default)
    saved[key] = st.session_state[key]
    return key


# ---- naming inputs ------------------------------------------------------------------------------------

def label_word(data: Dataset) -> str:
    """What the labels are, for legends: 'digit', 'anomaly flag', 'label' or '' when unlabelled."""
    if data.y is None:
        return ""
    if data.label_kind == "anomaly":
        return "anomaly flag"
    # only the bundled MNIST is known to hold digits: uploaded IDX labels 0-9 may be Fashion-MNIST's clothes
    return "digit" if data.kind == "image" and data.name == "mnist" else "label"


def label_phrase(data: Dataset, index: int) -> str:
    """'digit 3', 'Running', 'anomaly'; '' when unlabelled."""
    text = data.label_text(index)
    return f"digit {text}" if text and label_word(data) == "digit" else text


def item_name(data: Dataset, index: int) -> str:
    """Short name of one input, e.g. '#12 (digit 3)', '#7 (Running)' or 'window 40 (anomaly)'."""
    base = f"window {index}" if data.window_starts is not None else f"#{index}"  # cut from one recording
    label = label_phrase(data, index)
    return f"{base} ({label})" if label else base


def item_hover(data: Dataset, index: int) -> str:
    """Hover text of one input: its name, and for windows cut from a recording the time steps it covers."""
    text = item_name(data, index)
    if data.window_starts is not None:
        start = int(data.window_starts[index])
        text += f"<br>time steps {start}–{start + data.input_shape[0] - 1}"
    return text


def label_summary(data: Dataset, ids: Sequence[int]) -> str:
    """'digit 3 ×20, digit 5 ×4' for a selection ('' when unlabelled), most frequent first."""
    if data.y is None or not len(ids):
        return ""
    names = [label_phrase(data, int(i)) for i in ids]
    counts = {n: names.count(n) for n in dict.fromkeys(names)}
    return ", ".join(f"{n} ×{c}" for n, c in sorted(counts.items(), key=lambda kv: -kv[1]))


def labels_in_turn(data: Dataset, ids: Sequence[int]) -> list[int]:
    """ids reordered to take one of each label in turn, so the first few shown include the rare labels."""
    if data.y is None:
        return list(ids)
    groups: dict[int, list[int]] = {}
    for i in ids:
        groups.setdefault(int(data.y[i]), []).append(int(i))
    queues = sorted(groups.values(), key=len, reverse=True)
    return [q[k] for k in range(len(queues[0]) if queues else 0) for q in queues if k < len(q)]


# ---- t-SNE in the background ---------------------------------------------------------------------------

def tsne_task(ws: Workspace, run: Run, key: tuple, means: np.ndarray, perplexity: float) -> Task:
    """Start (or find) the t-SNE of `means` (N, D) in the background; its map lands in run.memo under `key`.

    Only the map being looked at computes (2 cores): other t-SNE tasks of this workspace are stopped. A map
    finished after the run was retrained is dropped (the memo's version moved on).
    """
    task_key = ("tsne", run.id, *key)
    version = run.memo.version
    with ws.lock:
        for other_key, other in ws.background.items():
            if other_key != task_key and other_key[0] == "tsne" and other.active:
                other.stop()
    z = means.copy()

    def work(task: Task) -> np.ndarray:
        return analysis.tsne_2d(z, perplexity=perplexity, seed=0, progress=task.report)

    def on_done(task: Task) -> None:  # in the task's thread: never st.*
        if task.status == "finished":
            run.memo.put(key, task.result, version)
        with ws.lock:
            if task.status != "failed" and ws.background.get(task_key) is task:
                ws.background.pop(task_key)

    return get_or_start(ws.background, task_key, lambda: Task(work, "tsne", on_done=on_done), ws.lock)


# ---- plotly selections ---------------------------------------------------------------------------------

def selected_ids(event: Any) -> list[int]:
    """Sample ids (the points' customdata) of a plotly_chart selection, in selection order, no repeats."""
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        return []
    ids: list[int] = []
    for p in points:
        value = p.get("customdata")
        if isinstance(value, (list, tuple)):
            value = value[0] if value else None
        if value is not None:
            ids.append(int(value))
    return list(dict.fromkeys(ids))


def emphasise_anomalies(fig: go.Figure) -> go.Figure:
    """A latent map of windows flagged normal/anomaly: the few anomalies drawn last, larger and red."""
    fig.data = tuple(sorted(fig.data, key=lambda trace: trace.name == "anomaly"))
    fig.update_traces(selector=dict(name="normal"), marker=dict(color="#7f9fbf", opacity=0.5))
    fig.update_traces(selector=dict(name="anomaly"), marker=dict(color="#d62728", size=8, opacity=1.0))
    return fig


# ---- image grids -----------------------------------------------------------------------------------------

def pair_tiles(originals: np.ndarray, recons: np.ndarray, upscale: int = 3) -> list[np.ndarray]:
    """One small picture per item, original left and reconstruction right: N x (h, w) uint8."""
    return [images.mosaic(np.stack([o, r]), cols=2, upscale=upscale) for o, r in zip(originals, recons, strict=True)]


def pairs_grid(originals: np.ndarray, recons: np.ndarray, cols: int = 8) -> np.ndarray:
    """Rows of `cols` originals, each followed by a row of their reconstructions: one uint8 mosaic."""
    n = len(originals)
    rows = []
    for start in range(0, n, cols):
        chunk = slice(start, min(start + cols, n))
        for part in (originals[chunk], recons[chunk]):
            pad = cols - len(part)
            rows.append(np.concatenate([part, np.ones((pad, *part.shape[1:]), part.dtype)]) if pad else part)
    return images.mosaic(np.concatenate(rows), cols=cols)


# ---- sensor windows as small multiples ---------------------------------------------------------------

def _grid_figure(n: int, cols: int, titles: Sequence[str], panel_height: int) -> tuple[go.Figure, int]:
    cols = max(1, min(cols, n))
    rows = max(1, -(-n // cols))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(titles), vertical_spacing=min(0.3 / rows, 0.12),
                        horizontal_spacing=0.07)
    fig.update_annotations(font_size=11)
    return fig, rows * panel_height + 110


def _legend_below(fig: go.Figure, title: str | None = None) -> go.Figure:
    """Small multiples: the legend goes under the panels (on top it would cover the panel titles)."""
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.03, xanchor="left", x=0, title=title),
                      margin=dict(b=60))
    return fig


def window_grid(windows: np.ndarray, titles: Sequence[str], channels: Sequence[str], title: str,
                cols: int = 3, panel_height: int = 150) -> go.Figure:
    """Several windows (N, T, C) side by side, one small panel each, one colour per channel (legend once)."""
    fig, height = _grid_figure(len(windows), cols, titles, panel_height)
    cols = max(1, min(cols, len(windows)))
    t = np.arange(windows.shape[1])
    for k, window in enumerate(windows):
        r, c = divmod(k, cols)
        for ch, name in enumerate(channels):
            fig.add_trace(go.Scatter(x=t, y=window[:, ch], mode="lines", name=name, legendgroup=name,
                                     showlegend=k == 0, line=dict(color=PALETTE[ch % len(PALETTE)], width=1),
                                     hovertemplate=f"{name}<br>step %{{x}}: %{{y:.3g}}<extra></extra>"),
                          row=r + 1, col=c + 1)
    fig.update_xaxes(showticklabels=False)
    return _legend_below(_layout(fig, title, height))


def traversal_lines(rows: np.ndarray, values: Sequence[float], titles: Sequence[str], channel: int,
                    channel_name: str, title: str, cols: int = 3, panel_height: int = 170) -> go.Figure:
    """Traversals of sensor windows (R, K, T, C): one panel per dimension, one line per value of z_d."""
    fig, height = _grid_figure(len(rows), cols, titles, panel_height)
    cols = max(1, min(cols, len(rows)))
    colours = _sweep_colours(values)
    t = np.arange(rows.shape[2])
    for k, row in enumerate(rows):
        r, c = divmod(k, cols)
        for j, (v, colour) in enumerate(zip(values, colours, strict=True)):
            fig.add_trace(go.Scatter(x=t, y=row[j, :, channel], mode="lines", name=f"z = {v:+.2f}",
                                     legendgroup=f"v{j}", showlegend=k == 0, line=dict(color=colour, width=1.3),
                                     hovertemplate=f"z = {v:+.2f}<br>step %{{x}}: %{{y:.3g}}<extra></extra>"),
                          row=r + 1, col=c + 1)
    fig.update_xaxes(showticklabels=False)
    return _legend_below(_layout(fig, title, height), f"z_d (drawn: {channel_name}):")


def path_lines(path: np.ndarray, start: np.ndarray, end: np.ndarray, channel: int, channel_name: str,
               names: tuple[str, str], title: str, height: int = 380) -> go.Figure:
    """An interpolation (S, T, C) as lines coloured from start to end, with the two original inputs in black."""
    fig = go.Figure()
    t = np.arange(path.shape[1])
    colours = _sweep_colours(np.linspace(0.0, 1.0, len(path)))
    for s, (window, colour) in enumerate(zip(path, colours, strict=True)):
        frac = s / max(len(path) - 1, 1)
        fig.add_trace(go.Scatter(x=t, y=window[:, channel], mode="lines", name=f"step {s} (t = {frac:.2f})",
                                 line=dict(color=colour, width=1.5)))
    for window, name, dash in ((start, names[0], "solid"), (end, names[1], "dot")):
        fig.add_trace(go.Scatter(x=t, y=window[:, channel], mode="lines", name=f"original {name}",
                                 line=dict(color="black", width=2.5, dash=dash)))
    fig.update_xaxes(title_text="time step in window")
    fig.update_yaxes(title_text=f"{channel_name} (scaled)")
    fig = _layout(fig, title, height)  # then a vertical legend: one entry per step reads better beside the plot
    fig.update_layout(legend=dict(orientation="v", yanchor="top", y=1, xanchor="left", x=1.02))
    return fig


def _sweep_colours(values: Sequence[float]) -> list[str]:
    v = np.asarray(values, dtype=float)
    span = v.max() - v.min() if len(v) else 0.0
    pos = (v - v.min()) / span if span > 0 else np.full(len(v), 0.5)
    return sample_colorscale(SWEEP_SCALE, list(pos))


SHOWN_IMAGES, SHOWN_WINDOWS = 24, 12  # selected inputs drawn beside the latent map


def selected_inputs(data: Dataset, chosen: list[int]) -> None:
    """The inputs selected on a latent map: a mosaic of images or small multiples of windows, and their names."""
    st.subheader("Selected inputs")
    if not chosen:
        st.info("Drag a box over the map (or pick the lasso in the chart's toolbar), or click a point, to see those "
                "inputs here. Double-click the map to clear the selection.",
                icon=":material/touch_app:")
    else:
        summary = label_summary(data, chosen)
        st.markdown(f"**{len(chosen):,}** selected" + (f": {summary}" if summary else ""))
        if data.kind == "image":
            first = chosen[:SHOWN_IMAGES]
            grid = images.mosaic(data.x[first], cols=6, upscale=2)
            st.image(grid, caption=f"{len(first)} of the {len(chosen)} selected inputs" +
                                   (", one of each label in turn" if data.y is not None else ""), width="stretch")
            st.download_button("Download these images (PNG)", images.png_bytes(grid), "selected_inputs.png",
                               "image/png", key="latent_selected_png", on_click="ignore")
        else:
            first = chosen[:SHOWN_WINDOWS]
            st.plotly_chart(window_grid(data.x[first], [item_name(data, i) for i in first],
                                        data.channels, f"{len(first)} selected windows (scaled)", cols=2),
                            key="latent_selected_windows", config=PNG_CONFIG)
        st.caption(", ".join(item_name(data, i) for i in chosen[:60]) + (" …" if len(chosen) > 60 else ""))
