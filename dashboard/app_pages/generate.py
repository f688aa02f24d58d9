"""Reconstructions & samples: what the model rebuilds, what it dreams up, and what each latent dimension does."""
from __future__ import annotations

import streamlit as st

from dashboard import state
from dashboard.components.generate import interpolation, reconstructions, samples, traversals
from dashboard.components.run_header import explored_run, missing_data

ws = state.workspace()
st.title("Reconstructions & samples")
run = explored_run(ws, "what it rebuilds and generates", ":material/auto_awesome:", needs_data=False)

tabs = st.tabs(["Reconstructions", "Samples from the prior", "Latent traversals", "Interpolation"])
for tab, part, needs_data in zip(tabs, (reconstructions, samples, traversals, interpolation), (True, False, False, True),
                                 strict=True):
    with tab:
        if needs_data and run.data is None:
            missing_data(run, "its reconstructions of real inputs")
        else:
            part.show(run)
