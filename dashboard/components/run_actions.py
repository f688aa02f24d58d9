"""The Runs page's table columns and its 'one run' section: explore, download, report, delete."""
from __future__ import annotations

import streamlit as st

from vae_core.run import run_label
from vae_core.store import StoreError
from vae_core.store_index import RunEntry

from .. import report, state
from ..workspace import Workspace
from . import compare

RUNS_COLUMNS = {
    "run": st.column_config.TextColumn("run", help="● marks the run the other pages show."),
    "model": st.column_config.TextColumn("model", help="Architecture, β, latent size z and loss (and the VAE-family "
                                                       "variant, when not a plain VAE)."),
    "test neg. ELBO": st.column_config.NumberColumn(
        "test neg. ELBO", format="%.2f", help="Reconstruction + KL on the test part, nats per sample: the VAE's "
                                              "bound on -log p(x). Lower is better."),
    "recon": st.column_config.NumberColumn("recon", format="%.2f", help="Reconstruction error -log p(x|z), nats."),
    "KL": st.column_config.NumberColumn("KL", format="%.2f", help="KL to the prior, nats."),
    "active units": st.column_config.TextColumn("active units", help="Latent dimensions whose code varies with "
                                                                     "the input (Burda et al. 2016)."),
    "IWAE NLL": st.column_config.NumberColumn("IWAE NLL", format="%.2f", help="A tighter estimate of -log p(x) "
                                                                              "with k = 64 importance samples (images; "
                                                                              "the bundled MNIST's grey levels are not "
                                                                              "binarised, so it does not compare with "
                                                                              "binarised-MNIST figures)."),
    "anomaly AUC": st.column_config.NumberColumn("anomaly AUC", format="%.3f", help="ROC-AUC of the reconstruction "
                                                                                    "error against anomaly labels."),
    "seconds": st.column_config.NumberColumn("seconds", format="%.1f", help="Training time."),
}


def one_run(ws: Workspace, entries: list[RunEntry], current: str | None, busy: str | None) -> None:
    """Pick a run, then explore it, download it (zip), save its report (HTML) or delete it (asks first)."""
    st.subheader("One run")
    ids = [e.id for e in reversed(entries)]
    labels = {e.id: run_label(e.name, e.data, e.settings) for e in entries}
    pick_id = st.selectbox("Run", ids, index=ids.index(current) if current in ids else 0, format_func=labels.get,
                           key=f"runs_pick_{len(ids)}_{(current or '')[:8]}", help="The run the buttons below act on.")
    pick = ws.run(pick_id)
    if pick is None:
        st.error("That run could not be opened; it is listed as broken now.")
        return
    is_busy = pick.id == busy
    if is_busy:
        st.info(f"{pick.label} is training right now; download and delete wait until it ends.",
                icon=":material/hourglass:")
    name = pick.name or "this run"
    b = st.columns(4)
    if b[0].button("Explore this run", key="runs_explore", disabled=pick.id == current, width="stretch",
                   help="Make this the run the Latent space, Reconstructions, Diagnostics and Anomalies pages show."):
        ws.selected_run = pick.id
        state.flash(f"The other pages now show {pick.label}.")
        st.rerun()
    b[1].download_button(f"Download {name} (.zip)", data=b"" if is_busy else compare.run_zip(pick),
                         file_name=compare.zip_name(pick), mime="application/zip", key="runs_download",
                         on_click="ignore", disabled=is_busy, width="stretch",
                         help="The model's weights (safetensors), its settings, its training history and its "
                              "scores in one zip. Upload it to another VAE Explorer, or load it with the CLI.")
    needs_data = pick.data is None
    b[2].download_button(f"Report of {name} (.html)",
                         data=b"" if is_busy or needs_data else (lambda: report.build(pick)),
                         file_name=report.file_name(pick), mime="text/html", key="runs_report", on_click="ignore",
                         disabled=is_busy or needs_data, width="stretch", icon=":material/description:",
                         help="One HTML file to hand in or hand out: settings, curves, latent map, reconstructions, "
                              "traversals and the diagnosis. It opens in any browser, offline." +
                              (" It needs the run's data: load it on the Data page." if needs_data else ""))
    with b[3].popover(f"Delete {name}", icon=":material/delete:", disabled=is_busy, width="stretch",
                      help="Remove this run and its folder from the run store (download it first to keep it)."):
        st.markdown(f"Delete **{pick.label}** and its folder? This cannot be undone.")
        if st.button("Yes, delete it", key="runs_delete", type="primary"):
            try:
                ws.delete_run(pick.id)
            except StoreError as exc:
                st.error(str(exc))
            else:
                state.flash(f"Deleted {pick.label}.", "info")
                st.rerun()
