"""The VAE family side by side: one row per run (which variant, its test figures, how much of its code it uses, how
well its codes fill the prior, seconds) and the samples each draws from the same seed. The Runs page's comparison
and lesson 8 both show these; nothing here draws (the callers do)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from vae_core import analysis
from vae_core.config import to_dict, variant_words
from vae_core.run import Run

from .compare import eval_part

SAMPLES = 10  # samples per run in the side-by-side rows


def variant_name(run: Run) -> str:
    """'conditional VAE', 'hierarchical VAE', 'adversarial autoencoder', with ', IWAE objective (k = 5)'."""
    return variant_words({**to_dict(run.model_cfg), **to_dict(run.train_cfg)})


def family_table(runs: list[Run]) -> pd.DataFrame:
    """One row per run: its variant and held-out figures, nats per sample (missing figures stay empty)."""
    rows = []
    for run in runs:
        s = run.summary
        layers = s.get("kl_layers") or {}
        rows.append({
            "run": run.short_name, "variant": variant_name(run),
            "test neg. ELBO": s.get("test_neg_elbo"), "IWAE NLL": s.get("iwae_nll"),
            "KL per layer": " + ".join(f"{name} {v:.1f}" for name, v in layers.items()) or None,
            "active units": f"{s.get('active_units')} of {s.get('latent_dim')}",
            "codes vs prior (MMD²)": s.get("prior_mmd"), "seconds": s.get("seconds"),
        })
    frame = pd.DataFrame(rows)
    # narrow enough for 1024 px: no column empty for every run (IWAE NLL of sensor runs, KL per layer without a
    # hierarchical run); reconstruction and KL are in the Runs table's every-figure view
    return frame.dropna(axis="columns", how="all")


def caption(runs: list[Run]) -> str:
    """What the table's figures were measured on, and with what (k, binarisation) the likelihoods compare."""
    first = runs[0]
    scored = next((r.summary for r in runs if r.summary.get("iwae_nll") is not None), None)
    nll = (f" IWAE NLL: −log p(x) estimated with {analysis.likelihood_note(scored)}." if scored else "")
    return (f"Measured on the {eval_part(first.data) if first.data is not None else 'test'} part of "
            f"{first.data_name}, nats per sample, lower is better; every run has the same likelihood, so the bounds "
            f"compare.{nll} MMD² between the test codes' means and draws of the model's prior (N(0, I); for a "
            "hierarchical VAE z2 from N(0, I), then z1 given z2): 0 when the codes fill the prior as a whole. "
            "Seconds: training time, on whatever else the machine was doing.")


def sample_rows(runs: list[Run], n: int = SAMPLES, seed: int = 0) -> np.ndarray:
    """Each run's samples from the same prior seed: (len(runs), n, C, H, W); a conditional run draws class i in
    column i (cycling through its classes)."""
    rows = []
    for run in runs:
        labels = np.arange(n) % run.model.classes if run.model.classes else None
        rows.append(run.memo.get(("family_samples", n, seed),
                                 lambda run=run, labels=labels: analysis.sample_prior(run.model, n, seed, labels)))
    return np.stack(rows)
