"""Data: pick a bundled set or upload your own, and see what it holds before training on it."""
from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import streamlit as st

from dashboard import state
from dashboard.components import charts
from dashboard.components.images import mosaic
from vae_core.data import (
    BUNDLED,
    MAX_UPLOAD_BYTES,
    SensorOptions,
    bundled_sensor_options,
    load_bundled,
    load_upload,
    sniff_csv,
)
from vae_core.dataset import DataError, Dataset

BUNDLED_TITLES = {"mnist": "MNIST digits", "basicmotions": "BasicMotions (smartwatch)",
                  "bleeding": "InternalBleeding16 (anomaly)", "daphnet": "Daphnet (gait accelerometers)"}
FORMATS = ("MNIST IDX files (images + labels, .gz or not), CSV with a label and 784 (or k×k) pixel columns, "
           ".npz with `x`/`images` and `y`/`labels`, a .zip of PNG/JPEG images in one folder per label, or a "
           "sensor CSV with a header row (optional time and anomaly/label columns).")

ws = state.workspace()
st.title("Data")
st.caption("Choose what the VAE learns from. The bundled sets are real recordings that ship with VAE Explorer; "
           "your own files stay in this browser session.")


def use(data: Dataset, source: str, what: str) -> None:
    ws.set_data(data, source)
    st.session_state["upload_round"] = st.session_state.get("upload_round", 0) + 1  # empties the uploader
    state.flash(f"Loaded {what}: {len(data.x):,} samples of shape {data.input_shape}.")
    st.rerun()


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


# ---- bundled data -------------------------------------------------------------------------------------
st.subheader("Bundled data")
current = ws.data_source.split(":", 1)[1] if ws.data_source.startswith("bundled:") else None
names = list(BUNDLED)
choice = st.segmented_control("Bundled data set", names, default=current, format_func=BUNDLED_TITLES.get,
                              key=f"bundled_choice_{ws.data_source}", label_visibility="collapsed")
shown = choice or current
if shown:
    st.caption(BUNDLED[shown])
if choice and choice != current:
    use(state.bundled(choice), f"bundled:{choice}", BUNDLED_TITLES[choice])
if current and bundled_sensor_options(current) is not None:
    with st.expander("Windows and scaling for this recording"):
        opts = sensor_controls("bundled", bundled_sensor_options(current))
        if st.button("Reload with these settings", key="bundled_reload"):
            try:
                use(load_bundled(current, opts), f"bundled:{current}", BUNDLED_TITLES[current])
            except DataError as exc:
                st.error(str(exc))

# ---- upload -------------------------------------------------------------------------------------------
st.subheader("Your own data")
files = st.file_uploader("Upload data files", accept_multiple_files=True,
                         key=f"upload_{st.session_state.get('upload_round', 0)}",
                         max_upload_size=MAX_UPLOAD_BYTES // 2**20,
                         help=f"Accepted: {FORMATS} Up to {MAX_UPLOAD_BYTES // 2**20} MB per file.")
st.caption(f"Accepted: {FORMATS} Files up to {MAX_UPLOAD_BYTES // 2**20} MB; they are read in memory, never "
           "run or saved on the server.")
if files:
    blobs = [(f.name, f.getvalue()) for f in files]
    signature = hashlib.sha256(b"".join(hashlib.sha256(b).digest() for _, b in blobs)).hexdigest()[:12]
    sensor = None
    plain_name = blobs[0][0].lower().removesuffix(".gz")
    is_csv = len(blobs) == 1 and plain_name.endswith((".csv", ".txt"))
    if is_csv:
        try:
            info = sniff_csv(blobs[0][1])
        except DataError as exc:
            info = None
            st.error(str(exc))
        if info is not None and info.looks_like == "sensor":
            st.markdown(f"**{blobs[0][0]}** looks like a sensor recording: {info.rows:,} rows, "
                        f"{len(info.numeric)} numeric columns.")
            sensor = sensor_controls(f"up_{signature}", SensorOptions(), list(info.columns), list(info.numeric),
                                     info.time_column, info.label_column)
    label = ", ".join(name for name, _ in blobs)
    if st.button(f"Load {label}", type="primary", key=f"load_{signature}"):
        try:
            data = load_upload(blobs, sensor)
        except DataError as exc:
            st.error(f"Could not load {label}: {exc}")  # the data already loaded stays in place
        else:
            use(data, f"upload:{label}", label)

# ---- preview ------------------------------------------------------------------------------------------
data = ws.data
st.divider()
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
