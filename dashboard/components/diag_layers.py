"""The Diagnostics page's part for a hierarchical VAE: how much of the KL each stochastic layer carries."""
from __future__ import annotations

import streamlit as st

from vae_core.analysis import Diagnostics

WORDS = {"z1": "bottom layer z1 (feeds the decoder)", "z2": "top layer z2 (sets z1's prior)"}


def per_layer(layers: tuple[tuple[str, int, int], ...], diag: Diagnostics) -> None:
    """One metric per layer: its KL (a sum of non-negative dimensions), its active units; then what they add up to."""
    parts = {name: float(diag.kl_per_dim[a:b].sum()) for name, a, b in layers}
    cols = st.columns(len(layers) + 1)
    for col, (name, a, b) in zip(cols, layers, strict=False):
        col.metric(f"KL of {name}", f"{parts[name]:.2f} nats",
                   help=f"The {WORDS.get(name, name)}: KL(q(z2|x) || N(0, I)) for the top layer, "
                        f"E KL(q(z1|x, z2) || p(z1|z2)) for the bottom one, summed over its {b - a} dimensions "
                        f"(each non-negative).")
    active = ", ".join(f"{int(diag.active[a:b].sum())} of {b - a} in {name}" for name, a, b in layers)
    cols[-1].markdown(f"The two parts add up to the total KL: {' + '.join(f'{v:.2f}' for v in parts.values())} = "
                      f"{diag.kl:.2f} nats. Active units: {active}.")
