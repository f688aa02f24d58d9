"""The Data page's parts: the controls that cut a recording into windows, and the preview of the data in use."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st

from vae_core.data import SensorOptions
from vae_core.dataset import Dataset

from . import charts
from .images import mosaic


def sensor_controls(prefix: str, base: SensorOptions, columns: list[str] | None = None,
                    numeric: list[str] | None = None, time_col: str | None = None,
                    label_col: str | None = None) -> SensorOptions | None:
    """Window, stride, scaling (and for uploads: columns and missing values) -> SensorOptions."""
    c1, c2, c3 = st.columns(3)
    window = c1.number_input("Window length (time steps)", 2, 10_000, int(base.window), key=f"{prefix}_window",
                             help="How many consecutive time steps make one sample for the VAE.")
    stride = c2.number_input("Stride (steps between windows)", 1, 10_000, int(base.stride), key=f"{prefix}_stride",
                             help="Smaller strides give more, overlapping windows.")
    scaling = c3.selectbox("Scaling", ["zscore", "minmax", "none"], index=["zscore", "minmax", "none"].index(base.scaling),
                           key=f"{prefix}_scaling", format_func={"zscore": "z-score (mean 0, sd 1)",
                                                                  "minmax": "min-max to [0, 1]", "none": "none"}.get,
                           help="Fitted on the training part only, so the test part stays unseen.")
    if columns is None:
        return replace(base, window=int(window), stride=int(stride), scaling=scaling)
    none = "(none)"
    candidates = [c for c in numeric if c not in (time_col, label_col)]
    c1, c2, c3 = st.columns(3)
    time_choice = c1.selectbox("Time column", [none, *columns], index=([none, *columns].index(time_col) if time_col else 0),
                               key=f"{prefix}_time", help="Used only to order the rows; never fed to the model.")
    label_choice = c2.selectbox("Anomaly / label column", [none, *columns],
                                index=([none, *columns].index(label_col) if label_col else 0), key=f"{prefix}_label",
                                help="0/1 flags of anomalous time steps (for the Anomalies page); optional.")
    nan = c3.selectbox("Missing values", ["interpolate", "drop", "error"], key=f"{prefix}_nan",
                       help="Interpolate fills gaps linearly; drop removes those rows; error refuses the file.")
    channels = st.multiselect("Channels (numeric columns fed to the model)", numeric, default=candidates,
                              key=f"{prefix}_channels")
    if not channels:
        st.warning("Choose at least one channel.")
        return None
    return replace(base, channels=tuple(channels), window=int(window), stride=int(stride), scaling=scaling, nan=nan,
                   time_column=None if time_choice == none else time_choice,
                   label_column=None if label_choice == none else label_choice)


def preview(data: Dataset) -> None:
    """What the data in use holds: counts, shape, parts, value range, labels, channels, the loader's notes, examples."""
    st.subheader(f"In use: {data.name}")
    info = data.describe()
    c = st.columns(4)
    c[0].metric("Samples", f"{info['samples']:,}")
    c[1].metric("One sample", " × ".join(str(s) for s in data.input_shape[1 if data.kind == "image" else 0:]),
                help="Images: height × width. Sensor windows: time steps × channels.")
    c[2].metric("Train / val / test", " / ".join(f"{info['parts'][p]:,}" for p in ("train", "val", "test")))
    c[3].metric("Value range", f"{info['min']:.3g} … {info['max']:.3g}")

    left, right = st.columns([3, 2], gap="large")
    with right:
        if "label_counts" in info:
            st.plotly_chart(charts.label_counts(info["label_counts"]), key="label_counts", config=charts.PNG_CONFIG)
        if data.channels:
            st.markdown("**Channels:** " + ", ".join(data.channels))
        if info["notes"]:
            st.markdown("**What the loader did**")
            st.markdown("\n".join(f"- {n}" for n in info["notes"]))
    with left:
        if data.kind == "image":
            if data.y is None:
                st.image(mosaic(data.x[:60], cols=12), caption="The first 60 images")
            else:
                classes = np.unique(data.y)[:12]
                for cls in classes:
                    idx = np.flatnonzero(data.y == cls)[:12]
                    row = st.columns([1, 12], vertical_alignment="center")
                    row[0].markdown(f"**{data.label_text(int(idx[0]))}**")
                    row[1].image(mosaic(data.x[idx], cols=12, upscale=1), width="stretch")
        elif data.series is not None:
            st.plotly_chart(charts.sensor_lines(data.series, data.channels, "The whole recording (scaled)",
                                                data.series_anomaly, data.split_starts), key="series",
                            config=charts.PNG_CONFIG)
            st.caption("Red: labelled anomalies. The model trains on the first part, is checked on the validation "
                       "part, and scored on the test part, in time order.")
        else:
            shown_idx = [int(np.flatnonzero(data.y == cls)[0]) for cls in np.unique(data.y)[:4]] if data.y is not None else [0, 1]
            for i in shown_idx:
                st.plotly_chart(charts.window_overlay(data.x[i], None, data.channels, f"{data.label_text(i) or 'window'} (sample {i})"),
                                key=f"window_{i}", config=charts.PNG_CONFIG)
