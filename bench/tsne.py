"""Latent map: the project's t-SNE (`vae_core.analysis.tsne_2d`) against scikit-learn's `TSNE()` defaults.

The latents are real: an MLP VAE 784-400-20 trained on the bundled 5,000 digits (default settings), then
the latent means of
- 2,000: a seeded subsample of the 5,000 real digits;
- 5,000: all real digits;
- 10,000: the 5,000 real digits plus each of them shifted by 1-2 pixels in a random direction (new inputs,
  so no duplicate points, which would distort t-SNE's neighbourhoods).
Both maps are scored with sklearn.manifold.trustworthiness (k=10) against the 20-D latents, so speed is
never bought with a worse map.
"""
from __future__ import annotations

import time

import numpy as np
from sklearn.manifold import TSNE, trustworthiness

from vae_core import analysis
from vae_core.config import ModelConfig, TrainConfig
from vae_core.data import load_bundled
from vae_core.runs import new_model
from vae_core.training import train

from .common import Row, median

SIZES = (2_000, 5_000, 10_000)


def shifted(images: np.ndarray, seed: int = 0) -> np.ndarray:
    """Each image (N, 1, 28, 28) moved by dy, dx in [-2, 2], not both 0; MNIST's 4-pixel blank border keeps digits
    whole."""
    rng = np.random.default_rng(seed)
    moves = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if (dy, dx) != (0, 0)]
    picks = rng.integers(len(moves), size=len(images))
    return np.stack([np.roll(img, moves[p], axis=(1, 2)) for img, p in zip(images, picks, strict=True)])


def latents() -> np.ndarray:
    """(10,000, 20) latent means: the 5,000 real digits first, then their shifted copies."""
    data = load_bundled("mnist")
    model = new_model(ModelConfig(arch="mlp", hidden=(400,), latent_dim=20, loss="bce"), 0)
    for _ in train(model, data, TrainConfig()):
        pass
    return analysis.encode_means(model, np.concatenate([data.x, shifted(data.x)]))


def run(repeats: int = 3) -> list[Row]:
    z_all = latents()
    rows = []
    for n in SIZES:
        z = z_all[analysis.subsample(5_000, n, seed=0)] if n < 5_000 else z_all[:n]
        reps = repeats if n <= 5_000 else 1  # scikit-learn on 10,000 points takes minutes on 2 cores
        ours, theirs = [], []
        for _ in range(reps):  # interleaved, so that load on the machine hits both alike
            t = time.perf_counter()
            emb_ours = analysis.tsne_2d(z)
            ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            emb_sk = TSNE(random_state=0).fit_transform(z)
            theirs.append(time.perf_counter() - t)
        tw_ours = trustworthiness(z, emb_ours, n_neighbors=10)
        tw_sk = trustworthiness(z, emb_sk, n_neighbors=10)
        speedup = median([b / a for a, b in zip(ours, theirs, strict=True)])
        print(f"  tsne {n}: ours {median(ours):.1f} s (T={tw_ours:.4f}), sklearn {median(theirs):.1f} s "
              f"(T={tw_sk:.4f})", flush=True)
        is_goal = n == 5_000
        rows.append(Row("tsne", f"t-SNE of {n:,} latents (20-D): tsne_2d vs sklearn TSNE()",
                        f"{median(ours):.1f} s", f"{median(theirs):.1f} s", speedup, " x faster",
                        ">= 4 x" if is_goal else "", speedup >= 4 if is_goal else None))
        rows.append(Row("tsne", "  trustworthiness k=10: tsne_2d vs sklearn", f"{tw_ours:.4f}", f"{tw_sk:.4f}",
                        tw_ours - tw_sk, " (difference)", ">= -0.01" if is_goal else "",
                        tw_ours - tw_sk >= -0.01 if is_goal else None))
    return rows
