"""Runs: every run in the run store (this workspace's, on a shared server) in one table; explore one, compare a
few, download or delete one, bring one back."""
from __future__ import annotations

import streamlit as st

from dashboard import state
from dashboard.components import compare, run_actions, run_compare, run_upload

ws = state.workspace()
busy = ws.busy_run_id()
st.title("Runs")
where = (f"kept in `{ws.store.root.resolve()}`, with the CLI's" if ws.code is None else
         "kept on this server under your workspace code (sidebar)")
st.caption(f"Every run trained or uploaded here, {where}: they outlast a restart. Pick the one the other pages "
           "explore, compare a few, download one, or upload one saved elsewhere.")

entries = ws.entries()
current = ws.current_id(entries)
if not entries:
    st.info("No runs yet. Train a model, or upload a saved run below.", icon=":material/table_chart:")
    st.page_link("app_pages/train.py", label="Go to Train", icon=":material/model_training:")
else:
    every = st.toggle("Every figure", key="runs_every_figure",
                      help="Add epochs, reconstruction, KL, IWAE NLL, anomaly AUC and training seconds: a wide table "
                           "that scrolls sideways on a narrow screen.")
    table = compare.runs_table(entries, current)
    st.dataframe(table if every else table[[c for c in compare.OVERVIEW if c in table]], hide_index=True,
                 key="runs_table", column_config=run_actions.RUNS_COLUMNS)
    for e in entries:
        if e.status in ("broken", "interrupted"):
            st.caption(f"**{e.name or e.id[:8]}**: {e.message}")
    openable = [e for e in entries if e.status != "broken"]
    if openable:
        run_actions.one_run(ws, openable, current, busy)
        run_compare.compare_section(ws, [e for e in openable if e.id != busy], busy)
    st.caption("Every chart has a camera button (top right, on hover) that saves it as a PNG.")

run_upload.upload_section(ws)
