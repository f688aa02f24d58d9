"""The Data page's preview of the data in use: counts, labels, the loader's notes, examples or the recording."""
from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core.dataset import Dataset

from . import charts
from .images import mosaic
from .sensor_chart import recording_panels

MAX_SHOWN = 6  # channels drawn at once; more get a picker


def recording(data: Dataset) -> None:
    """The recording in small multiples, one panel per channel (a picker past MAX_SHOWN channels)."""
    names = list(data.channels)
    shown = names if len(names) <= MAX_SHOWN else st.multiselect(
        "Channels drawn", names, default=names[:MAX_SHOWN], key="data_channels_drawn",
        help=f"{len(names)} channels: choose which ones to draw, one panel each.") or names[:1]
    st.plotly_chart(recording_panels(data, shown, "The whole recording (scaled)"), key="series",
                    config=charts.PNG_CONFIG)
    st.caption("Shaded: the train, validation and test parts, in time order (the model trains on the first, is checked "
               "on the validation part and tested on the rest); red: labelled anomalies.")


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
    with left:
        if data.kind == "image":
            if data.y is None:
                st.image(mosaic(data.x[:60], cols=12), caption="The first 60 images")
            else:
                classes = np.unique(data.y)[:12]
                for cls in classes:
                    idx = np.flatnonzero(data.y == cls)[:12]
                    # the class name as the row's caption: a narrow side column broke names mid-word
                    st.image(mosaic(data.x[idx], cols=12, upscale=1), caption=data.label_text(int(idx[0])),
                             width="stretch")
        elif data.series is not None:
            recording(data)
        else:
            shown_idx = ([int(np.flatnonzero(data.y == cls)[0]) for cls in np.unique(data.y)[:4]]
                         if data.y is not None else [0, 1])
            for i in shown_idx:
                st.plotly_chart(charts.window_overlay(data.x[i], None, data.channels,
                                                      f"{data.label_text(i) or 'window'} (sample {i})"),
                                key=f"window_{i}", config=charts.PNG_CONFIG)
    if info["notes"]:  # full width: in the narrow right column file names broke mid-word
        st.markdown("**What the loader did**")
        st.markdown("\n".join(f"- {n}" for n in info["notes"]))
