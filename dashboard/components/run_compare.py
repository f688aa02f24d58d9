"""The Runs page's comparison: several runs' curves on one chart, their latent maps and reconstructions side by side."""
from __future__ import annotations

import streamlit as st

from vae_core.store_index import RunEntry

from ..workspace import Workspace
from . import family_view, images
from .charts import PNG_CONFIG, latent_scatter, map_axes
from .compare import (
    comparable,
    file_digest,
    latent_map,
    legend_below,
    overlay_curves,
    rare_on_top,
    recon_rows,
    run_labels,
    scored_on,
    showcase,
)

MAPS_PER_ROW = 3


def compare_section(ws: Workspace, entries: list[RunEntry], busy: str | None) -> None:
    """Pick runs to compare: their curves overlaid, latent maps side by side, reconstructions of the same inputs."""
    st.subheader("Compare runs")
    ready = [e for e in reversed(entries) if e.id != busy]
    labels = run_labels(ready)
    signature = file_digest("".join(e.id for e in ready).encode())[:8]
    chosen_ids = st.multiselect("Runs to compare", list(labels), default=list(labels)[:2],
                                format_func=labels.get, key=f"runs_compare_{signature}",
                                help="Pick two or more runs: their training curves are drawn on top of each other, "
                                     "their latent maps side by side (three to a row).")
    opened = [r for r in (ws.run(i) for i in chosen_ids) if r is not None]
    chosen = sorted((r for r in opened if r.data is not None), key=lambda r: r.created)
    if len(chosen) < len(opened):
        st.caption("Runs whose data is not loaded are left out of the comparison: load their data on the Data page.")
    if len(chosen) < 2:
        st.caption("Pick at least two runs to compare them.")
    else:
        groups = comparable(chosen)
        if len(groups) > 1:
            st.warning("These runs' nats do not compare: " + "; ".join(
                f"{', '.join(r.short_name for r in group)} on {scored_on(group[0])}" for group in groups) +
                ". A nat under one likelihood or of one data set is not a nat of another, so each group has its own "
                "chart.", icon=":material/balance:")
        for i, group in enumerate(groups):
            title = "Loss per epoch, run by run" + (f": {scored_on(group[0])}" if len(groups) > 1 else "")
            st.plotly_chart(overlay_curves(group, title=title), key="runs_curves" + (f"_{i}" if i else ""),
                            config=PNG_CONFIG)
        st.caption("Solid: training part; dotted: validation part. Reconstruction falling while KL sits at zero "
                   "is posterior collapse.")
        for i, group in enumerate(groups):  # one table per group whose nats compare
            side_by_side(group, f"_{i}" if i else "", scored_on(group[0]) if len(groups) > 1 else "")
        per_row = min(len(chosen), MAPS_PER_ROW)
        cells = [col for start in range(0, len(chosen), per_row) for col in st.columns(per_row)]
        for col, run in zip(cells, chosen, strict=False):
            coords, map_labels, method = latent_map(run)
            how = "the 2-D code itself" if method == "z" else "first two principal components of the means"
            with col:
                figure = latent_scatter(coords, map_labels,
                                        f"{run.short_name[:1].upper()}{run.short_name[1:]}: latent means",
                                               axis_names=map_axes(method),
                                               height=430)
                st.plotly_chart(legend_below(rare_on_top(figure), y=-0.2),
                                key=f"runs_map_{run.id[:8]}", config=PNG_CONFIG)
                st.caption(f"{run.label}. Test part, {how}.")
        image_runs = [r for r in chosen if r.data.kind == "image"]
        shape = image_runs[0].data.input_shape if image_runs else None
        image_runs = [r for r in image_runs if r.data.input_shape == shape]
        if image_runs:
            source = image_runs[0].data
            idx = showcase(source)
            rows = recon_rows(image_runs, source.x[idx], None if source.y is None else source.y[idx])
            st.markdown(f"**Reconstructions** of the same {len(idx)} test images of {source.name}")
            names = ["original", *(r.short_name for r in image_runs)]
            for name, row in zip(names, rows, strict=True):
                line = st.columns([2, 11], vertical_alignment="center")  # room for "original" at 1024 px
                line[0].markdown(f"**{name}**")
                line[1].image(images.mosaic(row, cols=len(idx)), width="stretch")
            st.download_button("Download these reconstructions (PNG)", images.png_bytes(images.grid(rows)),
                               file_name="reconstructions-"
                               + "-".join(r.short_name.replace(" ", "") for r in image_runs) + ".png",
                               mime="image/png", key="runs_recon_png", on_click="ignore",
                               help="One image: the originals on top, then one row per run, in the order above.")


def side_by_side(runs: list, key: str = "", scored: str = "") -> None:
    """The runs' figures in one table and, for images, the samples each draws from the same seed (runs whose nats
    compare: one call per group)."""
    st.markdown("**Side by side**" + (f", {scored}" if scored else "") + " (the VAE family: train them all on the "
                "same data and seed with [lesson 8](learn?lesson=8))")
    unscored = [r.short_name for r in runs if r.summary.get("test_neg_elbo") is None]
    runs = [r for r in runs if r.summary.get("test_neg_elbo") is not None]
    if unscored:
        st.caption(f"{', '.join(unscored)}: no test figures yet (interrupted before its evaluation); continue it on "
                   "the Train page to get them.")
    if not runs:
        return
    st.dataframe(family_view.family_table(runs), hide_index=True, key="runs_family_table" + key,
                 column_config={name: st.column_config.NumberColumn(format="%.2f") for name in
                                ("test neg. ELBO", "IWAE NLL")} |
                 {"codes vs prior (MMD²)": st.column_config.NumberColumn(
                     "MMD²", format="%.3f", help="Codes vs prior: squared maximum mean discrepancy between the test "
                                                 "codes and draws of the model's prior; 0 when they match.")} |
                 {"seconds": st.column_config.NumberColumn(format="%.1f")})
    st.caption(family_view.caption(runs))
    image_runs = [r for r in runs if r.model_cfg.kind == "image"]
    if len({r.model_cfg.input_shape for r in image_runs}) == 1:
        rows = family_view.sample_rows(image_runs)
        for run, row in zip(image_runs, rows, strict=True):
            line = st.columns([1, 10], vertical_alignment="center")
            line[0].markdown(f"**{run.short_name}**")
            line[1].image(images.mosaic(row, cols=len(row)), width="stretch")
        st.caption(f"Samples from the prior, seed 0, {len(rows[0])} per run; a conditional run draws class 0, 1, 2, "
                   f"... in turn.")
