"""VAE Explorer: the router. Page setup, this visitor's workspace, the sidebar, then the chosen page."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

import dashboard.lessons  # noqa: F401 - registers the lessons' data variants, so their runs open after a restart
from dashboard import state
from dashboard.components import presenter, share, sidebar
from dashboard.errors import friendly_errors

PAGES = Path(__file__).parent / "app_pages"

st.set_page_config(page_title="VAE Explorer", page_icon=":material/blur_on:", layout="wide")

train = st.Page(PAGES / "train.py", title="Train", icon=":material/model_training:", url_path="train")


def front_door() -> None:
    """The app's root: the Train page at its own address, a shared link's settings carried along."""
    st.switch_page(train, query_params=st.query_params.to_dict())


front = st.Page(front_door, title="VAE Explorer", default=True, visibility="hidden")
pages = [
    front,
    st.Page(PAGES / "learn.py", title="Learn", icon=":material/school:", url_path="learn"),
    st.Page(PAGES / "data.py", title="Data", icon=":material/dataset:", url_path="data"),
    train,
    st.Page(PAGES / "latent.py", title="Latent space", icon=":material/scatter_plot:", url_path="latent"),
    st.Page(PAGES / "posterior.py", title="Posterior", icon=":material/draw:", url_path="posterior"),
    st.Page(PAGES / "generate.py", title="Reconstructions & samples", icon=":material/auto_awesome:",
            url_path="generate"),
    st.Page(PAGES / "diagnostics.py", title="Diagnostics", icon=":material/monitor_heart:", url_path="diagnostics"),
    st.Page(PAGES / "anomalies.py", title="Anomalies", icon=":material/warning:", url_path="anomalies"),
    st.Page(PAGES / "runs.py", title="Runs", icon=":material/table_chart:", url_path="runs"),
    st.Page(PAGES / "sweep.py", title="Sweep", icon=":material/grid_on:", url_path="sweep"),
]
page = st.navigation(pages)
if page is front:
    page.run()  # on to /train before anything reads the link or draws
presenter.init_from_url()
presenter.inject()
workspace = state.workspace()
share.apply_url(workspace)  # a shared link's data and settings, once
sidebar.show(workspace)
state.show_flash()
with friendly_errors(f"the {page.title} page"):
    page.run()
