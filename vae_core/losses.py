"""The VAE objective as pure functions.

Reduction everywhere: sum over the data (and latent) dimensions of one sample, mean over the batch,
so every figure is in nats per sample.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor


class LossTerms(NamedTuple):
    total: Tensor  # () what the optimiser minimises: recon + weight * penalised KL
    recon: Tensor  # () -log p(x|z), nats per sample
    kl: Tensor  # () KL(q(z|x) || N(0, I)), nats per sample (before free bits)
    kl_per_dim: Tensor  # (D,) KL of each latent dimension, mean over the batch


def kl_per_dim(mu: Tensor, logvar: Tensor, prior_mu: Tensor | None = None,
               prior_logvar: Tensor | None = None) -> Tensor:
    """KL(N(mu, exp(logvar)) || prior) per sample and dimension, closed form: (B, D) -> (B, D).

    Prior N(0, 1) (Kingma & Welling 2014, App. B): -KL = 1/2 * sum(1 + log sigma^2 - mu^2 - sigma^2). A Gaussian
    prior N(m, t^2) (a hierarchical VAE's p(z1|z2)):
    KL = 1/2 (log t^2 - log sigma^2 + (sigma^2 + (mu - m)^2) / t^2 - 1).
    """
    if prior_mu is None:
        return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)
    return 0.5 * (prior_logvar - logvar + (logvar.exp() + (mu - prior_mu).pow(2)) / prior_logvar.exp() - 1.0)


def cb_log_norm(logits: Tensor) -> Tensor:
    """log C(lambda) of the continuous Bernoulli, elementwise, from logits eta = logit(lambda).

    Loaiza-Ganem & Cunningham 2019: C(lambda) = 2 atanh(1 - 2 lambda) / (1 - 2 lambda), which in
    terms of eta is eta / tanh(eta / 2); its limit at eta = 0 (lambda = 1/2) is 2, where a Taylor
    series 2 + eta^2 / 6 avoids 0/0.
    """
    small = logits.abs() < 1e-2
    safe = torch.where(small, torch.ones_like(logits), logits)
    exact = torch.log(safe.abs()) - torch.log(torch.tanh(safe.abs() / 2))
    taylor = math.log(2.0) + torch.log1p(logits.pow(2) / 12)
    return torch.where(small, taylor, exact)


def cb_mean(logits: Tensor) -> Tensor:
    """Mean of the continuous Bernoulli with logits eta: sigmoid(eta) / tanh(eta / 2) - 1 / eta."""
    small = logits.abs() < 1e-2
    safe = torch.where(small, torch.ones_like(logits), logits)
    exact = torch.sigmoid(safe) / torch.tanh(safe / 2) - 1.0 / safe
    return torch.where(small, 0.5 + logits / 12, exact)


def recon_nll(params: Tensor, x: Tensor, loss: str, huber_delta: float = 1.0) -> Tensor:
    """Reconstruction term -log p(x|z) per sample, summed over data dimensions: (B, ...) -> (B,).

    `params` are logits for bce/cbce and means for the others. mse and mae are the Gaussian and
    Laplace negative log-likelihoods with a fixed scale (sigma^2 = 1/2, b = 1) less their constants.
    """
    if loss == "bce":
        per = F.binary_cross_entropy_with_logits(params, x, reduction="none")
    elif loss == "cbce":
        per = F.binary_cross_entropy_with_logits(params, x, reduction="none") - cb_log_norm(params)
    elif loss == "mse":
        per = (params - x).pow(2)
    elif loss == "mae":
        per = (params - x).abs()
    elif loss == "huber":
        per = F.huber_loss(params, x, reduction="none", delta=huber_delta)
    else:
        raise ValueError(f"unknown loss {loss!r}")
    return per.flatten(1).sum(1)


def reconstruction_mean(params: Tensor, loss: str) -> Tensor:
    """The decoder's reconstruction in data space (what to show): (B, ...) -> (B, ...)."""
    if loss == "bce":
        return torch.sigmoid(params)
    if loss == "cbce":
        return cb_mean(params)
    return params


def kl_weight(epoch_progress: float, beta: float, warmup: str = "none", warmup_epochs: float = 0.0) -> float:
    """The KL weight in force after `epoch_progress` epochs (fractional).

    linear: ramps 0 -> beta over warmup_epochs (Bowman et al. 2016).
    cyclical: repeats cycles of warmup_epochs, ramping over the first half of each, then holding
    beta (Fu et al. 2019).
    """
    if warmup == "none" or warmup_epochs <= 0:
        return beta
    if warmup == "linear":
        return beta * min(1.0, epoch_progress / warmup_epochs)
    if warmup == "cyclical":
        phase = (epoch_progress % warmup_epochs) / warmup_epochs
        return beta * min(1.0, 2.0 * phase)
    raise ValueError(f"unknown warmup {warmup!r}")


def vae_loss(params: Tensor, x: Tensor, mu: Tensor, logvar: Tensor, *, loss: str, beta: float = 1.0,
             free_bits: float = 0.0, huber_delta: float = 1.0, prior_mu: Tensor | None = None,
             prior_logvar: Tensor | None = None) -> LossTerms:
    """The (beta-)VAE objective (Higgins et al. 2017) with optional free bits (Kingma et al. 2016).

    total = mean_b recon_b + beta * sum_d max(free_bits, mean_b KL_bd). Free bits stop the optimiser
    from pushing a dimension's KL below `free_bits` nats, which keeps dimensions from collapsing. The prior is
    N(0, I) unless its parameters are given (see kl_per_dim).
    """
    recon = recon_nll(params, x, loss, huber_delta).mean()
    kl_dim = kl_per_dim(mu, logvar, prior_mu, prior_logvar).mean(0)
    kl = kl_dim.sum()
    kl_penalised = kl_dim.clamp(min=free_bits).sum() if free_bits > 0 else kl
    return LossTerms(recon + beta * kl_penalised, recon, kl, kl_dim)


def log_importance_weights(params: Tensor, x: Tensor, z: Tensor, mu: Tensor, logvar: Tensor, *,
                           loss: str, huber_delta: float = 1.0, prior_mu: Tensor | None = None,
                           prior_logvar: Tensor | None = None) -> Tensor:
    """log p(x|z) + log p(z) - log q(z|x) per sample: (B,). Burda et al. 2016, eq. 8's summand."""
    return -recon_nll(params, x, loss, huber_delta) + log_prior_ratio(z, mu, logvar, prior_mu, prior_logvar)


def log_prior_ratio(z: Tensor, mu: Tensor, logvar: Tensor, prior_mu: Tensor | None = None,
                    prior_logvar: Tensor | None = None) -> Tensor:
    """log p(z) - log q(z|x) per sample, summed over the code's dimensions: (B, D) -> (B,).

    The prior is N(0, I) unless its parameters are given (a hierarchical VAE's p(z1|z2) p(z2)).
    """
    if prior_mu is None:
        log_pz = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(1)
    else:
        log_pz = -0.5 * ((z - prior_mu).pow(2) / prior_logvar.exp() + prior_logvar + math.log(2 * math.pi)).sum(1)
    log_qz = -0.5 * ((z - mu).pow(2) / logvar.exp() + logvar + math.log(2 * math.pi)).sum(1)
    return log_pz - log_qz
