"""Reconstructions & samples: what the model rebuilds, what it dreams up, and what each latent dimension does."""
from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import state
from dashboard.components import charts, compare, explore, images
from vae_core import analysis

PARTS = {"test": "test part (never trained on)", "val": "validation part", "train": "training part", "all": "all parts"}
ORDERS = {"random": "random", "worst": "worst reconstructed"}
ZEROS = -1  # the traversal's base code: the centre of the prior instead of an input's code

ws = state.workspace()
run = ws.current_run()
st.title("Reconstructions & samples")
if run is None:
    st.info("No trained model yet. Train one first; this page then shows what it rebuilds and generates.",
            icon=":material/auto_awesome:")
    st.page_link("app_pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()
if ws.busy_run_id() == run.id:
    st.info(f"**{run.label}** is being trained right now. Its reconstructions and samples appear here when "
            "training ends.", icon=":material/hourglass:")
    st.page_link("app_pages/train.py", label="Watch training", icon=":material/model_training:")
    st.stop()

data, model = run.data, run.model
is_image = data.kind == "image"
latent_dim = model.cfg.latent_dim
st.caption(f"Exploring **{run.label}**.")


def part_ids(part: str) -> np.ndarray:
    """Sample ids of a part; all samples when the part is empty."""
    ids = data.indices(part)
    return ids if len(ids) else data.indices("all")


def channel_choice(key: str, allow_all: bool = False) -> list[int]:
    """Which sensor channels a line chart draws (no choice with one channel)."""
    every = list(range(len(data.channels)))
    if len(every) <= 1:
        return every
    options = ([-1] if allow_all else []) + every
    pick = st.columns([1, 3])[0].selectbox(
        "Channel", options, format_func=lambda c: "all channels" if c == -1 else data.channels[c], key=key,
        help="The sensor channel drawn in the charts below; the model rebuilds and generates all of them.")
    return every if pick == -1 else [pick]


def png_download(array: np.ndarray, name: str, key: str) -> None:
    st.download_button("Download PNG", images.png_bytes(array), f"{name}.png", "image/png", key=key,
                       on_click="ignore", icon=":material/download:")


def new_seed() -> None:
    """The 'New samples' button: the next seed (a callback runs before the seed widget is drawn)."""
    st.session_state["gen_prior_seed"] = int(st.session_state.get("gen_prior_seed", 0)) + 1


tabs = st.tabs(["Reconstructions", "Samples from the prior", "Latent traversals", "Interpolation"])

# ---- 1. reconstructions -----------------------------------------------------------------------------------
with tabs[0]:
    st.caption("Each input goes through the encoder to the mean of its code, then back through the decoder. The "
               "error is −log p(x|z) at that code, in nats: lower is better, and it is the loss's "
               "reconstruction term.")
    c = st.columns(4, gap="medium")
    part = c[0].selectbox("Inputs", list(PARTS), format_func=PARTS.get, key=explore.keep("gen_recon_part", "test"),
                          help="Where the inputs come from. The test part was never trained on, so it shows how "
                               "well the model generalises.")
    count = c[1].slider("How many", 4 if is_image else 1, 32 if is_image else 8,
                        key=explore.keep(f"gen_recon_count_{data.kind}", 16 if is_image else 4),
                        help="Number of inputs shown with their reconstructions.")
    order = c[2].radio("Which inputs", list(ORDERS), format_func=ORDERS.get,
                       key=explore.keep("gen_recon_order", "random"),
                       horizontal=True,
                       help="Random inputs show typical quality; the worst reconstructed ones show what the model "
                            "finds hardest (odd shapes, rare styles, anomalies).")
    seed = c[3].number_input("Shuffle seed", 0, 1_000_000, key=explore.keep("gen_recon_seed", 0),
                             disabled=order == "worst",
                             help="Change it to draw a different random set of inputs.")
    ids = part_ids(part)
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
                 caption=[f"{explore.item_name(data, int(i))}: {e:.1f} nats" for i, e in zip(shown, shown_err)])
        st.caption("Each pair: the original on the left, its reconstruction on the right.")
        png_download(explore.pairs_grid(data.x[shown], recon), "reconstructions", "gen_recon_png")
    else:
        drawn = channel_choice("gen_recon_channel", allow_all=True)
        cols = st.columns(2)
        for j, (i, e) in enumerate(zip(shown, shown_err)):
            cols[j % 2].plotly_chart(
                charts.window_overlay(data.x[i][:, drawn], recon[j][:, drawn], [data.channels[c] for c in drawn],
                                      f"{explore.item_name(data, int(i))}: error {e:.1f} nats", height=280),
                key=f"gen_recon_window_{j}", config=charts.PNG_CONFIG)
        st.caption("Solid lines: the original; dashed: its reconstruction (same colour per channel). The error "
                   "counts every channel, whichever are drawn.")

# ---- 2. samples from the prior ------------------------------------------------------------------------------
with tabs[1]:
    st.caption("New data from nothing: draw codes z from the prior N(0, I) and decode them. Good samples mean the "
               "codes of real inputs fill the prior without holes.")
    c = st.columns([2, 2, 1], vertical_alignment="bottom", gap="medium")
    n_samples = c[0].slider("How many", 8 if is_image else 1, 64 if is_image else 9, step=8 if is_image else 1,
                            key=explore.keep(f"gen_prior_count_{data.kind}", 32 if is_image else 6),
                            help="Number of codes drawn from the prior and decoded.")
    prior_seed = c[1].number_input("Seed", 0, 1_000_000, key=explore.keep("gen_prior_seed", 0),
                                   help="The same seed draws the same codes, so you can compare models fairly.")
    c[2].button("New samples", key="gen_prior_new", on_click=new_seed, help="Draw another set of codes.")
    samples = analysis.sample_prior(model, n_samples, seed=int(prior_seed))
    if is_image:
        grid = images.mosaic(samples, cols=8, upscale=3)
        st.image(grid, caption=f"{n_samples} samples, seed {prior_seed}")
        png_download(grid, f"samples_seed{prior_seed}", "gen_prior_png")
    else:
        st.plotly_chart(explore.window_grid(samples, [f"sample {k + 1}" for k in range(n_samples)], data.channels,
                                            f"{n_samples} windows decoded from z ~ N(0, I) (scaled values)"),
                        key="gen_prior_windows", config=charts.PNG_CONFIG)

# ---- 3. latent traversals -----------------------------------------------------------------------------------
with tabs[2]:
    st.caption("Start from one code, change a single dimension z_d from low to high and decode each step. "
               "Rows are sorted by how much information the dimension carries (its KL on the test part): the "
               "top rows change the output; rows with KL near 0 are unused and stay flat.")
    kl = run.summary.get("kl_per_dim")
    if kl is None or len(kl) != latent_dim:
        kl = run.diagnosis(compare.eval_part(data)).kl_per_dim
    kl = np.asarray(kl, dtype=float)
    dim_order = np.argsort(-kl, kind="stable")  # most informative first
    test_ids = part_ids("test")
    c = st.columns(4, gap="medium")
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

    def row_title(d: int) -> str:
        unused = " (unused)" if kl[d] < analysis.NEAR_ZERO_KL else ""
        return f"z{d}: KL {kl[d]:.2f} nats{unused}"

    if is_image:
        st.caption(f"Columns: z_d = {', '.join(f'{v:g}' for v in values)}.")
        for r, d in enumerate(dims):
            left, right = st.columns([1, 7], vertical_alignment="center")
            unused = kl[d] < analysis.NEAR_ZERO_KL
            left.markdown(f"**z{d}**  \nKL {kl[d]:.2f} nats" + ("  \n*unused*" if unused else ""))
            right.image(images.mosaic(rows[r], cols=steps, upscale=2))
        png_download(images.grid(rows), "traversals", "gen_trav_png")
    else:
        (channel,) = channel_choice("gen_trav_channel") or [0]
        st.plotly_chart(explore.traversal_lines(rows, values, [row_title(int(d)) for d in dims], channel,
                                                data.channels[channel] if data.channels else "value",
                                                "One panel per latent dimension, one line per value of z_d"),
                        key="gen_trav_lines", config=charts.PNG_CONFIG)

# ---- 4. interpolation -------------------------------------------------------------------------------------
with tabs[3]:
    st.caption("Walk in a straight line from the code of input A to the code of input B and decode each step. A "
               "smooth path means the space between the two codes is filled with sensible outputs.")
    options = part_ids("test").tolist()
    labels = [data.label_text(i) for i in options]
    default_b = next((k for k, lab in enumerate(labels) if lab != labels[0]), min(1, len(options) - 1))
    c = st.columns(3, gap="medium")
    a = c[0].selectbox("From (A)", options, index=0, key="gen_interp_a",
                       format_func=lambda i: explore.item_name(data, i),
                       help="The input the path starts from (test part).")
    b = c[1].selectbox("To (B)", options, index=default_b, key="gen_interp_b",
                       format_func=lambda i: explore.item_name(data, i), help="The input the path ends at (test part).")
    n_steps = c[2].slider("Steps", 3, 16, key=explore.keep("gen_interp_steps", 10),
                          help="Number of evenly spaced points on the line between the two codes, ends included.")
    path = analysis.interpolate(model, data.x[a], data.x[b], steps=n_steps)
    name_a, name_b = explore.item_name(data, a), explore.item_name(data, b)
    if is_image:
        strip = images.mosaic(path, cols=n_steps, upscale=3)
        ends = st.columns([1, n_steps, 1], vertical_alignment="top")  # tiles of equal size, on one line
        ends[0].image(images.mosaic(data.x[[a]], cols=1, upscale=3), caption="A (original)", width="stretch")
        ends[1].image(strip, caption=f"decoded path, A → B, {n_steps} steps", width="stretch")
        ends[2].image(images.mosaic(data.x[[b]], cols=1, upscale=3), caption="B (original)", width="stretch")
        st.caption("The ends of the path are the reconstructions of A and B, so they can differ from the originals.")
        png_download(strip, "interpolation", "gen_interp_png")
    else:
        (channel,) = channel_choice("gen_interp_channel") or [0]
        st.plotly_chart(explore.path_lines(path, data.x[a], data.x[b], channel,
                                           data.channels[channel] if data.channels else "value",
                                           (f"A: {name_a}", f"B: {name_b}"),
                                           f"From {name_a} to {name_b}"),
                        key="gen_interp_lines", config=charts.PNG_CONFIG)
