"""The Latent space page's export to TensorBoard's Embedding Projector: one zip of the files it reads."""
from __future__ import annotations

import streamlit as st

from vae_core import projector
from vae_core.run import Run


def show(run: Run, part: str) -> None:
    """A download of this part's codes (tensors, labels, a sprite of the images, the projector's config)."""
    if run.model_cfg.latent_dim < 2:
        st.caption("The Embedding Projector needs codes of 2 dimensions or more; this run's have 1.")
        return
    n = min(len(run.data.indices(part)), projector.most_points(run.data))
    files = run.memo.get(("projector", part), lambda: projector.to_zip(projector.projector_files(
        run.model, run.data, part, name=f"{run.short_name}: {run.data.name} codes ({part} part)")))
    st.download_button(f"Export {n:,} codes for the Embedding Projector (.zip)", files,
                       f"{run.short_name.replace(' ', '_')}_{part}_projector.zip", "application/zip",
                       key="latent_projector", on_click="ignore", icon=":material/download:",
                       help="The latent means of the inputs shown here, with their labels"
                            + (" and a sprite of the images" if run.data.kind == "image" else "")
                            + ", as the files TensorBoard's Embedding Projector reads: unzip and run `tensorboard "
                            "--logdir FOLDER`, or load tensors.tsv and metadata.tsv at projector.tensorflow.org.")
