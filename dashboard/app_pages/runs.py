"""Runs: every model of this session in one table; compare some, keep one, bring one back."""
from __future__ import annotations

import streamlit as st

from dashboard import report, state
from dashboard.components import charts, compare, images
from vae_core.checkpoint import CheckpointError, run_from_zip
from vae_core.data import MAX_UPLOAD_BYTES

MAPS_PER_ROW = 3
UPLOAD_MB = MAX_UPLOAD_BYTES // 2**20  # the server's bound (`vae-explorer ui` sets server.maxUploadSize to it)

ws = state.workspace()
busy = ws.busy_run_id()
st.title("Runs")
st.caption("Every model trained (or uploaded) in this browser session. Pick the one the other pages explore, "
           "compare a few, download one to keep it, or upload one saved earlier.")

runs = list(ws.runs)
current = ws.current_run()
if not runs:
    st.info("No runs yet. Train a model, or upload a saved run below.", icon=":material/table_chart:")
    st.page_link("app_pages/train.py", label="Go to Train", icon=":material/model_training:")
else:
    st.dataframe(compare.runs_table(runs, current.id if current else None), hide_index=True, key="runs_table",
                 column_config={
                     "explored": st.column_config.TextColumn("explored", help="The run the other pages show."),
                     "β": st.column_config.NumberColumn("β", format="%g"),
                     "test neg. ELBO": st.column_config.NumberColumn(
                         "test neg. ELBO", format="%.2f", help="Reconstruction + KL on the test part, nats per "
                                                              "sample: the VAE's bound on -log p(x). Lower is better."),
                     "recon": st.column_config.NumberColumn("recon", format="%.2f", help="Reconstruction error "
                                                                                         "-log p(x|z), nats."),
                     "KL": st.column_config.NumberColumn("KL", format="%.2f", help="KL to the prior, nats."),
                     "active units": st.column_config.TextColumn("active units", help="Latent dimensions whose "
                                                                 "code varies with the input (Burda et al. 2016)."),
                     "IWAE NLL": st.column_config.NumberColumn("IWAE NLL", format="%.2f", help="A tighter "
                                                               "estimate of -log p(x) with 64 importance samples "
                                                               "(images only)."),
                     "anomaly AUC": st.column_config.NumberColumn("anomaly AUC", format="%.3f", help="ROC-AUC of "
                                                                  "the reconstruction error against anomaly labels."),
                     "seconds": st.column_config.NumberColumn("seconds", format="%.1f", help="Training time."),
                 })

    # ---- one run: explore, download, delete --------------------------------------------------------------
    st.subheader("One run")
    ids = [r.id for r in reversed(runs)]
    labels = {r.id: r.label for r in runs}
    pick_id = st.selectbox("Run", ids, index=ids.index(current.id), format_func=labels.get,
                           key=f"runs_pick_{len(runs)}_{current.id[:8]}",
                           help="The run the buttons below act on.")
    pick = ws.run(pick_id)
    is_busy = pick.id == busy
    if is_busy:
        st.info(f"{pick.label} is training right now; download and delete wait until it ends.",
                icon=":material/hourglass:")
    b = st.columns(4)
    if b[0].button("Explore this run", key="runs_explore", disabled=pick.id == current.id, width="stretch",
                   help="Make this the run the Latent space, Reconstructions, Diagnostics and Anomalies pages show."):
        ws.selected_run = pick.id
        state.flash(f"The other pages now show {pick.label}.")
        st.rerun()
    b[1].download_button(f"Download run {pick.number} (.zip)", data=b"" if is_busy else compare.run_zip(pick),
                         file_name=compare.zip_name(pick), mime="application/zip", key="runs_download",
                         on_click="ignore", disabled=is_busy, width="stretch",
                         help="The model's weights (safetensors), its settings, its training history and its "
                              "scores in one zip. Upload it here later, or load it with the vae-explorer CLI.")
    b[2].download_button(f"Report of run {pick.number} (.html)", data=b"" if is_busy else (lambda: report.build(pick)),
                         file_name=report.file_name(pick), mime="text/html", key="runs_report", on_click="ignore",
                         disabled=is_busy, width="stretch", icon=":material/description:",
                         help="One HTML file to hand in or hand out: settings, curves, latent map, reconstructions, "
                              "traversals and the diagnosis. It opens in any browser, offline.")
    with b[3].popover(f"Delete run {pick.number}", icon=":material/delete:", disabled=is_busy, width="stretch",
                      help="Remove this run from the session (download it first to keep it)."):
        st.markdown(f"Delete **{pick.label}**? This cannot be undone.")
        if st.button("Yes, delete it", key="runs_delete", type="primary"):
            ws.delete_run(pick.id)
            state.flash(f"Deleted {pick.label}.", "info")
            st.rerun()

    # ---- compare -----------------------------------------------------------------------------------------
    st.subheader("Compare runs")
    ready = [r for r in reversed(runs) if r.id != busy]
    signature = compare.file_digest("".join(r.id for r in ready).encode())[:8]
    chosen_ids = st.multiselect("Runs to compare", [r.id for r in ready], default=[r.id for r in ready[:2]],
                                format_func=labels.get, key=f"runs_compare_{signature}",
                                help="Pick two or more runs: their training curves are drawn on top of each other, "
                                     "their latent maps side by side (three to a row).")
    chosen = sorted((ws.run(i) for i in chosen_ids if ws.run(i) is not None), key=lambda r: r.number)
    if len(chosen) < 2:
        st.caption("Pick at least two runs to compare them.")
    else:
        st.plotly_chart(compare.overlay_curves(chosen), key="runs_curves", config=charts.PNG_CONFIG)
        st.caption("Solid: training part; dotted: validation part. Reconstruction falling while KL sits at zero "
                   "is posterior collapse.")
        per_row = min(len(chosen), MAPS_PER_ROW)
        cells = [col for start in range(0, len(chosen), per_row) for col in st.columns(per_row)]
        for col, run in zip(cells, chosen):
            coords, map_labels, method = compare.latent_map(run)
            how = "the 2-D code itself" if method == "z" else "first two principal components of the means"
            with col:
                figure = charts.latent_scatter(coords, map_labels, f"Run {run.number}: latent means",
                                               axis_names=("z1", "z2") if method == "z" else ("PC 1", "PC 2"),
                                               height=430)
                st.plotly_chart(compare.legend_below(compare.rare_on_top(figure), y=-0.2),
                                key=f"runs_map_{run.id[:8]}", config=charts.PNG_CONFIG)
                st.caption(f"{run.label}. Test part, {how}.")
        image_runs = [r for r in chosen if r.data.kind == "image"]
        shape = image_runs[0].data.input_shape if image_runs else None
        image_runs = [r for r in image_runs if r.data.input_shape == shape]
        if image_runs:
            source = image_runs[0].data
            idx = compare.showcase(source)
            rows = compare.recon_rows(image_runs, source.x[idx])
            st.markdown(f"**Reconstructions** of the same {len(idx)} test images of {source.name}")
            names = ["original", *(f"run {r.number}" for r in image_runs)]
            for name, row in zip(names, rows):
                line = st.columns([1, 10], vertical_alignment="center")
                line[0].markdown(f"**{name}**")
                line[1].image(images.mosaic(row, cols=len(idx)), width="stretch")
            st.download_button("Download these reconstructions (PNG)", images.png_bytes(images.grid(rows)),
                               file_name="reconstructions-" + "-".join(f"run{r.number}" for r in image_runs) + ".png",
                               mime="image/png", key="runs_recon_png", on_click="ignore",
                               help="One image: the originals on top, then one row per run, in the order above.")
    st.caption("Every chart has a camera button (top right, on hover) that saves it as a PNG.")

# ---- upload -------------------------------------------------------------------------------------------
st.subheader("Upload a saved run")
upload = st.file_uploader("Saved run (.zip)", type=["zip"], key="runs_upload", max_upload_size=UPLOAD_MB,
                          help="A zip downloaded from this page, or zipped from the folder that "
                               f"`vae-explorer train --out` writes. Up to {UPLOAD_MB} MB. It is read in memory; "
                               "nothing in it is run.")
st.caption(f"Runs live in this browser session only and are gone when the server restarts: download the ones "
           f"to keep. Saved runs up to {UPLOAD_MB} MB (the server's upload limit); the weights are read as "
           "plain numbers (safetensors), never run as code.")
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
        if data is None or tuple(data.input_shape) != tuple(cfg.input_shape):
            in_use = f"{data.name} ({' × '.join(str(s) for s in data.input_shape)})" if data else "nothing"
            st.warning(f"The data in use, {in_use}, does not fit this model, which needs samples shaped like "
                       f"{trained_on}. Load matching data on the Data page first, then add the run.",
                       icon=":material/dataset:")
            st.page_link("app_pages/data.py", label="Go to Data", icon=":material/dataset:")
        else:
            if data.name != info.get("name"):
                st.caption(f"The run was trained on {info.get('name')}; its pages will use {data.name}, which has "
                           "the same sample shape. Its saved scores still refer to the original data.")
            if st.button("Add it to my runs", type="primary", key=f"runs_add_{compare.file_digest(blob)}",
                         help="The uploaded model becomes a run of this session, like one trained here."):
                saved.data, saved.message = data, f"uploaded from {upload.name}"
                record = ws.add_run(saved)
                state.flash(f"Added {record.label} from {upload.name}. The other pages now show it.")
                st.rerun()
