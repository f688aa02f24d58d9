"""Diagnostics: how much of the latent code the model uses, and whether the posterior collapsed."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.components import charts, compare, presenter
from dashboard.components.run_header import explored_run

PARTS = {"test": "test part", "val": "validation part", "train": "training part"}

ws = state.workspace()
st.title("Diagnostics")
st.caption("A VAE squeezes each input into a code z and is charged, in nats, for how far that code strays from "
           "the prior N(0, I): the KL term. **Posterior collapse** is when that charge wins: the encoder hands the "
           "decoder the same code for every input (KL ≈ 0), and the decoder learns to produce an average input "
           "without looking at z. This page measures how much each dimension of z is used.")

run = explored_run(ws, "its diagnosis", ":material/monitor_heart:")
data = run.data
parts = [p for p in PARTS if len(data.indices(p))] or ["all"]
part = st.segmented_control("Measured on", parts, default=parts[0], required=True, key="diag_part",
                            format_func=lambda p: PARTS.get(p, "all data"),
                            help="Which samples the KL and active units are measured on. The test part was never "
                                 "used in training, so it shows what the model does on new data.")
diag = run.diagnosis(part)

# ---- the verdict -----------------------------------------------------------------------------------------
reason = diag.reason[0].upper() + diag.reason[1:]
if diag.verdict == "collapsed":
    st.error(reason, icon=":material/error:")
elif diag.verdict == "partial":
    st.info(f"Part of the code is unused: {diag.reason}", icon=":material/info:")
elif diag.verdict == "too_early":
    st.warning(reason, icon=":material/hourglass:")
else:
    st.success(f"Healthy: {diag.reason}", icon=":material/check_circle:")

d = len(diag.kl_per_dim)
c = presenter.cells(4)
c[0].metric("Active units", f"{diag.active_units} of {d}",
            help="A dimension is active when its mean code changes from input to input: variance of E[z_d|x] over "
                 "the data above 0.01 (Burda et al. 2016). Inactive dimensions are ignored by the decoder.")
c[1].metric("Total KL", f"{diag.kl:.2f} nats", help="KL(q(z|x) || p(z)) summed over dimensions, averaged over "
                                                    "samples: how much information the code carries about x.")
c[2].metric("Reconstruction", f"{diag.recon:.2f} nats", help="-log p(x|z): how badly the decoder rebuilds the input.")
c[3].metric("Neg. ELBO", f"{diag.recon + diag.kl:.2f} nats", help="Reconstruction + KL: the VAE's bound on "
                                                                  "-log p(x). Lower is better.")

# ---- fixes -----------------------------------------------------------------------------------------------
if diag.verdict in ("collapsed", "partial"):
    fixes = compare.suggested_fixes(run)
    if fixes:
        st.markdown("**Try one of these on the next run.** One click sets up the Train page; you press Train.")
        same_data = run.data is ws.data
        for col, fix in zip(st.columns(len(fixes)), fixes, strict=True):
            if col.button(fix.label, key=fix.key, help=fix.help, width="stretch"):
                changes = {**compare.run_settings(run), **fix.changes} if same_data else dict(fix.changes)
                state.apply_settings(changes)
                like = f"run {run.number}" if same_data else "your current settings"
                note = "" if same_data else f" (the data in use is {ws.data.name}, not {run.data.name})"
                state.flash(f"Settings ready: like {like} but with {fix.says}{note}. Press **Train** to try it.")
                st.switch_page("app_pages/train.py")

# ---- per-dimension KL and the history --------------------------------------------------------------------
left, right = st.columns(2, gap="large")
with left:
    st.plotly_chart(compare.kl_bars(diag.kl_per_dim, diag.active), key="diag_kl_bars", config=charts.PNG_CONFIG)
    st.caption(compare.KL_BARS_CAPTION + " A healthy model spends KL on several dimensions; a collapsed one has "
               "every bar near zero.")
with right:
    if run.so_far().recon:
        st.plotly_chart(charts.epoch_curves(run.events, "Per epoch, training part"),
                        key="diag_epochs", config=charts.PNG_CONFIG)
        st.caption("Collapse shows as the KL dropping to zero early while reconstruction still improves: the "
                   "decoder learns to do without z. Each term has its own panel; the KL's reaches at least 1 nat.")
    else:
        st.caption("This run has no per-epoch history to draw.")

with st.expander("Numbers per dimension"):
    st.dataframe(pd.DataFrame({"dimension": [f"z{i}" for i in range(d)], "KL (nats)": diag.kl_per_dim,
                               "variance of E[z|x]": diag.latent_variance, "active": diag.active})
                 .sort_values("KL (nats)", ascending=False, kind="stable"),
                 hide_index=True, key="diag_table")
st.caption("Every chart has a camera button (top right, on hover) that saves it as a PNG.")
