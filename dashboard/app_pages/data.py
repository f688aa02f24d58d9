"""Data: pick a bundled set or upload your own, and see what it holds before training on it."""
from __future__ import annotations

import hashlib

import streamlit as st

from dashboard import state
from dashboard.components import data_view
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
        opts = data_view.sensor_controls("bundled", bundled_sensor_options(current))
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
            sensor = data_view.sensor_controls(f"up_{signature}", SensorOptions(), list(info.columns), list(info.numeric),
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
st.divider()
data_view.preview(ws.data)
