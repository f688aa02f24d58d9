"""An autoregressive decoder for sensor windows: a GRU that reads the previous step, the classic place where a VAE's
posterior collapses (Bowman et al. 2016).

p(x|z) = prod_t N(x_t; mean_t(x_<t, z), .): the decoder's GRU reads z and the previous step x_{t-1} at every
step. In training (and whenever the likelihood of a known x is scored) it is teacher-forced: it reads the true
previous steps. To generate (`decode(z)` with no x), it feeds back its own means, one step at a time.

A decoder this strong can model a smooth signal from its own past alone, so at beta = 1 the cheapest ELBO is
to leave z unused: the KL goes to zero and the code carries nothing. The cures compared in lesson 11:
KL warm-up and free bits (training settings), dropping the previous step from the decoder's input at random
(`decoder_input_dropout`, Bowman et al. 2016's word dropout), and a weaker decoder (a small GRU state, the last
of the layer sizes).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn


class StepDropout(nn.Module):
    """Hides the previous step from the decoder at random time steps (word dropout for signals).

    A hidden step reads as zeros with its 'seen' flag at 0 (a real value of 0 has the flag at 1), the way word
    dropout puts an unknown-word token in place of a word; nothing is rescaled. Masks come from the run's
    generator (`rng`, set by VAE.use_rng), never from torch's global one.
    """

    uses_run_rng = True

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p
        self.rng = torch.Generator().manual_seed(0)

    def forward(self, prev: Tensor, seen: Tensor) -> tuple[Tensor, Tensor]:
        """prev (B, T, C), seen (B, T, 1) -> both with a share p of the steps hidden (training only)."""
        if not self.training or self.p == 0:
            return prev, seen
        keep = torch.rand(prev.shape[:2], generator=self.rng, device=self.rng.device).to(prev.device) >= self.p
        keep = keep.unsqueeze(-1).to(prev.dtype)
        return prev * keep, seen * keep


class AutoregressiveGRUDecoder(nn.Module):
    """z (B, D) [and the window x (B, T, C) to teacher-force] -> means (B, T, C)."""

    autoregressive = True

    def __init__(self, latent_dim: int, hidden: int, length: int, channels: int, input_dropout: float) -> None:
        super().__init__()
        self.length, self.channels = length, channels
        self.to_state = nn.Linear(latent_dim, hidden)
        self.gru = nn.GRU(latent_dim + channels + 1, hidden, batch_first=True)  # z, the previous step, its flag
        self.to_output = nn.Linear(hidden, channels)
        self.input_dropout = StepDropout(input_dropout)

    def forward(self, z: Tensor, x: Tensor | None = None) -> Tensor:
        h0 = torch.tanh(self.to_state(z)).unsqueeze(0)  # (1, B, H)
        if x is None:
            return self._generate(z, h0)
        prev = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)  # step t reads x_{t-1}; step 0 nothing
        seen = torch.ones_like(x[:, :, :1])
        seen[:, 0] = 0
        prev, seen = self.input_dropout(prev, seen)
        steps = torch.cat([z.unsqueeze(1).expand(-1, x.shape[1], -1), prev, seen], dim=-1)
        return self.to_output(self.gru(steps, h0)[0])

    def _generate(self, z: Tensor, h: Tensor) -> Tensor:
        """Free-running: each step reads the mean the decoder gave for the step before."""
        prev = torch.zeros(len(z), 1, self.channels, dtype=z.dtype, device=z.device)
        seen = torch.zeros(len(z), 1, 1, dtype=z.dtype, device=z.device)
        outs = []
        for _ in range(self.length):
            out, h = self.gru(torch.cat([z.unsqueeze(1), prev, seen], dim=-1), h)
            prev, seen = self.to_output(out), torch.ones_like(seen)  # (B, 1, C): its own mean, read as seen
            outs.append(prev)
        return torch.cat(outs, dim=1)
