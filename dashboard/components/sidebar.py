"""The sidebar on every page: the data in use, the training job, which run the pages explore, and where runs
are kept (on a shared server: this workspace's code, and a box to reopen a workspace by its code)."""
from __future__ import annotations

import streamlit as st

from vae_core.run import STATUS_WORDS
from vae_core.store import StoreError

from .. import state
from ..workspace import Workspace
from . import compare, presenter


def data_line(ws: Workspace) -> str:
    """'mnist: 5,000 images of 28×28' and the like."""
    d = ws.data
    if d is None:
        return "no data"
    if d.kind == "image":
        return f"**{d.name}**: {len(d.x):,} images of {d.input_shape[1]}×{d.input_shape[2]}"
    what = "windows" if d.series is not None else "recordings"  # cut from one series, or separate recordings
    return f"**{d.name}**: {len(d.x):,} {what} of {d.input_shape[0]} steps × {d.input_shape[1]} channels"


def show(ws: Workspace) -> None:
    with st.sidebar:
        st.markdown(f"Data: {data_line(ws)}")
        job = ws.job
        if job is not None and job.active:
            snap = job.snapshot()
            if snap.queue_position:
                st.info(f"Training is queued: place {snap.queue_position} in line.", icon=":material/hourglass:")
            else:  # drawn once per page run, so no epoch count here: it would stand still while training goes on
                st.info(f"Training {job.train_cfg.epochs} epochs in the background; the Train page shows the progress.",
                        icon=":material/model_training:")
        _run_picker(ws)
        _where_runs_are(ws)
        presenter.toggle()


def _run_picker(ws: Workspace) -> None:
    entries = [e for e in ws.entries() if e.status != "broken"]
    if not entries:
        return
    ids = [e.id for e in reversed(entries)]
    told_apart = compare.run_labels(entries)
    labels = {e.id: told_apart[e.id] + ("" if e.status in ("finished", "early_stopped") else
                                        f" ({STATUS_WORDS.get(e.status, e.status)})") for e in entries}
    current = ws.current_id(entries)
    chosen = st.selectbox("Run to explore", ids, index=ids.index(current) if current in ids else 0,
                          format_func=labels.get, key=f"sidebar_run_{len(ids)}_{current or ''}",
                          help="Every page shows this run: Latent space, Reconstructions, Diagnostics, Anomalies, "
                               "and the Train page whenever no training job is running.")
    ws.selected_run = chosen


def _where_runs_are(ws: Workspace) -> None:
    store = ws.store
    for note in store.notes:
        st.caption(note)
    if ws.code is None:
        st.caption(f"Runs are kept in `{store.root.resolve()}` (the CLI's runs too); they outlast a restart.")
        return
    with st.expander("Your workspace code", icon=":material/key:"):
        st.code(ws.code, language=None)
        st.caption("Your runs are kept on this server under this code. Note it down: it opens them in another "
                   "browser, on another day or after a restart. Keep it to yourself: it is the only key to them.")
        with st.form("reopen", clear_on_submit=True, border=False):
            typed = st.text_input("Open a workspace by its code", placeholder="XXXX-XXXX-XXXX-XXXX")
            opened = st.form_submit_button("Open")
        if opened and typed.strip():
            try:
                state.reopen(typed)
            except StoreError as exc:
                st.error(str(exc))
            else:
                state.flash("Opened that workspace: its runs are listed now.")
                st.rerun()
