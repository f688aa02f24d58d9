"""Latent space: where the model puts each input, as a map of the latent means (PCA, t-SNE, or z itself)."""
from __future__ import annotations

import streamlit as st

from dashboard import state
from dashboard.components import charts, explore, projector_export
from dashboard.components.run_header import explored_run
from vae_core import analysis

POLL_SECONDS = 0.5
METHODS = {"pca": "PCA", "tsne": "t-SNE", "z": "z itself (2-D latent)"}
PARTS = {"test": "test part (never trained on)", "all": "all parts (train, validation, test)"}
EXPLAIN = {
    "pca": "**PCA** is a linear projection onto the two directions along which the codes vary most. Distances "
           "and large-scale structure are kept (clusters far apart really are far apart), but clusters that "
           "differ along other directions may overlap.",
    "tsne": "**t-SNE** places points so that each one keeps its nearest neighbours. Clusters show which inputs "
            "the model codes alike, but distances between clusters and cluster sizes mean little, and a "
            "different perplexity or seed can move them around.",
    "z": "**z itself**: the latent code has two dimensions, so this is the latent space with no projection: "
         "the prior N(0, I) is a round blob around (0, 0).",
}

ws = state.workspace()
st.title("Latent space")
run = explored_run(ws, "where it puts each input", ":material/scatter_plot:")
data, model = run.data, run.model
latent_dim = model.cfg.latent_dim
st.caption(f"Each dot is one input, placed by the mean of its code E[z|x]; the code has {latent_dim} "
           f"dimension{'s' * (latent_dim != 1)}, so the map shows a 2-D view of it.")

# ---- controls ------------------------------------------------------------------------------------------
methods = ["pca", "tsne"] + (["z"] if latent_dim == 2 else [])
c = st.columns([3, 2, 2, 2], gap="medium")
method = c[0].radio("Map", methods, horizontal=True, format_func=METHODS.get,
                    key=explore.keep(f"latent_method_{len(methods)}", "z" if latent_dim == 2 else "pca"),
                    help="How the codes are flattened to 2-D. PCA is instant; t-SNE shows neighbourhoods but "
                         "takes a few seconds and runs in the background.")
points = c[1].slider("Points", 500, 5000, step=100, key=explore.keep("latent_points", 2000),
                     help="How many inputs to draw (a fixed random sample of the chosen part). More points show "
                          "more detail; t-SNE takes longer.")
perplexity = c[2].slider("t-SNE perplexity", 5, 100, key=explore.keep("latent_perplexity", 30),
                         disabled=method != "tsne",
                         help="Roughly how many neighbours each point tries to keep close in t-SNE. Small values "
                              "show tight local clumps, large values more of the overall layout.")
part = c[3].selectbox("Inputs", list(PARTS), format_func=PARTS.get, key=explore.keep("latent_part", "test"),
                      help="The test part was held out from training, so it shows how the model codes new inputs; "
                           "'all' adds the inputs it was trained on.")

# ---- codes of a fixed sample ---------------------------------------------------------------------------
part_idx = data.indices(part)
if not len(part_idx):
    st.info(f"This data set has no {part} part; showing all inputs instead.")
    part, part_idx = "all", data.indices("all")
picked = analysis.subsample(len(part_idx), points, seed=0)  # positions in the part
ids = part_idx[picked]  # sample ids in run.data
means = run.means(part)[picked]
labels = [data.label_text(int(i)) for i in ids] if data.y is not None else []
hover = [explore.item_hover(data, int(i)) for i in ids]
n = len(ids)
if n < points:
    st.caption(f"The {part} part holds only {n:,} inputs: all of them are shown." +
               (" Choose all parts for a fuller map." if part != "all" and n < 100 else ""))


task = None
coords = None
if method == "tsne":
    key = ("tsne", n, perplexity, part)
    coords = run.memo.peek(key)
    if coords is None:
        task = explore.tsne_task(ws, run, key, means, perplexity)
        coords = run.memo.peek(key)  # it may have finished in the meantime
running = task is not None and task.active

if method == "tsne" and coords is None:
    if task is not None and task.snapshot().status == "failed":
        st.error(f"The t-SNE map could not be computed: {task.snapshot().error}. The PCA map is shown instead.")
        if st.button("Try t-SNE again", key="latent_tsne_retry"):
            with ws.lock:
                ws.background.pop(("tsne", run.id, *key), None)
            st.rerun()

    @st.fragment(run_every=POLL_SECONDS if running else None)
    def tsne_progress() -> None:
        """Shows the background t-SNE's progress; one full rerun when it ends draws its map."""
        snap = task.snapshot()
        if snap.status == "running":
            text = (f"Computing the t-SNE map of {n:,} points: {snap.progress:.0%} after {snap.seconds:.0f} s"
                    if snap.progress > 0 else f"Finding the neighbours of {n:,} points for t-SNE…")
            st.progress(snap.progress, text=text)
            st.caption("It runs in the background: you can change settings or use other pages meanwhile. "
                       "Below, the PCA map until it is ready.")
        if running and not task.active:
            st.rerun()

    tsne_progress()

shown = method if method != "tsne" or coords is not None else "pca"  # PCA stands in while t-SNE computes
if shown == "z":
    coords, axes, title = means, ("z0", "z1"), "The latent means, z itself"
elif shown == "tsne":
    axes, title = ("t-SNE 1", "t-SNE 2"), f"t-SNE map of the latent means (perplexity {perplexity})"
else:
    coords, ratio = analysis.pca_2d(means)
    axes = (f"PC 1 ({ratio[0]:.0%} of the variance)", f"PC 2 ({ratio[1]:.0%} of the variance)")
    title = "PCA of the latent means" + (" (t-SNE is still computing)" if running else "")

# ---- map and the inputs selected on it ----------------------------------------------------------------
left, right = st.columns([3, 2], gap="large")
with left:
    fig = charts.latent_scatter(coords, labels, f"{title}: {n:,} inputs", hover=hover, axis_names=axes,
                                customdata=ids, height=560)
    fig.update_layout(legend=dict(title=explore.label_word(data) or None, orientation="v", x=1.02, xanchor="left",
                                  y=1, yanchor="top"),  # beside the map: a long legend on top hides the title
                      dragmode="select")  # dragging selects inputs; zoom and pan stay in the toolbar
    if data.label_kind == "anomaly" and data.y is not None:
        explore.emphasise_anomalies(fig)
    map_key = f"latent_map_{shown}_{part}_{n}_{perplexity if shown == 'tsne' else ''}_{run.id[:8]}"  # clears selection
    event = st.plotly_chart(fig, key=map_key, on_select="rerun",
                            selection_mode=("points", "box", "lasso"), config=charts.PNG_CONFIG)
    st.caption(EXPLAIN[shown])
    with st.expander("PCA or t-SNE: which to trust for what?"):
        st.markdown("\n\n".join(EXPLAIN[m] for m in methods) + "\n\nBoth maps show the *means* of the codes; "
                    "each input's code is really a small cloud around its dot.")

with right:
    explore.selected_inputs(data, explore.labels_in_turn(data, explore.selected_ids(event)))
    projector_export.show(run, part)
