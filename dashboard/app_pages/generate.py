"""Reconstructions & samples: what the model rebuilds, what it dreams up, and what each latent dimension does."""
from __future__ import annotations

import streamlit as st

from dashboard import state
from dashboard.components.generate import classes, interpolation, reconstructions, samples, traversals
from dashboard.components.run_header import explored_run, missing_data

ws = state.workspace()
st.title("Reconstructions & samples")
run = explored_run(ws, "what it rebuilds and generates", ":material/auto_awesome:", needs_data=False)

# (tab, what draws it, needs the run's data); a conditional run also draws every class from the same codes
parts = [("Reconstructions", reconstructions, True),
         ("Samples from the prior" if not run.model.classes else "Samples of a chosen class", samples, False),
         ("Latent traversals", traversals, False), ("Interpolation", interpolation, True)]
if run.model.classes:
    parts.append(("Every class × the same z", classes, False))
for tab, (_, part, needs_data) in zip(st.tabs([name for name, _, _ in parts]), parts, strict=True):
    with tab:
        if needs_data and run.data is None:
            missing_data(run, "its reconstructions of real inputs")
        else:
            part.show(run)
