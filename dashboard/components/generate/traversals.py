"""Tab 3: one latent dimension swept from low to high, the others fixed, most informative first."""
from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core import analysis
from vae_core.run import Run

from .. import charts, compare, explore, images, presenter
from .common import channel_choice, part_ids, png_download

ZEROS = -1  # the traversal's base code: the centre of the prior instead of an input's code


def show(run: Run) -> None:
    data, model = run.data, run.model
    latent_dim = model.cfg.latent_dim
    st.caption("Start from one code, change a single dimension z_d from low to high and decode each step. "
               "Rows are sorted by how much information the dimension carries (its KL on the test part): the "
               "top rows change the output; rows with KL near 0 are unused and stay flat.")
    kl = run.summary.get("kl_per_dim")
    if kl is None or len(kl) != latent_dim:
        kl = run.diagnosis(compare.eval_part(data)).kl_per_dim if data is not None else np.zeros(latent_dim)
    kl = np.asarray(kl, dtype=float)
    dim_order = np.argsort(-kl, kind="stable")  # most informative first
    test_ids = part_ids(data, "test") if data is not None else np.array([], dtype=int)  # no data: start at z = 0
    c = presenter.cells(4, gap="medium")
    n_dims = 1 if latent_dim == 1 else c[0].slider(
        "Dimensions shown", 1, latent_dim, key=explore.keep(f"gen_trav_dims_{latent_dim}", min(latent_dim, 8)),
        help="How many latent dimensions to sweep, the most informative (highest KL) first.")
    lo, hi = c[1].slider("Range of z_d", -4.0, 4.0, step=0.5, key=explore.keep("gen_trav_range", (-2.5, 2.5)),
                         help="The values z_d is swept through. The prior puts 95% of codes within ±2, so values "
                              "far outside show what the decoder makes of codes it rarely saw.")
    steps = c[2].slider("Steps", 3, 15, key=explore.keep("gen_trav_steps", 9), help="How many values of z_d per row.")
    base = c[3].selectbox("Start from", [ZEROS, *test_ids.tolist()], key="gen_trav_base",
                          format_func=lambda i: "the prior's centre (z = 0)" if i == ZEROS
                          else f"the code of {explore.item_name(data, i)}",
                          help="The code whose other dimensions stay fixed: all zeros, or the mean code of one "
                               "test input, so you see how that input changes.")
    z0 = np.zeros(latent_dim, np.float32) if base == ZEROS else analysis.encode_means(model, data.x[[base]])[0]
    values = np.linspace(lo, hi, steps, dtype=np.float32)
    dims = dim_order[:n_dims]
    rows = analysis.traverse(model, z0, dims, values)
    channels = list(run.data_info.get("channels") or [])
    if model.cfg.kind == "image":
        st.caption(f"Columns: z_d = {', '.join(f'{v:g}' for v in values)}.")
        for r, d in enumerate(dims):
            left, right = st.columns([1, 7], vertical_alignment="center")
            unused = kl[d] < analysis.NEAR_ZERO_KL
            left.markdown(f"**z{d}**  \nKL {kl[d]:.2f} nats" + ("  \n*unused*" if unused else ""))
            right.image(images.mosaic(rows[r], cols=steps, upscale=2))
        png_download(images.grid(rows), "traversals", "gen_trav_png")
        return
    (channel,) = channel_choice(channels, "gen_trav_channel") or [0]
    titles = [f"z{d}: KL {kl[d]:.2f} nats" + (" (unused)" if kl[d] < analysis.NEAR_ZERO_KL else "") for d in dims]
    st.plotly_chart(explore.traversal_lines(rows, values, titles, channel,
                                            channels[channel] if channels else "value",
                                            "One panel per latent dimension, one line per value of z_d"),
                    key="gen_trav_lines", config=charts.PNG_CONFIG)
