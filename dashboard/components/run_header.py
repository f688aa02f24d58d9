"""The top of every page that explores a run: which run it shows, or why it cannot show one yet."""
from __future__ import annotations

import streamlit as st

from vae_core.run import Run

from ..workspace import Workspace


def explored_run(ws: Workspace, what: str, icon: str, needs_data: bool = True) -> Run:
    """The run chosen in the sidebar; stops the page with a message when there is none, it is training, or (when
    the page `needs_data`) the data it was trained on is not loaded.

    `what` completes "this page then shows ..." / "... appear here when training ends" (e.g. "its latent map").
    """
    run = ws.current_run()
    if run is None:
        st.info(f"No trained model yet. Train one first; this page then shows {what}.", icon=icon)
        st.page_link("app_pages/train.py", label="Go to Train", icon=":material/model_training:")
        st.stop()
    if ws.busy_run_id() == run.id:
        st.info(f"**{run.label}** is being trained (or scored on its test part) right now, so it is not shown here: "
                f"{what} will appear when that ends.", icon=":material/hourglass:")
        st.page_link("app_pages/train.py", label="Watch it train", icon=":material/model_training:")
        _show_when_free(ws, run.id)
        st.stop()
    st.caption(f"Exploring **{run.label}** · {run.status.replace('_', ' ')} (choose another run in the sidebar).")
    if needs_data and run.data is None:
        missing_data(run, what)
        st.stop()
    return run


def missing_data(run: Run, what: str) -> None:
    """Say which data a run needs before `what` can be shown, and where to load it."""
    info = run.data_info
    shape = " × ".join(str(s) for s in info.get("input_shape", []))
    st.info(f"**{run.short_name}** was trained on **{info.get('name', 'data this server does not have')}**, which is "
            f"not loaded, so {what} cannot be shown. Load it (or data with samples shaped {shape}) on the Data page; "
            "the run's curves, settings, samples and traversals need no data.", icon=":material/dataset:")
    st.page_link("app_pages/data.py", label="Go to Data", icon=":material/dataset:")


@st.fragment(run_every=1.0)
def _show_when_free(ws: Workspace, run_id: str) -> None:
    """Reload the page once the run's job is done, so it does not wait for a click to show the run."""
    if ws.busy_run_id() != run_id:
        st.rerun()
