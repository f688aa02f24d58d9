"""A hierarchical VAE with two stochastic layers, in the VAE vocabulary.

Generative model as in Burda et al. 2016's two-layer models: p(z2) = N(0, I), p(z1|z2) a diagonal Gaussian,
p(x|z1) the usual decoder. Inference runs top-down (Sønderby et al. 2016): q(z2|x), then q(z1|x, z2), so the KL
splits exactly into two non-negative parts, KL(q(z2|x) || p(z2)) and E_z2 KL(q(z1|x,z2) || p(z1|z2)), each in
closed form per dimension (losses.kl_per_dim with the prior's parameters).

The code is z1 and z2 side by side, (B, latent_dim + top_latent_dim): `encode` gives their means and
log-variances (z1's at z2's mean), `decode` reads z1, `prior_code` draws z2 and then z1 given it.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from .config import ModelConfig
from .layers import activation
from .models import VAE, VAEOutput


def top_width(cfg: ModelConfig) -> int:
    """Width of the deterministic layers between the encoder's features and z2, and between z2 and z1's prior."""
    return max(cfg.hidden)


class HierarchicalVAE(VAE):
    """Two stochastic layers: to_mu/to_logvar give q(z1|x, z2), the *_top layers q(z2|x), prior_* p(z1|z2)."""

    def __init__(self, cfg: ModelConfig, encoder: nn.Module, features: int, decoder: nn.Module) -> None:
        super().__init__(cfg, encoder, features, decoder)
        width, top = top_width(cfg), cfg.top_latent_dim
        self.to_top = nn.Sequential(nn.Linear(features + self.classes, width), activation(cfg))
        self.to_mu_top = nn.Linear(width, top)
        self.to_logvar_top = nn.Linear(width, top)
        self.prior_hidden = nn.Sequential(nn.Linear(top, width), activation(cfg))
        self.prior_mu = nn.Linear(width, cfg.latent_dim)
        self.prior_logvar = nn.Linear(width, cfg.latent_dim)

    def head_inputs(self, features: int) -> int:
        return features + self.classes + self.cfg.top_latent_dim  # q(z1|x, z2) sees z2 too

    @property
    def latent_layers(self) -> tuple[tuple[str, int, int], ...]:
        d1 = self.cfg.latent_dim
        return (("z1", 0, d1), ("z2", d1, d1 + self.cfg.top_latent_dim))

    def _top(self, h: Tensor) -> tuple[Tensor, Tensor]:
        g = self.to_top(h)
        return self.to_mu_top(g), self.to_logvar_top(g)

    def _bottom(self, h: Tensor, z2: Tensor) -> tuple[Tensor, Tensor]:
        hz = torch.cat([h, z2], 1)
        return self.to_mu(hz), self.to_logvar(hz)

    def prior_z1(self, z2: Tensor) -> tuple[Tensor, Tensor]:
        """p(z1|z2): means and log-variances (B, latent_dim)."""
        g = self.prior_hidden(z2)
        return self.prior_mu(g), self.prior_logvar(g)

    def encode(self, x: Tensor, y: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(B, ...) -> mu, logvar of [z1, z2] (B, D1 + D2), z1's taken at z2's mean."""
        h = self.features(x, y)
        mu2, logvar2 = self._top(h)
        mu1, logvar1 = self._bottom(h, mu2)
        return torch.cat([mu1, mu2], 1), torch.cat([logvar1, logvar2], 1)

    def decode(self, z: Tensor, y: Tensor | None = None, x: Tensor | None = None) -> Tensor:
        """[z1, z2] (B, D1 + D2) -> likelihood parameters; x depends on z1 only."""
        return super().decode(z[:, :self.cfg.latent_dim], y, x)

    def forward(self, x: Tensor, rng: torch.Generator | None = None, y: Tensor | None = None) -> VAEOutput:
        h = self.features(x, y)
        mu2, logvar2 = self._top(h)
        z2 = self.reparameterize(mu2, logvar2, rng)  # z2 first: z1's posterior and prior depend on it
        mu1, logvar1 = self._bottom(h, z2)
        z1 = self.reparameterize(mu1, logvar1, rng)
        prior_mu1, prior_logvar1 = self.prior_z1(z2)
        z = torch.cat([z1, z2], 1)
        zeros = torch.zeros_like(mu2)  # p(z2) = N(0, I)
        return VAEOutput(self.decode(z, y, x), torch.cat([mu1, mu2], 1), torch.cat([logvar1, logvar2], 1), z,
                         torch.cat([prior_mu1, zeros], 1), torch.cat([prior_logvar1, zeros], 1))

    def prior_code(self, eps: Tensor) -> Tensor:
        """Ancestral sampling from standard normal noise eps (B, D1 + D2): z2 = eps's top part, then z1 ~ p(z1|z2)."""
        d1 = self.cfg.latent_dim
        z2 = eps[:, d1:]
        mu1, logvar1 = self.prior_z1(z2)
        return torch.cat([mu1 + eps[:, :d1] * torch.exp(0.5 * logvar1), z2], 1)

    def from_top(self, z: Tensor) -> Tensor:
        """[z1, z2] with z1 set to the prior's mean given z2: what the top layer alone says."""
        z2 = z[:, self.cfg.latent_dim:]
        return torch.cat([self.prior_z1(z2)[0], z2], 1)
