"""The latent map over a run's epochs, replayed with a scrubber: the same inputs, the same colours and fixed axes in
every frame, so the eye follows clusters forming (vae_core.latent_history keeps the frames)."""
from __future__ import annotations

import streamlit as st

from vae_core.latent_history import LatentHistory
from vae_core.run import Run

from ..jobs import saved_history
from ..workspace import Workspace
from . import charts


def saved(ws: Workspace, run: Run) -> LatentHistory | None:
    """The maps the run's folder kept while it trained (None for runs from before, uploads, damaged files)."""
    entry = next((e for e in ws.entries() if e.id == run.id), None)
    if entry is None:
        return None
    return run.memo.get(("latent_history", run.status, len(run.events)), lambda: saved_history(entry.path))


def title(method: str, epoch: int) -> str:
    """The map's title, live or replayed: short enough for the Train page's narrow column at 1024 px."""
    when = f"epoch {epoch}" if epoch else "before training"
    return f"Latent means, {when}" + (" (2-D code)" if method == "z" else " (PCA)")


def show(history: LatentHistory, key: str) -> None:
    """A scrubber over the epochs (the last one first) and the map of the epoch it points at."""
    frames = history.frames
    if not frames:
        return
    epochs = [f.epoch for f in frames]
    epoch = epochs[-1]
    if len(frames) > 1:
        epoch = st.select_slider("Replay the latent map: epoch", options=epochs, value=epochs[-1], key=f"scrub_{key}",
                                 help="The same inputs encoded after each epoch, in fixed axes: drag to watch the "
                                      "clusters form.")
    frame = frames[epochs.index(epoch)]
    st.plotly_chart(charts.latent_scatter(frame.coords, history.labels, title(history.method, epoch), height=420,
                                          axis_names=charts.map_axes(history.method), extent=history.extent()),
                    key="live_map", config=charts.PNG_CONFIG)
    if history.method != "z":
        st.caption("Each epoch's PCA map is turned (rotated and mirrored) to match the last one, so the same cluster "
                   "stays in the same place from frame to frame.")
