"""Reconstructions & samples: what the model rebuilds, what it dreams up, and what each latent dimension does."""
from __future__ import annotations

import streamlit as st

from dashboard import state
from dashboard.components.generate import interpolation, reconstructions, samples, traversals
from dashboard.components.run_header import explored_run

ws = state.workspace()
st.title("Reconstructions & samples")
run = explored_run(ws, "what it rebuilds and generates", ":material/auto_awesome:")

tabs = st.tabs(["Reconstructions", "Samples from the prior", "Latent traversals", "Interpolation"])
for tab, part in zip(tabs, (reconstructions, samples, traversals, interpolation), strict=True):
    with tab:
        part.show(run)
