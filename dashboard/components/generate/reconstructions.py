"""Tab 1: inputs beside their reconstructions, with each one's error."""
from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core import analysis
from vae_core.run import Run

from .. import charts, explore, presenter
from .common import PARTS, channel_choice, part_ids, png_download

ORDERS = {"random": "random", "worst": "worst reconstructed"}


def show(run: Run) -> None:
    data, model = run.data, run.model
    is_image = data.kind == "image"
    st.caption("Each input goes through the encoder to the mean of its code, then back through the decoder. The "
               "error is −log p(x|z) at that code, in nats: lower is better, and it is the loss's "
               "reconstruction term.")
    c = presenter.cells(4, gap="medium")
    part = c[0].selectbox("Inputs", list(PARTS), format_func=PARTS.get, key=explore.keep("gen_recon_part", "test"),
                          help="Where the inputs come from. The test part was never trained on, so it shows how "
                               "well the model generalises.")
    count = c[1].slider("How many", 4 if is_image else 1, 32 if is_image else 8,
                        key=explore.keep(f"gen_recon_count_{data.kind}", 16 if is_image else 4),
                        help="Number of inputs shown with their reconstructions.")
    order = c[2].radio("Which inputs", list(ORDERS), format_func=ORDERS.get,
                       key=explore.keep("gen_recon_order", "random"), horizontal=True,
                       help="Random inputs show typical quality; the worst reconstructed ones show what the model "
                            "finds hardest (odd shapes, rare styles, anomalies).")
    seed = c[3].number_input("Shuffle seed", 0, 1_000_000, key=explore.keep("gen_recon_seed", 0),
                             disabled=order == "worst", help="Change it to draw a different random set of inputs.")
    ids = part_ids(data, part)
    errors = run.recon_errors(part if len(data.indices(part)) else "all")
    count = min(count, len(ids))
    if order == "worst":
        pos = np.argsort(-errors, kind="stable")[:count]
    else:
        pos = np.sort(np.random.default_rng(int(seed)).choice(len(ids), count, replace=False))
    shown, shown_err = ids[pos], errors[pos]
    recon = analysis.reconstruct(model, data.x[shown])
    st.markdown(f"Mean error over the {PARTS[part].split(' (')[0]}: **{errors.mean():.1f} nats** per input "
                f"(median {np.median(errors):.1f}, worst {errors.max():.1f}); the {count} shown: "
                f"**{shown_err.mean():.1f}**.")
    if is_image:
        st.image(explore.pair_tiles(data.x[shown], recon),
                 caption=[f"{explore.item_name(data, int(i))}: {e:.1f} nats"
                          for i, e in zip(shown, shown_err, strict=True)])
        st.caption("Each pair: the original on the left, its reconstruction on the right.")
        png_download(explore.pairs_grid(data.x[shown], recon), "reconstructions", "gen_recon_png")
        return
    drawn = channel_choice(list(data.channels), "gen_recon_channel", allow_all=True)
    cols = st.columns(2)
    for j, (i, e) in enumerate(zip(shown, shown_err, strict=True)):
        cols[j % 2].plotly_chart(
            charts.window_overlay(data.x[i][:, drawn], recon[j][:, drawn], [data.channels[c] for c in drawn],
                                  f"{explore.item_name(data, int(i))}: error {e:.1f} nats", height=280),
            key=f"gen_recon_window_{j}", config=charts.PNG_CONFIG)
    st.caption("Solid lines: the original; dashed: its reconstruction (same colour per channel). The error "
               "counts every channel, whichever are drawn.")
