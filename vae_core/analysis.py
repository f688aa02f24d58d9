"""What a trained VAE learned, as arrays: latents, maps, reconstructions, diagnostics, anomaly scores.

Nothing here plots or writes files; the dashboard and the CLI decide how to show the numbers. A conditional
model needs each input's label: the functions that run it take `y` (class indices (N,)), None for other models.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from .dataset import Dataset
from .losses import kl_per_dim, recon_nll, reconstruction_mean
from .models import VAE
from .objectives import iwae_bound, log_weights
from .training import TrainingSoFar, evaluate_loss

ACTIVE_VARIANCE = 0.01  # Burda et al. 2016: unit d is active when Var_x(E_q[z_d]) > 0.01
NEAR_ZERO_KL = 0.05  # nats: a dimension whose KL is below this carries (almost) nothing about x
COLLAPSE_KL = 1.0  # nats per sample: less than one nat in all of z cannot even tell ten digits apart


def _device(model: VAE) -> torch.device:
    return next(model.parameters()).device


@contextmanager
def inference(model: VAE) -> Iterator[torch.device]:
    """Context: eval mode without gradients, yielding the model's device; restores its mode after (a job may be
    mid-training)."""
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


def _labels(model: VAE, y: np.ndarray | int | None, n: int) -> np.ndarray | None:
    """The labels to give the model for n inputs: None unless it is conditional; one label for all, or (n,), or
    class weights (n, classes)."""
    if not model.classes:
        return None
    if y is None:
        raise ValueError("this conditional model needs the label of each input (y)")
    y = np.asarray(y)
    if y.ndim == 0:
        y = np.full(n, int(y))
    if not (y.ndim == 2 or (0 <= y.min() and y.max() < model.classes)):
        raise ValueError(f"labels must be class numbers from 0 to {model.classes - 1}")
    return y


def _label_batch(y: np.ndarray | None, i: int, size: int, dev: torch.device) -> torch.Tensor | None:
    return None if y is None else torch.as_tensor(y[i:i + size], device=dev)


def encode(model: VAE, x: np.ndarray, y: np.ndarray | None = None,
           batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Posterior parameters: x (N, ...) -> mu (N, D), logvar (N, D)."""
    y = _labels(model, y, len(x))
    mus, logvars = [], []
    with inference(model) as dev:
        for i, xb in _batches(x, batch_size):
            mu, logvar = model.encode(torch.as_tensor(xb, device=dev), _label_batch(y, i, batch_size, dev))
            mus.append(mu.cpu())
            logvars.append(logvar.cpu())
    return torch.cat(mus).numpy(), torch.cat(logvars).numpy()


def encode_means(model: VAE, x: np.ndarray, y: np.ndarray | None = None, batch_size: int = 1024) -> np.ndarray:
    """Latent means E_q[z|x]: (N, ...) -> (N, D)."""
    return encode(model, x, y, batch_size)[0]


def decode(model: VAE, z: np.ndarray, y: np.ndarray | int | None = None, batch_size: int = 1024) -> np.ndarray:
    """Decoder means in data space: z (N, D) -> (N, ...); y: the class to draw (one, or one per code)."""
    y = _labels(model, y, len(z))
    with inference(model) as dev:
        out = [reconstruction_mean(model.decode(torch.as_tensor(zb, dtype=torch.float32, device=dev),
                                                _label_batch(y, i, batch_size, dev)), model.cfg.loss).cpu()
               for i, zb in _batches(z, batch_size)]
    return torch.cat(out).numpy()


def reconstruct(model: VAE, x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    """Reconstruction of each input through its latent mean: (N, ...) -> (N, ...).

    Decoded from z alone: an autoregressive decoder generates it, feeding back its own steps.
    """
    return decode(model, encode_means(model, x, y), y)


def reconstruction_errors(model: VAE, x: np.ndarray, y: np.ndarray | None = None,
                          batch_size: int = 1024) -> np.ndarray:
    """Per-sample -log p(x|z) at the latent mean, in the model's loss units (nats): (N, ...) -> (N,)."""
    y = _labels(model, y, len(x))
    errs = []
    with inference(model) as dev:
        for i, xb in _batches(x, batch_size):
            xt, yb = torch.as_tensor(xb, device=dev), _label_batch(y, i, batch_size, dev)
            params = model.decode(model.encode(xt, yb)[0], yb, x=xt)  # an autoregressive decoder is teacher-forced
            errs.append(recon_nll(params, xt, model.cfg.loss, model.cfg.huber_delta).cpu())
    return torch.cat(errs).numpy()


def prior_codes(model: VAE, n: int, seed: int = 0) -> np.ndarray:
    """n codes drawn from the model's prior (N(0, I), or z2 then z1 given z2 for a hierarchical VAE): (n, D)."""
    eps = np.random.default_rng(seed).standard_normal((n, model.cfg.code_dim)).astype(np.float32)
    with inference(model) as dev:
        return model.prior_code(torch.as_tensor(eps, device=dev)).cpu().numpy()


def sample_prior(model: VAE, n: int, seed: int = 0, y: np.ndarray | int | None = None) -> np.ndarray:
    """Decode n codes drawn from the prior: -> (n, ...); y: the class to draw (conditional models)."""
    return decode(model, prior_codes(model, n, seed), y)


def traverse(model: VAE, z0: np.ndarray, dims: Sequence[int], values: Sequence[float],
             y: np.ndarray | int | None = None) -> np.ndarray:
    """Sweep each dimension in `dims` over `values`, others fixed at z0 (D,): -> (len(dims), len(values), ...).

    A hierarchical VAE's top-layer dimensions reach x through z1: there z1 follows its prior mean given the new z2.
    """
    z0 = np.asarray(z0, dtype=np.float32)
    grid = np.repeat(z0[None, None, :], len(dims), 0).repeat(len(values), 1)
    for row, d in enumerate(dims):
        grid[row, :, d] = values
    codes = grid.reshape(-1, z0.shape[0])
    top = [row for row, d in enumerate(dims) if d >= model.cfg.latent_dim]  # only a hierarchical VAE's z2
    if top:
        with inference(model) as dev:
            lifted = model.from_top(torch.as_tensor(codes, device=dev)).cpu().numpy().reshape(grid.shape)
        grid[top] = lifted[top]
        codes = grid.reshape(-1, z0.shape[0])
    out = decode(model, codes, y)
    return out.reshape(len(dims), len(values), *out.shape[1:])


def interpolate(model: VAE, x_a: np.ndarray, x_b: np.ndarray, steps: int = 8,
                labels: tuple[int, int] | None = None) -> np.ndarray:
    """Decode evenly spaced points on the line between the latent means of x_a and x_b: -> (steps, ...).

    A conditional model walks between the two labels too (a blend of the two classes halfway).
    """
    y = None if labels is None else np.asarray(labels)
    z = encode_means(model, np.stack([x_a, x_b]), y)
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    mixed = None if y is None or not model.classes else \
        (1 - t) * np.eye(model.classes, dtype=np.float32)[y[0]] + t * np.eye(model.classes, dtype=np.float32)[y[1]]
    return decode(model, (1 - t) * z[0] + t * z[1], mixed)


def class_grid(model: VAE, codes: np.ndarray) -> np.ndarray:
    """Every class decoded from the same codes (n, D): (n, classes, ...), style in rows, class in columns."""
    n, classes = len(codes), model.classes
    out = decode(model, np.repeat(codes, classes, 0), np.tile(np.arange(classes), n))
    return out.reshape(n, classes, *out.shape[1:])


def grid_spread(grid: np.ndarray) -> tuple[float, float]:
    """How much the label and how much the code change a class grid (n codes, classes, ...): (mean absolute difference
    between the classes drawn from one code, between the codes drawn as one class), in the data's units."""
    flat = grid.reshape(grid.shape[0], grid.shape[1], -1)
    by_label = np.abs(flat - flat.mean(1, keepdims=True)).mean()
    by_code = np.abs(flat - flat.mean(0, keepdims=True)).mean()
    return float(by_label), float(by_code)


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


def diagnose(model: VAE, x: np.ndarray, history: TrainingSoFar | Sequence[float] = (), seed: int = 0,
             y: np.ndarray | None = None) -> Diagnostics:
    """KL per dimension, active units and a collapse verdict on x (N, ...), z sampled with its own seeded generator.

    `history` (or just the reconstruction per epoch) lets the verdict say whether reconstruction kept improving
    while KL stayed near zero (the decoder ignores z), or whether training was too short to judge.
    """
    history = history if isinstance(history, TrainingSoFar) else TrainingSoFar(recon=tuple(history))
    y = _labels(model, y, len(x))
    mu, _ = encode(model, x, y)
    dev = _device(model)
    labels = None if y is None else torch.as_tensor(y, device=dev)
    stats = evaluate_loss(model, torch.as_tensor(x, device=dev), y=labels,
                          loss=model.cfg.loss, huber_delta=model.cfg.huber_delta,
                          rng=torch.Generator(device=dev).manual_seed(seed))
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
                           f"That is normal for a large latent size or a high beta; "
                           f"a smaller latent size or lower beta "
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
        params = model.decode(z, x=xs)
        recon = recon_nll(params, xs, model.cfg.loss, model.cfg.huber_delta)
        kl = kl_per_dim(mu, logvar)[0]
        means = reconstruction_mean(params, model.cfg.loss)
        at_mu = reconstruction_mean(model.decode(mu), model.cfg.loss)[0]
    return ElboTerms(mu[0].cpu().numpy(), sigma[0].cpu().numpy(), eps.cpu().numpy(), z.cpu().numpy(),
                     recon.cpu().numpy(), means.cpu().numpy(), at_mu.cpu().numpy(), kl.cpu().numpy(), float(beta))


def iwae_nll(model: VAE, x: np.ndarray, k: int = 64, batch_size: int = 64, seed: int = 0,
             y: np.ndarray | None = None) -> float:
    """Importance-weighted estimate of -log p(x) (Burda et al. 2016), nats per sample, over x (N, ...)."""
    y = _labels(model, y, len(x))
    total = 0.0
    with inference(model) as dev:
        gen = torch.Generator(device=dev).manual_seed(seed)
        for i, xb in _batches(x, batch_size):
            log_w = log_weights(model, torch.as_tensor(xb, device=dev), _label_batch(y, i, batch_size, dev), k,
                                model.cfg.loss, model.cfg.huber_delta, gen)[0]
            total += -iwae_bound(log_w).sum().item()
    return total / len(x)


def mmd_to_prior(codes: np.ndarray, seed: int = 0, n_max: int = 1000, prior: np.ndarray | None = None) -> float:
    """Squared maximum mean discrepancy between codes (N, D) and as many draws of the prior: 0 when they match.

    The prior's draws are `prior` (a model's own, e.g. prior_codes for a hierarchical VAE, whose z1 is not N(0, I)),
    else N(0, I). Gaussian kernel with the median distance of the pooled points as its width (Gretton et al. 2012),
    unbiased estimate; at most n_max codes (a seeded subsample). Useful to compare models: how well the codes as a
    whole fill the prior.
    """
    rng = np.random.default_rng(seed)
    a = np.asarray(codes, np.float64)[subsample(len(codes), n_max, seed)]
    b = rng.standard_normal(a.shape) if prior is None else np.asarray(prior, np.float64)[:len(a)]
    pooled = np.concatenate([a, b])
    sq = (pooled ** 2).sum(1)
    dist = np.maximum(sq[:, None] + sq[None, :] - 2 * pooled @ pooled.T, 0.0)
    width = np.median(dist[np.triu_indices(len(pooled), 1)]) or 1.0
    kernel = np.exp(-dist / width)
    n = len(a)
    kaa, kbb, kab = kernel[:n, :n], kernel[n:, n:], kernel[:n, n:]
    within = (kaa.sum() - np.trace(kaa) + kbb.sum() - np.trace(kbb)) / (n * (n - 1))
    return float(within - 2 * kab.mean())


def likelihood_note(summary: dict) -> str:
    """How an IWAE NLL was measured, for any sentence that compares it: k and whether the pixels were binarised."""
    pixels = "binarised pixels" if summary.get("binarised") else \
        "grey levels in [0, 1], not binarised: not comparable with binarised-MNIST figures"
    return f"k = {summary.get('iwae_k')} importance samples; {pixels}"


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
    labels = y if model.classes else None
    diag = diagnose(model, x, history, y=labels)
    scored = data.kind == "image" and iwae_k
    out = {
        "part": part, "n": int(len(x)),
        "test_neg_elbo": diag.recon + diag.kl, "recon": diag.recon, "kl": diag.kl,
        "kl_per_dim": [float(v) for v in diag.kl_per_dim], "active_units": diag.active_units,
        "latent_dim": int(model.cfg.code_dim), "verdict": diag.verdict,
        "collapsed": diag.collapsed, "collapse_reason": diag.reason,
        "iwae_nll": iwae_nll(model, x, k=iwae_k, y=labels) if scored else None, "iwae_k": iwae_k if scored else None,
        "binarised": bool(np.isin(x, (0.0, 1.0)).all()),  # whether a likelihood on x compares with binarised data's
        "prior_mmd": mmd_to_prior(encode_means(model, x, labels), prior=prior_codes(model, min(len(x), 1000), seed=1)),
        "anomaly_auc": None, "anomaly_ap": None,
    }
    if len(model.latent_layers) > 1:  # the KL of each stochastic layer
        out["kl_layers"] = {name: float(diag.kl_per_dim[a:b].sum()) for name, a, b in model.latent_layers}
    if data.label_kind == "anomaly" and y is not None:
        metrics = anomaly_metrics(reconstruction_errors(model, x), y)
        out["anomaly_auc"], out["anomaly_ap"] = metrics["auc"], metrics["ap"]
    return out
