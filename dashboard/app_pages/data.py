"""Data: pick a bundled set or upload your own, and see what it holds before training on it."""
from __future__ import annotations

import json
from dataclasses import asdict

import streamlit as st

from dashboard import state
from dashboard.components import advice_view, data_view, label_names, sensor_setup
from dashboard.components.upload import upload_section
from vae_core.data import BUNDLED, SensorOptions, bundled_file, bundled_sensor_options, load_upload
from vae_core.dataset import DataError, Dataset

BUNDLED_TITLES = {"mnist": "MNIST digits", "basicmotions": "BasicMotions (smartwatch)",
                  "bleeding": "InternalBleeding16 (anomaly)", "daphnet": "Daphnet (gait accelerometers)"}

ws = state.workspace()
st.title("Data")
st.caption("Choose what the VAE learns from. The bundled sets are real recordings that ship with VAE Explorer; "
           "your own files stay in this browser session.")


def use(data: Dataset, source: str, what: str, sensor: dict | None = None,
        file: tuple[str, bytes] | None = None) -> None:
    ws.set_data(data, source, sensor, file)
    for counter in ("upload_round", "data_round"):  # empties the uploader; the sensor controls start afresh
        st.session_state[counter] = st.session_state.get(counter, 0) + 1
    state.flash(f"Loaded {what}: {len(data.x):,} samples of shape {data.input_shape}.")
    st.rerun()


# ---- bundled data -------------------------------------------------------------------------------------
st.subheader("Bundled data")
current = ws.data_source.split(":", 1)[1] if ws.data_source.startswith("bundled:") else None
choice = st.segmented_control("Bundled data set", list(BUNDLED), default=current, format_func=BUNDLED_TITLES.get,
                              key=f"bundled_choice_{ws.data_source}", label_visibility="collapsed")
shown = choice or current
if shown:
    st.caption(BUNDLED[shown])
if choice and choice != current:
    use(state.bundled(choice), f"bundled:{choice}", BUNDLED_TITLES[choice])

# ---- upload -------------------------------------------------------------------------------------------
st.subheader("Your own data")
upload_section(use)

# ---- the recording in use: its columns, windows and split ----------------------------------------------
data = ws.data
base = bundled_sensor_options(current) if current else SensorOptions() if ws.data_file else None
file = bundled_file(current) if current else ws.data_file
if data.kind == "sensor" and data.series is not None and base is not None and file is not None:
    with st.expander(f"Columns, windows and split of {data.name}", expanded=ws.data_file is not None):
        opts = sensor_setup.show(data, ws.data_source, ws.data_sensor, base, file,
                                 prefix=f"sensor_{st.session_state.get('data_round', 0)}")
        if opts is not None:
            try:
                if current:
                    reloaded = state.bundled_with(current, json.dumps(asdict(opts), sort_keys=True))
                else:
                    reloaded = load_upload([file], opts)
            except DataError as exc:
                st.error(f"Could not reload {data.name}: {exc}")  # the data in use stays as it was
            else:
                use(reloaded, ws.data_source, data.name, sensor=asdict(opts), file=ws.data_file)
renamed = label_names.show(data, key=f"label_names_{st.session_state.get('data_round', 0)}")
if renamed is not None:
    use(renamed, ws.data_source, f"{data.name} with named labels", ws.data_sensor, ws.data_file)
if data.kind == "sensor":
    advice_view.show(data, *advice_view.planned(data))

# ---- preview ------------------------------------------------------------------------------------------
st.divider()
data_view.preview(data)
