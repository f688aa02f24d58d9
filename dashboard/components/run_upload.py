"""The Runs page's upload: a saved run (zip) read in memory, checked, and added to this workspace's runs."""
from __future__ import annotations

import streamlit as st

from vae_core.checkpoint import CheckpointError, run_from_zip
from vae_core.data import MAX_UPLOAD_BYTES
from vae_core.store import StoreError

from .. import state
from ..workspace import Workspace
from .compare import file_digest

UPLOAD_MB = MAX_UPLOAD_BYTES // 2**20  # the server's bound (`vae-explorer ui` sets server.maxUploadSize to it)


def upload_section(ws: Workspace) -> None:
    """A file uploader for a saved run; the run joins this workspace once the visitor confirms."""
    st.subheader("Upload a saved run")
    upload = st.file_uploader("Saved run (.zip)", type=["zip"], key="runs_upload", max_upload_size=UPLOAD_MB,
                              help="A zip downloaded from this page, or zipped from the folder that "
                                   f"`vae-explorer train --out` writes. Up to {UPLOAD_MB} MB. It is read in memory; "
                                   "nothing in it is run.")
    st.caption(f"An uploaded run joins the run store like one trained here. Saved runs up to {UPLOAD_MB} MB (the "
               "server's upload limit); the weights are read as plain numbers (safetensors), never run as code.")
    if upload is not None:
        blob = upload.getvalue()
        try:
            saved = run_from_zip(blob)
        except CheckpointError as exc:
            st.error(f"Could not load {upload.name}: {exc}")
        else:
            info, cfg = saved.data_info, saved.model_cfg
            trained_on = f"{info.get('name', 'unknown data')} ({' × '.join(str(s) for s in cfg.input_shape)})"
            st.markdown(f"**{upload.name}**: a {cfg.arch} VAE with z of size {cfg.latent_dim}, β = "
                        f"{saved.train_cfg.beta:g}, trained on {trained_on}.")
            data = ws.data
            fits = data is not None and tuple(data.input_shape) == tuple(cfg.input_shape)
            if not fits:
                st.caption(f"It opens with what it carries (curves, settings, samples, traversals); the pages that "
                           f"show its inputs (latent map, reconstructions, diagnosis) ask for data shaped like "
                           f"{trained_on} on the Data page.")
            elif data.name != info.get("name"):
                st.caption(f"The run was trained on {info.get('name')}; its pages will use {data.name}, which has "
                           "the same sample shape. Its saved scores still refer to the original data.")
            if st.button("Add it to my runs", type="primary", key=f"runs_add_{file_digest(blob)}",
                         help="The uploaded model becomes one of your runs, like one trained here."):
                saved.data, saved.message = (data if fits else None), f"uploaded from {upload.name}"
                try:
                    record = ws.add_run(saved)
                except StoreError as exc:
                    st.error(f"Could not keep {upload.name}: {exc}")
                else:
                    state.flash(f"Added {record.label} from {upload.name}. The other pages now show it.")
                    st.rerun()
