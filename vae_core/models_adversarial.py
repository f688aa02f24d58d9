"""The adversarial autoencoder (Makhzani et al. 2016), in the VAE vocabulary.

The encoder is the VAE's (a Gaussian posterior, reparameterised), but no KL term pulls each input's q(z|x)
towards the prior. Instead a discriminator learns to tell codes z of real inputs from draws of the prior
N(0, I), and the encoder learns to fool it: the codes as a whole (the aggregate posterior) come to match the
prior in distribution, while each input's own posterior is free to be narrow. Both are trained in the same
loop, in one optimiser step (see `adversarial_losses`).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from .config import ModelConfig
from .layers import activation
from .models import VAE, noise


def critic_width(cfg: ModelConfig) -> int:
    """Width of the discriminator's two hidden layers."""
    return max(cfg.hidden)


class Discriminator(nn.Module):
    """z (B, D) -> logit (B,) that z was drawn from the prior rather than encoded from an input."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        width = critic_width(cfg)
        self.layers = nn.Sequential(nn.Linear(cfg.latent_dim, width), activation(cfg), nn.Linear(width, width),
                                    activation(cfg), nn.Linear(width, 1))

    def forward(self, z: Tensor) -> Tensor:
        return self.layers(z).squeeze(1)


class AdversarialAE(VAE):
    """A VAE's encoder and decoder with a discriminator on z; its weights are drawn with the model's."""

    def __init__(self, cfg: ModelConfig, encoder: nn.Module, features: int, decoder: nn.Module) -> None:
        super().__init__(cfg, encoder, features, decoder)
        self.discriminator = Discriminator(cfg)


def adversarial_losses(model: AdversarialAE, z: Tensor, rng: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """(discriminator loss, encoder's adversarial loss), nats per sample, for codes z (B, D) of a batch.

    discriminator: -log D(z_prior) - log(1 - D(z)), with z detached, so it trains the discriminator only;
    encoder: -log D(z), through a copy of the discriminator's weights that passes no gradient to them, so it
    trains the encoder only. Adding both to the loss updates the two players in one step (Makhzani et al. 2016,
    section 2, with the non-saturating generator loss of Goodfellow et al. 2014). The prior draws come from
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
