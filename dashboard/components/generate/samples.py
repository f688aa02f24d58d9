"""Tab 2: new data from nothing, decoded from codes drawn from the prior."""
from __future__ import annotations

import streamlit as st

from vae_core import analysis
from vae_core.run import Run

from .. import charts, explore, images
from .common import class_choice, class_names, png_download


def _new_seed() -> None:
    """The 'New samples' button: the next seed (a callback runs before the seed widget is drawn)."""
    st.session_state["gen_prior_seed"] = int(st.session_state.get("gen_prior_seed", 0)) + 1


def show(run: Run) -> None:
    is_image = run.model_cfg.kind == "image"
    channels = list(run.data_info.get("channels") or [])
    kind = run.model_cfg.kind
    st.caption("New data from nothing: draw codes z from the prior N(0, I) and decode them. Good samples mean the "
               "codes of real inputs fill the prior without holes." + (
                   " This hierarchical VAE draws z2 from N(0, I), then z1 from p(z1|z2), and decodes z1."
                   if run.model_cfg.variant == "hierarchical" else ""))
    label = None
    if run.model.classes:
        label = class_choice(run, "gen_prior_class", column=st.columns([2, 3])[0])
    c = st.columns([2, 2, 1], vertical_alignment="bottom", gap="medium")
    n_samples = c[0].slider("How many", 8 if is_image else 1, 64 if is_image else 9, step=8 if is_image else 1,
                            key=explore.keep(f"gen_prior_count_{kind}", 32 if is_image else 6),
                            help="Number of codes drawn from the prior and decoded.")
    prior_seed = c[1].number_input("Seed", 0, 1_000_000, key=explore.keep("gen_prior_seed", 0),
                                   help="The same seed draws the same codes, so you can compare models fairly.")
    c[2].button("New samples", key="gen_prior_new", on_click=_new_seed, help="Draw another set of codes.")
    samples = analysis.sample_prior(run.model, n_samples, seed=int(prior_seed), y=label)
    what = "" if label is None else f" of class {class_names(run)[label]}"
    if is_image:
        grid = images.mosaic(samples, cols=8, upscale=3)
        st.image(grid, caption=f"{n_samples} samples{what}, seed {prior_seed}")
        png_download(grid, f"samples_seed{prior_seed}", "gen_prior_png")
    else:
        st.plotly_chart(explore.window_grid(samples, [f"sample {k + 1}" for k in range(n_samples)], channels,
                                            f"{n_samples} windows{what} decoded from the prior (scaled values)"),
                        key="gen_prior_windows", config=charts.PNG_CONFIG)
