"""What each member of the VAE family minimises on a batch: one function for training, validation and analysis.

    ELBO (Kingma & Welling 2014)   recon + β·KL: the VAE, the conditional VAE (Sohn et al. 2015) and the
                                   hierarchical VAE, whose KL is the sum of its two layers' (kl_z1, kl_z2)
    IWAE (Burda et al. 2016)       -log (1/k) Σ_i w_i, w_i = p(x, z_i) / q(z_i|x): a bound on -log p(x) no looser
                                   than the ELBO (equal at k = 1); its neg. ELBO is reported beside it
    adversarial (Makhzani et al.)  recon (the reconstruction phase) and, stepped by an optimiser of its own,
                                   discriminator loss + β·(encoder's adversarial loss) (the regularisation phase);
                                   reported as recon + β·adv_g, with adv_d beside it; the KL is measured, not trained

Reduction as in losses.py: sum over data and latent dimensions, mean over the batch, nats per sample.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

from .config import ConfigError, ModelConfig, TrainConfig
from .losses import kl_per_dim, log_prior_ratio, recon_nll, vae_loss
from .models import VAE
from .models_adversarial import adversarial_losses

# Extra terms a variant reports beside total, recon and KL, in words (curves, tables, metrics.csv's `terms`).
TERM_WORDS = {"kl_z1": "KL of z1 (bottom layer)", "kl_z2": "KL of z2 (top layer)", "adv_d": "discriminator loss",
              "adv_g": "adversarial loss (encoder)", "neg_elbo": "neg. ELBO"}


class StepTerms(NamedTuple):
    backprop: Tensor  # () what the optimiser minimises
    total: Tensor  # () the objective, nats per sample: the ELBO's recon + β·KL, the neg. IWAE bound, ...
    recon: Tensor  # () -log p(x|z), nats per sample
    kl: Tensor  # () KL(q(z|x) || p(z)), nats per sample (the AAE: measured, not trained)
    kl_per_dim: Tensor  # (D,) over the whole code (z1 then z2 for the hierarchical VAE)
    extra: dict[str, Tensor]  # () each, named as term_names says, in its order
    adversarial: Tensor | None = None  # () the AAE's regularisation phase: what its second optimiser minimises


def term_names(model: ModelConfig, objective: str) -> tuple[str, ...]:
    """The extra terms a run of this model and objective reports, in order."""
    names = ("kl_z1", "kl_z2") if model.variant == "hierarchical" else ()
    if model.variant == "adversarial":
        names += ("adv_d", "adv_g")
    if objective == "iwae":
        names += ("neg_elbo",)
    return names


def step_terms(model: VAE, x: Tensor, y: Tensor | None = None, *, loss: str, objective: str = "elbo", k: int = 1,
               beta: float = 1.0, free_bits: float = 0.0, huber_delta: float = 1.0,
               rng: torch.Generator | None = None) -> StepTerms:
    """The objective's terms on a batch x (B, ...) with labels y (conditional models); noise from `rng` (an
    analysis's own) or the run's generator."""
    if objective == "iwae":
        return _iwae_terms(model, x, y, k, loss, huber_delta, rng)
    out = model(x, rng, y=y)
    terms = vae_loss(out.recon, x, out.mu, out.logvar, loss=loss, beta=beta, free_bits=free_bits,
                     huber_delta=huber_delta, prior_mu=out.prior_mu, prior_logvar=out.prior_logvar)
    extra = layer_kls(model, terms.kl_per_dim)
    if model.cfg.variant == "adversarial":
        d_loss, g_loss = adversarial_losses(model, out.z, rng)
        return StepTerms(terms.recon, terms.recon + beta * g_loss, terms.recon, terms.kl, terms.kl_per_dim,
                         {"adv_d": d_loss, "adv_g": g_loss}, d_loss + beta * g_loss)
    return StepTerms(terms.total, terms.total, terms.recon, terms.kl, terms.kl_per_dim, extra)


def layer_kls(model: VAE, kl_dim: Tensor) -> dict[str, Tensor]:
    """A hierarchical VAE's KL split by layer, {kl_z1, kl_z2} (each a sum of non-negative dimensions); {} otherwise."""
    if model.cfg.variant != "hierarchical":
        return {}
    return {f"kl_{name}": kl_dim[first:stop].sum() for name, first, stop in model.latent_layers}


def log_weights(model: VAE, x: Tensor, y: Tensor | None, k: int, loss: str, huber_delta: float,
                rng: torch.Generator | None = None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """k importance samples per input: log w (k, B), recon -log p(x|z) (k, B), KL per dimension (k*B, D), z."""
    xk = x.repeat(k, *([1] * (x.dim() - 1)))  # sample-major: k copies of the batch
    yk = None if y is None else y.repeat(k, *([1] * (y.dim() - 1)))
    out = model(xk, rng, y=yk)
    recon = recon_nll(out.recon, xk, loss, huber_delta)
    log_w = -recon + log_prior_ratio(out.z, out.mu, out.logvar, out.prior_mu, out.prior_logvar)
    kl_dim = kl_per_dim(out.mu, out.logvar, out.prior_mu, out.prior_logvar)
    return log_w.reshape(k, -1), recon.reshape(k, -1), kl_dim, out.z


def iwae_bound(log_w: Tensor) -> Tensor:
    """log (1/k) Σ_i w_i from log w (k, B): (B,), Burda et al. 2016, eq. 8 (logsumexp for stability)."""
    return torch.logsumexp(log_w, 0) - math.log(log_w.shape[0])


def _iwae_terms(model: VAE, x: Tensor, y: Tensor | None, k: int, loss: str, huber_delta: float,
                rng: torch.Generator | None) -> StepTerms:
    log_w, recon, kl_dim_all, _ = log_weights(model, x, y, k, loss, huber_delta, rng)
    total = -iwae_bound(log_w).mean()
    recon_mean = recon.mean()
    kl_dim = kl_dim_all.mean(0)
    kl = kl_dim.sum()
    extra = {**layer_kls(model, kl_dim), "neg_elbo": recon_mean + kl}
    return StepTerms(total, total, recon_mean, kl, kl_dim, extra)


def full_objective(val: dict, beta: float, model: ModelConfig, objective: str) -> float:
    """The objective at full β (no warm-up, no free bits) from evaluate_loss's figures: what early stopping watches."""
    if objective == "iwae":
        return val["loss"]
    if model.variant == "adversarial":
        return val["recon"] + beta * val["terms"]["adv_g"]
    return val["recon"] + beta * val["kl"]


def check_live(name: str, model: ModelConfig, train: TrainConfig) -> None:
    """Refuse a live change that has nothing to act on: β or free bits of the IWAE bound, free bits of an AAE."""
    if train.objective == "iwae" and name in ("beta", "free_bits"):
        raise ConfigError(f"{name} cannot change in this run: the IWAE objective is the bound on log p(x) itself, "
                          "with no β and no free bits")
    if model.variant == "adversarial" and name == "free_bits":
        raise ConfigError("free bits cannot change in this run: the adversarial autoencoder has no KL term to free")
