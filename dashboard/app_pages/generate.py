"""Reconstructions & samples: what the model rebuilds, what it dreams up, and what each latent dimension does."""
from __future__ import annotations

import streamlit as st

from dashboard import state
from dashboard.components import prior_view
from dashboard.components.generate import classes, interpolation, reconstructions, samples, traversals
from dashboard.components.run_header import explored_run, missing_data

ws = state.workspace()
st.title("Reconstructions & samples")
run = explored_run(ws, "what it rebuilds and generates", ":material/auto_awesome:", needs_data=False)

# (tab, its module, what it shows of real inputs: None when it needs no data); a conditional run also draws every
# class from the same codes
parts = [("Reconstructions", reconstructions, "its reconstructions of real inputs"),
         ("Samples from the prior" if not run.model.classes else "Samples of a chosen class", samples, None),
         ("Latent traversals", traversals, None),
         ("Interpolation", interpolation, "its interpolations between real inputs")]
if prior_view.applies(run):
    parts.insert(2, ("Prior vs codes", prior_view, "where the codes of real inputs lie against the prior"))
if run.model.classes:
    parts.append(("Every class × the same z", classes, None))
for tab, (_, part, needs) in zip(st.tabs([name for name, _, _ in parts]), parts, strict=True):
    with tab:
        if needs and run.data is None:
            missing_data(run, needs)
        else:
            part.show(run)
