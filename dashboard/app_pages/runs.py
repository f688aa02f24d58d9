"""Runs: every model of this session in one table; compare some, keep one, bring one back."""
from __future__ import annotations

import streamlit as st

from dashboard import report, state
from dashboard.components import compare, run_compare, run_upload

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

    run_compare.compare_section(ws, runs, busy)
    st.caption("Every chart has a camera button (top right, on hover) that saves it as a PNG.")

run_upload.upload_section(ws)
