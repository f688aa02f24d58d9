"""The VAE family on MNIST at the defaults: each variant's test figures and training seconds, the plain VAE the
baseline.

Every variant is `vae-explorer train --data mnist` with one setting changed (the same data, seed and threads), as
lesson 8 trains them: --conditional, --variant hierarchical, --variant adversarial, --objective iwae --iwae-k 5.
A row gives the test neg. ELBO and the IWAE NLL (k = 64 importance samples; MNIST's grey levels, not binarised),
the codes' MMD² to the prior, the active units, and the seconds against the VAE's (ratio). The conditional VAE's row
also gives how often a logistic regression trained on the real training digits reads its samples (50 per digit) as
the digit asked for. `python -m bench family`; `--repeats` repeats only the timing.
"""
from __future__ import annotations

import numpy as np

from vae_core import analysis
from vae_core.config import configs_for
from vae_core.data import load_bundled
from vae_core.runs import finish_run, new_run, train_run

from .common import Row, median

VARIANTS = {"VAE": {}, "conditional VAE": {"conditional": True}, "hierarchical VAE": {"variant": "hierarchical"},
            "adversarial autoencoder": {"variant": "adversarial"},
            "VAE, IWAE objective (k = 5)": {"objective": "iwae", "iwae_k": 5}}


def _train(data, given: dict):
    run = new_run(data, *configs_for(data.kind, data.input_shape, given, data.classes), source="mnist")
    list(train_run(run))
    return finish_run(run)


def conditional_accuracy(run, data) -> float:
    """Share of 50 samples per digit that a classifier trained on the real training digits reads as that digit."""
    from sklearn.linear_model import LogisticRegression

    x, y = data.part("train")
    reader = LogisticRegression(max_iter=300).fit(x.reshape(len(x), -1), y)
    hits = [(reader.predict(analysis.sample_prior(run.model, 50, seed=d, y=d).reshape(50, -1)) == d).mean()
            for d in range(run.model.classes)]
    return float(np.mean(hits))


def run(repeats: int = 1) -> list[Row]:
    data = load_bundled("mnist")
    rows, base = [], None
    for name, given in VARIANTS.items():
        runs = [_train(data, given) for _ in range(repeats)]
        s = runs[0].summary
        seconds = median([r.summary["seconds"] for r in runs])
        base = base or seconds
        figures = (f"neg. ELBO {s['test_neg_elbo']:.1f}, IWAE NLL {s['iwae_nll']:.1f}, MMD² {s['prior_mmd']:.3f}, "
                   f"{s['active_units']}/{s['latent_dim']} active, {seconds:.1f} s")
        if given.get("conditional"):
            figures += f", samples read as asked {100 * conditional_accuracy(runs[0], data):.0f}%"
        rows.append(Row("family", name, figures, baseline=f"VAE {base:.1f} s", ratio=seconds / base,
                        ratio_note="x the VAE's seconds"))
    return rows
