"""What a trained VAE learned, as arrays: latents, maps, reconstructions, diagnostics, anomaly scores.

Nothing here plots or writes files; the dashboard and the CLI decide how to show the numbers.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from .dataset import Dataset
from .losses import kl_per_dim, log_importance_weights, recon_nll, reconstruction_mean
from .models import VAE
from .training import TrainingSoFar, evaluate_loss

ACTIVE_VARIANCE = 0.01  # Burda et al. 2016: unit d is active when Var_x(E_q[z_d]) > 0.01
NEAR_ZERO_KL = 0.05  # nats: a dimension whose KL is below this carries (almost) nothing about x
COLLAPSE_KL = 1.0  # nats per sample: less than one nat in all of z cannot even tell ten digits apart


def _device(model: VAE) -> torch.device:
    return next(model.parameters()).device


@contextmanager
def inference(model: VAE) -> Iterator[torch.device]:
    """Context: eval mode without gradients, yielding the model's device; restores its mode after (a job may be mid-training)."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield _device(model)
    finally:
        model.train(was_training)


def _batches(x: np.ndarray, batch_size: int):
    for i in range(0, len(x), batch_size):
        yield i, x[i:i + batch_size]


def encode(model: VAE, x: np.ndarray, batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Posterior parameters: x (N, ...) -> mu (N, D), logvar (N, D)."""
    mus, logvars = [], []
    with inference(model) as dev:
        for _, xb in _batches(x, batch_size):
            mu, logvar = model.encode(torch.as_tensor(xb, device=dev))
            mus.append(mu.cpu())
            logvars.append(logvar.cpu())
    return torch.cat(mus).numpy(), torch.cat(logvars).numpy()


def encode_means(model: VAE, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Latent means E_q[z|x]: (N, ...) -> (N, D)."""
    return encode(model, x, batch_size)[0]


def decode(model: VAE, z: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Decoder means in data space: z (N, D) -> (N, ...)."""
    with inference(model) as dev:
        out = [reconstruction_mean(model.decode(torch.as_tensor(zb, dtype=torch.float32, device=dev)), model.cfg.loss).cpu()
               for _, zb in _batches(z, batch_size)]
    return torch.cat(out).numpy()


def reconstruct(model: VAE, x: np.ndarray) -> np.ndarray:
    """Reconstruction of each input through its latent mean: (N, ...) -> (N, ...).

    Decoded from z alone: an autoregressive decoder generates it, feeding back its own steps.
    """
    return decode(model, encode_means(model, x))


def reconstruction_errors(model: VAE, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Per-sample -log p(x|z) at the latent mean, in the model's loss units (nats): (N, ...) -> (N,)."""
    errs = []
    with inference(model) as dev:
        for _, xb in _batches(x, batch_size):
            xt = torch.as_tensor(xb, device=dev)
            params = model.decode(model.encode(xt)[0], xt)  # xt: an autoregressive decoder is teacher-forced
            errs.append(recon_nll(params, xt, model.cfg.loss, model.cfg.huber_delta).cpu())
    return torch.cat(errs).numpy()


def sample_prior(model: VAE, n: int, seed: int = 0) -> np.ndarray:
    """Decode n draws z ~ N(0, I): -> (n, ...)."""
    z = np.random.default_rng(seed).standard_normal((n, model.cfg.latent_dim)).astype(np.float32)
    return decode(model, z)


def traverse(model: VAE, z0: np.ndarray, dims: Sequence[int], values: Sequence[float]) -> np.ndarray:
    """Sweep each dimension in `dims` over `values`, others fixed at z0 (D,): -> (len(dims), len(values), ...)."""
    z0 = np.asarray(z0, dtype=np.float32)
    grid = np.repeat(z0[None, None, :], len(dims), 0).repeat(len(values), 1)
    for row, d in enumerate(dims):
        grid[row, :, d] = values
    out = decode(model, grid.reshape(-1, z0.shape[0]))
    return out.reshape(len(dims), len(values), *out.shape[1:])


def interpolate(model: VAE, x_a: np.ndarray, x_b: np.ndarray, steps: int = 8) -> np.ndarray:
    """Decode evenly spaced points on the line between the latent means of x_a and x_b: -> (steps, ...)."""
    z = encode_means(model, np.stack([x_a, x_b]))
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    return decode(model, (1 - t) * z[0] + t * z[1])


def pca_2d(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First two principal components: z (N, D) -> coords (N, 2), explained variance ratio (2,)."""
    centered = z - z.mean(0)
    _, s, vt = np.linalg.svd(centered, full_matrices=False)
    coords = centered @ vt[:2].T
    if coords.shape[1] < 2:  # a 1-D latent: put the points on a line
        coords = np.column_stack([coords[:, 0], np.zeros(len(z))])
    var = s ** 2
    ratio = var[:2] / max(var.sum(), 1e-12)
    return coords.astype(np.float32), np.pad(ratio, (0, 2 - len(ratio)))


def subsample(n: int, n_max: int, seed: int = 0) -> np.ndarray:
    """Seeded, sorted indices of at most n_max of n items."""
    if n <= n_max:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, n_max, replace=False))


def tsne_2d(z: np.ndarray, perplexity: float = 30.0, seed: int = 0,
            progress: Callable[[float], bool | None] | None = None) -> np.ndarray:
    """t-SNE map (openTSNE, seeded): z (N, D) -> (N, 2). `progress(fraction)` may return True to cancel."""
    from openTSNE import TSNE

    n = len(z)
    perplexity = float(min(perplexity, max(1.0, (n - 1) / 3)))  # t-SNE needs n > 3 * perplexity
    # Tuned on 2,000-10,000 real 20-D latents (bench/tsne.py): 300 iterations with Barnes-Hut at theta 0.9
    # keep scikit-learn's trustworthiness (k=10, within 0.002) at a fraction of its time. openTSNE's FFT
    # method only pays above ~10,000 points (below, its fixed grid cost made 2,000 points take 20 s), and
    # exact neighbours beat the approximate index up to 5,000 points.
    early, main, every = 100, 200, 25
    calls = 0

    def callback(iteration, error, embedding):
        nonlocal calls
        calls += 1
        return bool(progress(min(1.0, calls * every / (early + main)))) if progress else False

    tsne = TSNE(perplexity=perplexity, random_state=seed, n_jobs=2, early_exaggeration_iter=early, n_iter=main,
                negative_gradient_method="bh" if n <= 10_000 else "fft", theta=0.9,
                neighbors="exact" if n <= 5_000 else "auto",
                callbacks=callback if progress else None, callbacks_every_iters=every, verbose=False)
    if n < 4:  # too few points for a neighbourhood graph
        return pca_2d(z)[0]
    return np.asarray(tsne.fit(np.ascontiguousarray(z, dtype=np.float64)), dtype=np.float32)


MIN_STEPS = 200  # optimiser steps before a verdict on the code means anything (KL still moves a lot before)
MIN_SAMPLES = 30  # inputs for the active-unit variance to be more than noise
KL_RISING = 1.2  # last epoch's KL this many times the one before (and 0.1 nats more): still being put to use
VERDICT_WORDS = {"healthy": "healthy", "partial": "part of the code unused", "collapsed": "posterior collapse",
                 "too_early": "too early to judge"}


@dataclass(frozen=True)
class Diagnostics:
    """How much the latent code is used, and a verdict in plain words."""

    kl_per_dim: np.ndarray  # (D,) nats per sample
    latent_variance: np.ndarray  # (D,) Var_x(E_q[z_d])
    active: np.ndarray  # (D,) bool, Burda et al. 2016
    kl: float  # total KL, nats per sample
    recon: float  # nats per sample
    verdict: str  # healthy | partial | collapsed | too_early (too little training or data to judge)
    reason: str  # the verdict explained, with numbers that agree with it

    @property
    def active_units(self) -> int:
        return int(self.active.sum())

    @property
    def collapsed(self) -> bool:
        return self.verdict == "collapsed"


def diagnose(model: VAE, x: np.ndarray, history: TrainingSoFar | Sequence[float] = (), seed: int = 0) -> Diagnostics:
    """KL per dimension, active units and a collapse verdict on x (N, ...), z sampled with its own seeded generator.

    `history` (or just the reconstruction per epoch) lets the verdict say whether reconstruction kept improving
    while KL stayed near zero (the decoder ignores z), or whether training was too short to judge.
    """
    history = history if isinstance(history, TrainingSoFar) else TrainingSoFar(recon=tuple(history))
    mu, _ = encode(model, x)
    dev = _device(model)
    stats = evaluate_loss(model, torch.as_tensor(x, device=dev), loss=model.cfg.loss,
                          huber_delta=model.cfg.huber_delta, rng=torch.Generator(device=dev).manual_seed(seed))
    kl_dim = np.asarray(stats["kl_per_dim"])
    variance = mu.var(0) if len(mu) > 1 else np.zeros(mu.shape[1])
    active = variance > ACTIVE_VARIANCE
    verdict, reason = _verdict(kl_dim, active, stats["kl"], history, len(x))
    return Diagnostics(kl_dim, variance, active, stats["kl"], stats["recon"], verdict, reason)


def _verdict(kl_dim: np.ndarray, active: np.ndarray, kl: float, history: TrainingSoFar, n: int) -> tuple[str, str]:
    d = len(kl_dim)
    near_zero = int((kl_dim < NEAR_ZERO_KL).sum())
    n_active = int(active.sum())
    looks_collapsed = n_active == 0 or near_zero == d or kl < COLLAPSE_KL
    counted = f" (counted on only {n} inputs, too few to be sure)" if n < MIN_SAMPLES else ""
    if history.steps is not None and history.steps < MIN_STEPS:
        return "too_early", (f"too early to judge: the model has taken only {history.steps} optimiser steps, and a "
                             f"code is still being formed for the first few hundred. Now z carries {kl:.2f} nats per "
                             f"sample, {n_active} of {d} units active{counted}. Train longer (more epochs, a smaller "
                             f"batch, or more samples, e.g. a smaller stride) before reading collapse into it.")
    rising = len(history.kl) >= 2 and history.kl[-1] > max(KL_RISING * history.kl[-2], history.kl[-2] + 0.1)
    if looks_collapsed and rising:
        return "too_early", (f"not collapsed yet: the KL is still rising ({history.kl[-2]:.2f} -> {history.kl[-1]:.2f} "
                             f"nats over the last two epochs), so the code is still being put to use. Now z carries "
                             f"{kl:.2f} nats per sample, {n_active} of {d} units active{counted}. Train longer before "
                             f"judging.")
    if looks_collapsed:
        falling = len(history.recon) >= 2 and history.recon[-1] < history.recon[0]
        facts = [f"z carries only {kl:.2f} nats per sample in total" + (" (less than one nat)" if kl < COLLAPSE_KL
                                                                          else "")]
        if near_zero:
            facts.append(f"KL is ~0 in {near_zero} of {d} dimensions")
        while_recon = " while reconstruction keeps falling" if falling else ""
        # the active-unit test (variance of the means > 0.01) can pass on codes that carry next to nothing
        units = (f" ({n_active} units still pass the active-unit test, but their means vary too little to carry "
                 f"information)") if n_active else ""
        return "collapsed", (f"posterior collapse: {' and '.join(facts)}{while_recon}: the decoder ignores z{units}"
                             f"{counted}. Try KL warm-up, free bits or a lower beta.")
    if n_active <= d // 4 or near_zero >= d - d // 4:
        return "partial", (f"only {d - near_zero} of {d} latent dimensions carry information (KL ~0 in {near_zero}, "
                           f"{n_active} active units{counted}); the rest are unused. "
                           f"That is normal for a large latent size or a high beta; a smaller latent size or lower beta "
                           f"uses the code more fully.")
    return "healthy", f"{n_active} of {d} latent units are active{counted}, carrying {kl:.1f} nats per sample."


@dataclass(frozen=True)
class ElboTerms:
    """The ELBO of one input written out: its posterior, a few draws of z, and each term in nats."""

    mu: np.ndarray  # (D,) posterior mean
    sigma: np.ndarray  # (D,) posterior standard deviation
    eps: np.ndarray  # (K, D) the noise drawn
    z: np.ndarray  # (K, D) = mu + sigma * eps
    recon_per_draw: np.ndarray  # (K,) -log p(x|z) of each draw
    reconstructions: np.ndarray  # (K, ...) decoded mean of each z
    mean_reconstruction: np.ndarray  # (...) decoded mean of z = mu
    kl_per_dim: np.ndarray  # (D,) KL(q(z_d|x) || N(0, 1)) in closed form
    beta: float

    @property
    def recon(self) -> float:
        """The reconstruction term, estimated by the draws' mean."""
        return float(self.recon_per_draw.mean())

    @property
    def kl(self) -> float:
        return float(self.kl_per_dim.sum())

    @property
    def total(self) -> float:
        """recon + beta * KL: this input's loss (its negative ELBO when beta = 1), nats."""
        return self.recon + self.beta * self.kl


def elbo_terms(model: VAE, x: np.ndarray, beta: float = 1.0, draws: int = 4, seed: int = 0) -> ElboTerms:
    """One input x (...) through the VAE by hand: posterior, `draws` samples of z, each ELBO term (Kingma &
    Welling 2014); the noise comes from its own seeded generator, so before and after a step compare fairly."""
    with inference(model) as dev:
        xt = torch.as_tensor(x[None], device=dev)
        mu, logvar = model.encode(xt)
        eps = torch.randn((draws, mu.shape[1]), generator=torch.Generator().manual_seed(seed)).to(dev)
        sigma = torch.exp(0.5 * logvar)
        z = mu + sigma * eps  # (K, D)
        xs = xt.expand(draws, *xt.shape[1:])
        params = model.decode(z, xs)
        recon = recon_nll(params, xs, model.cfg.loss, model.cfg.huber_delta)
        kl = kl_per_dim(mu, logvar)[0]
        means = reconstruction_mean(params, model.cfg.loss)
        at_mu = reconstruction_mean(model.decode(mu), model.cfg.loss)[0]
    return ElboTerms(mu[0].cpu().numpy(), sigma[0].cpu().numpy(), eps.cpu().numpy(), z.cpu().numpy(),
                     recon.cpu().numpy(), means.cpu().numpy(), at_mu.cpu().numpy(), kl.cpu().numpy(), float(beta))


def iwae_nll(model: VAE, x: np.ndarray, k: int = 64, batch_size: int = 64, seed: int = 0) -> float:
    """Importance-weighted estimate of -log p(x) (Burda et al. 2016), nats per sample, over x (N, ...)."""
    with inference(model) as dev:
        return _iwae_total(model, x, k, batch_size, torch.Generator(device=dev).manual_seed(seed), dev) / len(x)


def _iwae_total(model: VAE, x: np.ndarray, k: int, batch_size: int, gen: torch.Generator, dev: torch.device) -> float:
    total = 0.0
    for _, xb in _batches(x, batch_size):
        xt = torch.as_tensor(xb, device=dev)
        mu, logvar = model.encode(xt)
        eps = torch.randn((k, *mu.shape), generator=gen, device=dev)
        z = (mu + eps * torch.exp(0.5 * logvar)).reshape(-1, mu.shape[1])  # (k*B, D), sample-major
        reps = [k] + [1] * (xt.dim() - 1)
        params = model.decode(z, xt.repeat(*reps))
        log_w = log_importance_weights(params, xt.repeat(*reps), z, mu.repeat(k, 1), logvar.repeat(k, 1),
                                       loss=model.cfg.loss, huber_delta=model.cfg.huber_delta).reshape(k, -1)
        total += -(torch.logsumexp(log_w, 0) - math.log(k)).sum().item()
    return total


def anomaly_threshold(val_scores: np.ndarray, percentile: float = 99.0) -> float:
    """Score above which a window counts as anomalous: a percentile of normal (validation) scores."""
    return float(np.percentile(val_scores, percentile))


def anomaly_metrics(scores: np.ndarray, labels: np.ndarray) -> dict:
    """ROC-AUC and average precision of scores (N,) against 0/1 labels (N,); None when one class only."""
    from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

    labels = np.asarray(labels).astype(int)
    if labels.min() == labels.max():
        return {"auc": None, "ap": None, "fpr": None, "tpr": None}
    fpr, tpr, _ = roc_curve(labels, scores)
    return {"auc": float(roc_auc_score(labels, scores)), "ap": float(average_precision_score(labels, scores)),
            "fpr": fpr, "tpr": tpr}


def evaluate(model: VAE, data: Dataset, part: str = "test", iwae_k: int = 64,
             history: TrainingSoFar | Sequence[float] = ()) -> dict:
    """Held-out figures for a summary: neg. ELBO, recon, KL, diagnostics, IWAE NLL, anomaly AUC/AP.

    Seeded with its own generators, so evaluating the same model on the same data twice gives the same
    numbers, and evaluating never moves the random state of the run being trained.
    """
    x, y = data.part(part)
    if len(x) == 0:
        x, y = data.part("all")
        part = "all"
    diag = diagnose(model, x, history)
    out = {
        "part": part, "n": int(len(x)),
        "test_neg_elbo": diag.recon + diag.kl, "recon": diag.recon, "kl": diag.kl,
        "kl_per_dim": [float(v) for v in diag.kl_per_dim], "active_units": diag.active_units,
        "latent_dim": int(model.cfg.latent_dim), "verdict": diag.verdict,
        "collapsed": diag.collapsed, "collapse_reason": diag.reason,
        "iwae_nll": iwae_nll(model, x, k=iwae_k) if data.kind == "image" and iwae_k else None,
        "anomaly_auc": None, "anomaly_ap": None,
    }
    if data.label_kind == "anomaly" and y is not None:
        metrics = anomaly_metrics(reconstruction_errors(model, x), y)
        out["anomaly_auc"], out["anomaly_ap"] = metrics["auc"], metrics["ap"]
    return out
