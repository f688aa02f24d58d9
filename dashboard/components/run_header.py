"""The top of every page that explores a run: which run it shows, or why it cannot show one yet."""
from __future__ import annotations

import streamlit as st

from vae_core.run import Run

from ..workspace import Workspace


def explored_run(ws: Workspace, what: str, icon: str) -> Run:
    """The run chosen in the sidebar; stops the page with a message when there is none or it is training.

    `what` completes "this page then shows ..." / "... appear here when training ends" (e.g. "its latent map").
    """
    run = ws.current_run()
    if run is None:
        st.info(f"No trained model yet. Train one first; this page then shows {what}.", icon=icon)
        st.page_link("app_pages/train.py", label="Go to Train", icon=":material/model_training:")
        st.stop()
    if ws.busy_run_id() == run.id:
        st.info(f"**{run.label}** is being trained right now, so it is not shown here: {what} will appear when "
                "training ends.", icon=":material/hourglass:")
        st.page_link("app_pages/train.py", label="Watch it train", icon=":material/model_training:")
        st.stop()
    st.caption(f"Exploring **{run.label}** · {run.status.replace('_', ' ')} (choose another run in the sidebar).")
    return run
