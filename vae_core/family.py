"""The VAE family: which class each variant is, and the one way to build any of them from a ModelConfig.

    vae           models.VAE (conditional when cfg.conditional: Sohn et al. 2015)
    hierarchical  models_hierarchical.HierarchicalVAE (two stochastic layers)
    adversarial   models_adversarial.AdversarialAE (a discriminator on z instead of the KL)

Every one speaks the same vocabulary (encode, reparameterize, decode, forward -> VAEOutput) and is built by the
architecture's builder (models.BUILDERS), so any variant works with any architecture.
"""
from __future__ import annotations

import torch

from .config import ModelConfig
from .models import BUILDERS, VAE, check_size, init_weights
from .models_adversarial import AdversarialAE
from .models_hierarchical import HierarchicalVAE

VARIANTS: dict[str, type[VAE]] = {"vae": VAE, "hierarchical": HierarchicalVAE, "adversarial": AdversarialAE}


def skeleton(cfg: ModelConfig) -> VAE:
    """The model's layers on the meta device: shapes and parameter counts, no memory, no weights.

    A model over models.MAX_PARAMETERS weights is refused here, before anything trains: its run could not be loaded.
    """
    with torch.device("meta"):
        model = BUILDERS[cfg.arch](cfg, VARIANTS[cfg.variant])
    check_size(model)
    return model


def build_model(cfg: ModelConfig, generator: torch.Generator | None = None) -> VAE:
    """The model `cfg` describes (architecture and variant), its initial weights drawn from `generator`.

    Built on the meta device first, so nothing is drawn from torch's global generator; without a
    generator the weights are those of seed 0.
    """
    model = skeleton(cfg).to_empty(device="cpu")
    init_weights(model, generator or torch.Generator().manual_seed(0))
    return model


def dim_names(model: VAE) -> list[str]:
    """A name for each dimension of the code: z0, z1, ... (a hierarchical VAE's: z1[0], ..., z2[0], ...)."""
    layers = model.latent_layers
    if len(layers) == 1:
        return [f"z{d}" for d in range(model.cfg.code_dim)]
    return [f"{name}[{d}]" for name, first, stop in layers for d in range(stop - first)]
