"""The 'Prior vs codes' tab: why samples from the prior look worse than reconstructions. Per dimension the codes
against N(0, 1), a 2-D map of where they lie with the prior's holes marked, prior samples beside samples from a
mixture fitted to the codes, and (for class labels) which classes the samples show."""
from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core import analysis
from vae_core import mode_coverage as coverage
from vae_core import prior_geometry as geometry
from vae_core.run import Run

from . import charts, explore, images, prior_charts, prior_words
from .generate.common import png_download

SHOWN = 32  # samples drawn side by side (images), 6 windows for sensors


def applies(run: Run) -> bool:
    """The tab compares the codes with one prior N(0, I): not a conditional run's (a prior per class, the label
    chosen) nor a hierarchical one's (z1's prior depends on z2)."""
    return not run.model.classes and run.model_cfg.variant != "hierarchical"


def results(run: Run) -> dict:
    """Everything the tab shows, computed once per run (the mixture fit and the classifier take seconds)."""
    data = run.data

    def compute() -> dict:
        kl = run.diagnosis(geometry.held_out_part(data)).kl_per_dim
        part = "train"  # the codes the decoder learned from: the aggregate posterior
        mu, logvar = geometry.codes_of(run.model, data, part)
        out = {"part": part, "kl": kl, "gap": geometry.prior_gap(run.model, data),
               "spread": geometry.dimension_spread(run.model, data, part, kl),
               "map": geometry.density_map(mu, logvar), "coverage": None, "mixture_coverage": None}
        try:
            classifier = coverage.fit_classifier(data)
        except ValueError as exc:  # no class labels: say why there is no coverage
            out["no_coverage"] = str(exc)
            return out
        out["coverage"] = coverage.mode_coverage(run.model, data, classifier=classifier)
        out["mixture_coverage"] = coverage.mode_coverage(run.model, data, classifier=classifier,
                                                         codes=out["gap"].z_mixture)
        return out

    return run.memo.get(("prior_view",), compute)


def _samples(run: Run, z: np.ndarray, title: str, key: str) -> None:
    decoded = analysis.decode(run.model, z)
    if run.model_cfg.kind == "image":
        grid = images.mosaic(decoded, cols=8, upscale=2)
        st.image(grid, caption=title)
        png_download(grid, key, f"{key}_png")
    else:
        channels = list(run.data_info.get("channels") or [])
        st.plotly_chart(explore.window_grid(decoded, [f"{k + 1}" for k in range(len(decoded))], channels, title),
                        key=key, config=charts.PNG_CONFIG)


def show(run: Run) -> None:
    st.caption("Reconstructions decode codes of real inputs; samples decode draws from the prior N(0, I). The "
               "decoder only learned from the codes (the aggregate posterior), so wherever the prior puts mass and "
               "the codes do not (a hole), its samples come out blurred or in between.")
    with st.spinner("Encoding the inputs, fitting a mixture to the codes and a classifier to the data…"):
        r = results(run)
    part, kl, gap, spread = r["part"], r["kl"], r["gap"], r["spread"]

    st.subheader("Each dimension against the prior")
    st.plotly_chart(prior_charts.spread_bars(spread, kl), key=f"prior_spread_{run.id[:8]}", config=charts.PNG_CONFIG)
    dims = [int(d) for d in spread.kl_order]
    dim = st.selectbox("Dimension", dims, format_func=lambda d: f"z{d} (KL {kl[d]:.2f} nats)",
                       key=explore.keep(f"prior_dim_{len(dims)}", dims[0]),
                       help="The latent dimensions, the one carrying most information (largest KL, on the held-out "
                            "part) first. The histogram shows the codes of the training part, the ones the decoder "
                            "learned from.")
    st.plotly_chart(prior_charts.dimension_histogram(spread, dim, float(kl[dim]), part),
                    key=f"prior_hist_{dim}_{run.id[:8]}", config=charts.PNG_CONFIG)
    st.markdown(prior_words.spread_words(spread, kl))

    st.subheader("Where the codes lie")
    if r["map"] is None:
        st.info("The code has one dimension: its histogram above is the whole picture.")
    else:
        st.plotly_chart(prior_charts.density_figure(r["map"], part), key=f"prior_map_{run.id[:8]}",
                        config=charts.PNG_CONFIG)
        st.markdown(prior_words.map_words(r["map"], part))

    st.subheader("Samples from the prior, and from a mixture fitted to the codes")
    n = SHOWN if run.model_cfg.kind == "image" else 6
    left, right = st.columns(2, gap="large")
    with left:
        _samples(run, gap.z_prior[:n], f"Prior N(0, I): {n} draws", "prior_vs_prior")
    with right:
        _samples(run, gap.z_mixture[:n], f"Mixture fitted to the codes: {n} draws", "prior_vs_mixture")
    st.caption(f"The mixture has {gap.components} Gaussian components (scikit-learn, full covariances), fitted to the "
               f"means of {gap.n_codes:,} training inputs' codes; both sides use the same decoder.")
    st.markdown(prior_words.gap_words(gap))

    st.subheader("Which classes the samples show")
    if r["coverage"] is None:
        st.info(f"Mode coverage needs class labels: {r['no_coverage']}.", icon=":material/label_off:")
        return
    st.plotly_chart(prior_charts.coverage_bars(r["coverage"], r["mixture_coverage"]),
                    key=f"prior_coverage_{run.id[:8]}", config=charts.PNG_CONFIG)
    st.markdown(prior_words.coverage_words(r["coverage"], r["mixture_coverage"]))
