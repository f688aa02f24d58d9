"""Tab 4: a straight walk from one input's code to another's, decoded step by step."""
from __future__ import annotations

import streamlit as st

from vae_core import analysis
from vae_core.run import Run

from .. import charts, explore, images
from .common import channel_choice, part_ids, png_download


def show(run: Run) -> None:
    data = run.data
    st.caption("Walk in a straight line from the code of input A to the code of input B and decode each step. A "
               "smooth path means the space between the two codes is filled with sensible outputs.")
    options = part_ids(data, "test").tolist()
    labels = [data.label_text(i) for i in options]
    default_b = next((k for k, lab in enumerate(labels) if lab != labels[0]), min(1, len(options) - 1))
    c = st.columns(3, gap="medium")
    a = c[0].selectbox("From (A)", options, index=0, key="gen_interp_a",
                       format_func=lambda i: explore.item_name(data, i),
                       help="The input the path starts from (test part).")
    b = c[1].selectbox("To (B)", options, index=default_b, key="gen_interp_b",
                       format_func=lambda i: explore.item_name(data, i), help="The input the path ends at (test part).")
    n_steps = c[2].slider("Steps", 3, 16, key=explore.keep("gen_interp_steps", 10),
                          help="Number of evenly spaced points on the line between the two codes, ends included.")
    labels = None if run.labels_for(ids := [a, b]) is None else tuple(int(v) for v in run.labels_for(ids))
    path = analysis.interpolate(run.model, data.x[a], data.x[b], steps=n_steps, labels=labels)
    if labels is not None and labels[0] != labels[1]:
        st.caption("This model is conditional: the label walks from A's class to B's along with the code (halfway, "
                   "an equal blend of the two).")
    name_a, name_b = explore.item_name(data, a), explore.item_name(data, b)
    if data.kind == "image":
        strip = images.mosaic(path, cols=n_steps, upscale=3)
        ends = st.columns([1, n_steps, 1], vertical_alignment="top")  # tiles of equal size, on one line
        ends[0].image(images.mosaic(data.x[[a]], cols=1, upscale=3), caption="A (original)", width="stretch")
        ends[1].image(strip, caption=f"decoded path, A → B, {n_steps} steps", width="stretch")
        ends[2].image(images.mosaic(data.x[[b]], cols=1, upscale=3), caption="B (original)", width="stretch")
        st.caption("The ends of the path are the reconstructions of A and B, so they can differ from the originals.")
        png_download(strip, "interpolation", "gen_interp_png")
        return
    (channel,) = channel_choice(list(data.channels), "gen_interp_channel") or [0]
    st.plotly_chart(explore.path_lines(path, data.x[a], data.x[b], channel,
                                       data.channels[channel] if data.channels else "value",
                                       (f"A: {name_a}", f"B: {name_b}"), f"From {name_a} to {name_b}"),
                    key="gen_interp_lines", config=charts.PNG_CONFIG)
