"""Posterior: draw an input (or pick one) and see where the model puts it: q(z|x) as an ellipse on the map of the
codes, decodes of draws from it and of its mean; a click anywhere on the map decodes that point."""
from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import state
from dashboard.components import charts, compare, explore, images, posterior_view
from dashboard.components.run_header import explored_run
from vae_core import analysis

ws = state.workspace()
st.title("Posterior")
run = explored_run(ws, "where it puts an input you draw or pick", ":material/draw:")
data, model = run.data, run.model
part = compare.eval_part(data)
st.caption("The encoder gives every input a Gaussian over codes, q(z|x) = N(μ, σ²): its mean is the dot the Latent "
           "space page draws, and σ says how sure it is. Draw or pick an input to see that cloud.")

left, right = st.columns([2, 3], gap="large")
with left:
    ways = ["draw", "pick"] if data.kind == "image" else ["pick"]
    way = st.radio("Input", ways, horizontal=True, key=explore.keep("posterior_way", ways[0]),
                   format_func={"draw": "Draw one", "pick": f"Pick one from the {part} part"}.get)
    if way == "draw":
        st.caption("Draw with the mouse (or a finger) in the box; it is scaled and centred like the data's images.")
        x = posterior_view.drawn_input(data, f"posterior_canvas_{run.id[:8]}")
        name = "your drawing"
    else:
        x, name = posterior_view.picked_input(data, part)

mu = sigma = draws = terms = None
if x is not None:
    terms = analysis.elbo_terms(model, x, draws=posterior_view.DRAWS, seed=0)
    mu, sigma, draws = terms.mu, terms.sigma, terms.z

with right:
    event = st.plotly_chart(posterior_view.figure(run, part, mu, sigma, draws), on_select="rerun",
                            selection_mode="points", key=f"posterior_map_{run.id[:8]}_{part}")
    view = posterior_view.plane(run, part)[0]
    st.caption(("The map is the 2-D code itself: the ellipse is q(z|x) exactly." if view.is_code else
                f"The code has {model.cfg.latent_dim} dimensions; the map is the plane of the codes' first two "
                f"principal directions ({sum(view.explained):.0%} of their variance), and the ellipse is q(z|x) "
                "projected onto it.") + " The μ ± 2σ ellipse holds about 86 % of the draws (a 2-D Gaussian's mass "
               "within two standard deviations)." + " Click anywhere on the map to decode that point.")

with left:
    if terms is not None:
        if data.kind == "image":
            st.image(images.mosaic(np.stack([x, terms.mean_reconstruction]), cols=2, upscale=4),
                     caption=f"{name[:1].upper()}{name[1:]}, as the model sees it, and the decoded μ")
        else:
            st.plotly_chart(charts.window_overlay(x, terms.mean_reconstruction, compare.channel_names(data),
                                                  f"{name} (solid) and the decoded μ (dashed)"), key="posterior_x")
        widest = int(np.argmax(sigma))
        st.markdown(f"KL(q(z|x) ‖ p(z)) = **{terms.kl:.2f} nats**; σ runs from {sigma.min():.2f} to "
                    f"{sigma.max():.2f} (widest in dimension {widest}). Reconstruction −log p(x|z) averaged over "
                    f"{len(terms.z)} draws: **{terms.recon:.1f} nats**.")
        posterior_view.decoded(run, draws, f"Decoded draws z ~ q(z|x) of {name}", "posterior_draws")

point = posterior_view.clicked_point(event)
if point is not None:
    with right:
        z = view.from_plane(np.asarray(point))[None]
        where = "z" if view.is_code else "the point of the plane at"
        posterior_view.decoded(run, z, f"Decoded {where} ({point[0]:.2f}, {point[1]:.2f})", "posterior_click")
elif x is None:
    with left:
        st.info("Draw something in the box (or pick an input) to see its posterior.", icon=":material/draw:")
