"""Advice for a short sensor recording, shown before training (on the Data page and the Train page)."""
from __future__ import annotations

import streamlit as st

from vae_core.advice import short_recording_advice
from vae_core.dataset import Dataset

from .. import state
from ..links import defaults


def planned(data: Dataset) -> tuple[int, int]:
    """(epochs, batch size) the Train page will use for this data: the ones set there (they carry over from other
    data), else the defaults for the data's kind."""
    values, recommended = state.settings(), defaults(data.kind)
    return int(values.get("epochs", recommended["epochs"])), int(values.get("batch_size", recommended["batch_size"]))


def show(data: Dataset, epochs: int, batch_size: int) -> list[str]:
    """A warning with the advice when the recording is short for these settings; the sentences ([] when fine)."""
    advice = short_recording_advice(data, epochs, batch_size)
    if advice:
        st.warning("**Before you train: this recording gives few training windows.** " + " ".join(advice),
                   icon=":material/lightbulb:")
    return advice
