"""Tab for conditional runs: every class drawn from the same codes, so each row keeps one style (z) and each
column one class (the label): style against content."""
from __future__ import annotations

import streamlit as st

from vae_core import analysis
from vae_core.run import Run

from .. import charts, explore, images
from .common import class_names, png_download


def show(run: Run) -> None:
    names = class_names(run)
    st.caption("A conditional model gets the label as an input, so the code z is free to hold everything the label "
               "does not say: slant, stroke width, size. Here each row decodes one code z drawn from the prior with "
               "every label in turn: along a row the class changes and the style stays; down a column the style "
               "changes and the class stays.")
    c = st.columns([2, 2, 3], gap="medium")
    n_codes = c[0].slider("Codes (rows)", 1, 12, key=explore.keep("gen_class_rows", 6),
                          help="How many codes z are drawn from the prior; each is decoded once per class.")
    seed = c[1].number_input("Seed", 0, 1_000_000, key=explore.keep("gen_class_seed", 0),
                             help="The same seed draws the same codes, so two runs can be compared on them.")
    grid = analysis.class_grid(run.model, analysis.prior_codes(run.model, n_codes, seed=int(seed)))
    by_label, by_code = analysis.grid_spread(grid)
    unit = "pixel (0 black to 1 white)" if run.model_cfg.kind == "image" else "scaled value"
    if n_codes > 1:
        st.markdown(
            f"In this grid the label moves a {unit} by **{by_label:.3f}** on average (from its row's mean) and the "
            f"code by **{by_code:.3f}** (from its column's mean): "
            + ("the label decides more than the code, as it should." if by_label > by_code else
               "the code still decides more than the label, so rows look alike: the code kept part of the class, "
               "which the KL term squeezes out only with longer training."))
    if run.model_cfg.kind == "image":
        picture = images.grid(grid, upscale=3)
        st.image(picture, caption=f"Columns: class {', '.join(names)}. Rows: {n_codes} codes drawn from the prior "
                                  f"(seed {seed}).")
        png_download(picture, f"classes_seed{seed}", "gen_class_png")
        return
    channels = list(run.data_info.get("channels") or [])
    windows = grid[0]  # one code, every class: a grid of windows
    st.plotly_chart(explore.window_grid(windows, [f"class {n}" for n in names], channels,
                                        f"The first code drawn (seed {seed}) as every class (scaled values)"),
                    key="gen_class_windows", config=charts.PNG_CONFIG)
