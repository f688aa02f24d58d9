"""The adversarial autoencoder (Makhzani et al. 2016), in the VAE vocabulary.

The encoder is the VAE's (a Gaussian posterior, reparameterised), but no KL term pulls each input's q(z|x)
towards the prior. Instead a discriminator learns to tell codes z of real inputs from draws of the prior
N(0, I), and the encoder learns to fool it: the codes as a whole (the aggregate posterior) come to match the
prior in distribution, while each input's own posterior is free to be narrow. All three are trained in the same
loop, from the same batch (Makhzani et al. 2016, section 2): the reconstruction phase steps the encoder and the
decoder, the regularisation phase steps the discriminator and the encoder with an optimiser of its own
(`parameter_sets`), so neither phase's gradients swamp the other's step sizes.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from .config import ModelConfig
from .layers import activation
from .models import VAE, noise


def critic_width(cfg: ModelConfig) -> int:
    """Width of the discriminator's two hidden layers: small, four times the code's size. A wide discriminator (400
    units on MNIST's 16-D codes) won the game within a few hundred steps, and its gradient stopped guiding the
    encoder: the codes drifted away from the prior instead of towards it."""
    return 4 * cfg.latent_dim


class Discriminator(nn.Module):
    """z (B, D) -> logit (B,) that z was drawn from the prior rather than encoded from an input."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        width = critic_width(cfg)
        self.layers = nn.Sequential(nn.Linear(cfg.latent_dim, width), activation(cfg), nn.Linear(width, width),
                                    activation(cfg), nn.Linear(width, 1))

    def forward(self, z: Tensor) -> Tensor:
        return self.layers(z).squeeze(1)


MAX_LOGVAR = 2 * math.log(0.1)  # the posterior's spread is at most sigma = 0.1 in each dimension


class AdversarialAE(VAE):
    """A VAE's encoder and decoder with a discriminator on z; its weights are drawn with the model's.

    The posterior is Gaussian (Makhzani et al. 2016's second choice) with its spread capped at sigma = 0.1: with no
    KL term an uncapped encoder fooled the discriminator with noise, sigma near 1 and means near 0 (posterior
    collapse by another road); capped, it can only match the prior with codes that still tell inputs apart.
    """

    def __init__(self, cfg: ModelConfig, encoder: nn.Module, features: int, decoder: nn.Module) -> None:
        super().__init__(cfg, encoder, features, decoder)
        self.discriminator = Discriminator(cfg)

    def encode(self, x: Tensor, y: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(B, ...) -> mu (B, D), logvar (B, D) at most MAX_LOGVAR (a smooth cap, so it still learns below it)."""
        mu, raw = super().encode(x, y)
        return mu, MAX_LOGVAR - F.softplus(MAX_LOGVAR - raw)


def parameter_sets(model: VAE) -> tuple[list[nn.Parameter], list[nn.Parameter] | None]:
    """(weights the reconstruction trains, weights the adversarial phase trains): for an adversarial autoencoder all
    but the discriminator, and the discriminator with the encoder; for every other model all of them, and None."""
    if not isinstance(model, AdversarialAE):
        return list(model.parameters()), None
    critic = list(model.discriminator.parameters())
    encoder = [*model.encoder.parameters(), *model.to_mu.parameters(), *model.to_logvar.parameters()]
    return [p for p in model.parameters() if all(p is not c for c in critic)], critic + encoder


def adversarial_losses(model: AdversarialAE, z: Tensor, rng: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """(discriminator loss, encoder's adversarial loss), nats per sample, for codes z (B, D) of a batch.

    discriminator: -log D(z_prior) - log(1 - D(z)), with z detached, so it trains the discriminator only;
    encoder: -log D(z), through a copy of the discriminator's weights that passes no gradient to them, so it
    trains the encoder only (the non-saturating generator loss of Goodfellow et al. 2014). Their sum is the
    regularisation phase's loss: one backward pass gives each player its own gradient. The prior draws come from
    `rng` (an analysis's own) or the run's generator.
    """
    critic = model.discriminator
    prior = noise(z.shape, rng or model.rng, z)
    real, fake = critic(prior), critic(z.detach())
    d_loss = F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) + \
        F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
    frozen = {name: weight.detach() for name, weight in critic.named_parameters()}
    fooled = functional_call(critic, frozen, (z,))
    g_loss = F.binary_cross_entropy_with_logits(fooled, torch.ones_like(fooled))
    return d_loss, g_loss

