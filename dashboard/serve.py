"""`python -m dashboard.serve run APP [flags]`: Streamlit's command line, after the heavy imports.

Streamlit imports a page's modules on the first visit, in that visitor's script run: torch, plotly,
pandas and the engine took seconds there. Importing them here, before the server starts, moves that
wait to start-up, where nobody is watching a blank page.
"""
from __future__ import annotations

import plotly.graph_objects  # noqa: F401
import torch  # noqa: F401
from streamlit.web.cli import main

from dashboard import jobs, workspace  # noqa: F401
from dashboard.components import charts, compare, explore, settings  # noqa: F401
from vae_core import analysis, data  # noqa: F401

if __name__ == "__main__":
    main(prog_name="streamlit")  # the same command line as `python -m streamlit`
