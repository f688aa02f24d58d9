"""VAEs for images (MLP, conv) and sensor windows (1-D conv, GRU, MLP), one vocabulary for all.

Every model: `encode(x) -> (mu, logvar)`, `reparameterize(mu, logvar) -> z`, `decode(z) -> params`,
`forward(x) -> VAEOutput`. `params` are the likelihood's parameters in the shape of x: logits for
bce/cbce, means otherwise (see losses.reconstruction_mean for the picture to show). A conditional model
(cfg.conditional) takes each input's label as `y` in encode, decode and forward. The other members of the
family (hierarchical, adversarial) subclass VAE in their own modules; vae_core.family builds any of them.

Randomness belongs to the run, never to torch's global generator: `build_model(cfg, generator)` draws the
initial weights from the generator it is given, and the reparameterisation noise and dropout masks come
from `model.rng` (a run sets its own with `use_rng`), so two runs in one process never disturb each other.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn

from .config import UNIT_INTERVAL_LOSSES, ConfigError, ModelConfig
from .layers import Conv1d, Conv2dChannelsLast, ConvTranspose1d, ConvTranspose2dToFew, activation, norm, with_label
from .models_autoregressive import AutoregressiveGRUDecoder


class VAEOutput(NamedTuple):
    recon: Tensor  # (B, ...) likelihood parameters, same shape as x
    mu: Tensor  # (B, D) posterior means
    logvar: Tensor  # (B, D) posterior log-variances
    z: Tensor  # (B, D) the reparameterised sample fed to the decoder
    prior_mu: Tensor | None = None  # (B, D) the prior's means where it is not N(0, I) (hierarchical: p(z1|z2))
    prior_logvar: Tensor | None = None  # (B, D) its log-variances; None: the prior is N(0, I)


class VAE(nn.Module):
    """Shared skeleton: subclasses build `encoder` (x -> features) and `decoder` (z -> params)."""

    def __init__(self, cfg: ModelConfig, encoder: nn.Module, features: int, decoder: nn.Module) -> None:
        super().__init__()
        self.cfg = cfg
        self.classes = cfg.classes  # label inputs of a conditional model (0: not conditional)
        self.encoder = encoder
        self.to_mu = nn.Linear(self.head_inputs(features), cfg.latent_dim)
        self.to_logvar = nn.Linear(self.head_inputs(features), cfg.latent_dim)
        self.decoder = decoder
        # Images scored by mse/mae/huber live in [0, 1]: squash the decoder's mean into that range.
        self.squash_output = cfg.kind == "image" and cfg.loss not in UNIT_INTERVAL_LOSSES
        self.rng = torch.Generator().manual_seed(0)  # noise and dropout; a run sets its own (use_rng)

    def use_rng(self, generator: torch.Generator) -> None:
        """Draw the reparameterisation noise and the dropout masks from `generator` from now on."""
        self.rng = generator
        for module in self.modules():
            if getattr(module, "uses_run_rng", False):  # dropout masks (models_autoregressive.StepDropout too)
                module.rng = generator

    def head_inputs(self, features: int) -> int:
        """Inputs of to_mu and to_logvar: the encoder's features and the label."""
        return features + self.classes

    @property
    def latent_layers(self) -> tuple[tuple[str, int, int], ...]:
        """(name, first, stop) of each stochastic layer in the code: one layer z here."""
        return (("z", 0, self.cfg.latent_dim),)

    def features(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """The encoder's features of x with the label appended (conditional models): (B, F [+ classes])."""
        return with_label(self.encoder(x), y, self.classes)

    def encode(self, x: Tensor, y: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(B, ...) -> mu (B, D), logvar (B, D)."""
        h = self.features(x, y)
        return self.to_mu(h), self.to_logvar(h)

    def reparameterize(self, mu: Tensor, logvar: Tensor, rng: torch.Generator | None = None) -> Tensor:
        """z = mu + sigma * eps with eps ~ N(0, I), so gradients flow through mu and sigma: (B, D).

        eps comes from `rng` when given (an analysis's own), else from the run's `model.rng`.
        """
        return mu + noise(mu.shape, rng or self.rng, mu) * torch.exp(0.5 * logvar)

    def decode(self, z: Tensor, y: Tensor | None = None, x: Tensor | None = None) -> Tensor:
        """(B, D) [and a conditional model's labels y] -> likelihood parameters (B, ...) in the input's shape.

        `x` (B, ...) is the input whose likelihood p(x|z) is scored: an autoregressive decoder reads its previous
        steps (teacher forcing); without it, it generates. Every other decoder ignores it.
        """
        if y is not None and not self.classes and y.dim() > 1:  # decode(z, x) by mistake: x would be ignored
            raise TypeError("decode(z, y, x=...): y is a conditional model's labels; pass the input as x=")
        zy = with_label(z, y, self.classes)
        reads_x = x is not None and getattr(self.decoder, "autoregressive", False)
        out = self.decoder(zy, x) if reads_x else self.decoder(zy)
        return torch.sigmoid(out) if self.squash_output else out

    def forward(self, x: Tensor, rng: torch.Generator | None = None, y: Tensor | None = None) -> VAEOutput:
        mu, logvar = self.encode(x, y)
        z = self.reparameterize(mu, logvar, rng)
        return VAEOutput(self.decode(z, y, x), mu, logvar, z)

    def prior_code(self, eps: Tensor) -> Tensor:
        """A code drawn from the prior, from standard normal noise eps (B, D): here z = eps."""
        return eps

    def from_top(self, z: Tensor) -> Tensor:
        """The code with each lower layer set to its prior mean given the layer above (one layer: z itself)."""
        return z


def noise(shape: torch.Size | tuple[int, ...], rng: torch.Generator, like: Tensor) -> Tensor:
    """Standard normal draws from `rng`, in `like`'s dtype and on its device."""
    return torch.randn(shape, generator=rng, device=rng.device, dtype=like.dtype).to(like.device)


class Dropout(nn.Module):
    """Dropout whose masks come from the run's generator (nn.Dropout draws from torch's global one)."""

    uses_run_rng = True

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p
        self.rng = torch.Generator().manual_seed(0)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.rand(x.shape, generator=self.rng, device=self.rng.device).to(x.device) >= self.p
        return x * keep / (1.0 - self.p)


def _mlp(sizes: list[int], cfg: ModelConfig) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(n_in, n_out), *norm(cfg, n_out), activation(cfg)]
        if cfg.dropout > 0:
            layers.append(Dropout(cfg.dropout))
    return layers


def _halvings(size: int, n: int, what: str) -> list[int]:
    """Lengths after each stride-2 conv (kernel 4, padding 1): s -> s // 2."""
    sizes = [size]
    for _ in range(n):
        sizes.append(sizes[-1] // 2)
    if sizes[-1] < 1:
        raise ConfigError(f"{what} of {size} is too small for {n} conv layers; "
                          "use fewer layers or the mlp architecture")
    return sizes


def decoder_inputs(cfg: ModelConfig) -> int:
    """What the decoder's first layer takes: z (z1 of a hierarchical VAE) and a conditional model's label."""
    return cfg.latent_dim + cfg.classes


def mlp_vae(cfg: ModelConfig, cls: type[VAE] = VAE) -> VAE:
    """Fully connected VAE on the flattened input (Kingma & Welling 2014's model: 784-400-20)."""
    d_in = math.prod(cfg.input_shape)
    widths = list(cfg.hidden)
    encoder = nn.Sequential(nn.Flatten(), *_mlp([d_in, *widths], cfg))
    decoder = nn.Sequential(*_mlp([decoder_inputs(cfg), *widths[::-1]], cfg),
                            nn.Linear(widths[0], d_in), nn.Unflatten(1, cfg.input_shape))
    return cls(cfg, encoder, widths[-1], decoder)


def conv_vae(cfg: ModelConfig, cls: type[VAE] = VAE) -> VAE:
    """Convolutional VAE for (C, H, W) images: stride-2 convs down, transposed convs back up."""
    c_in, height, width = cfg.input_shape
    chans = [c_in, *cfg.hidden]
    hs = _halvings(height, len(cfg.hidden), "image height")
    ws = _halvings(width, len(cfg.hidden), "image width")
    down: list[nn.Module] = []
    for a, b in zip(chans[:-1], chans[1:], strict=True):
        layer = nn.Conv2d if down else Conv2dChannelsLast  # the same weights and keys; see layers
        down += [layer(a, b, 4, stride=2, padding=1), *norm(cfg, b, 2), activation(cfg)]
    features = chans[-1] * hs[-1] * ws[-1]
    up: list[nn.Module] = [nn.Linear(decoder_inputs(cfg), features), *norm(cfg, features), activation(cfg),
                           nn.Unflatten(1, (chans[-1], hs[-1], ws[-1]))]
    for i in range(len(cfg.hidden), 0, -1):
        # output_padding restores odd sizes lost by s // 2 (e.g. 7 -> 3 -> 7)
        pad = (hs[i - 1] - 2 * hs[i], ws[i - 1] - 2 * ws[i])
        layer = nn.ConvTranspose2d if i > 1 else ConvTranspose2dToFew
        up.append(layer(chans[i], chans[i - 1], 4, stride=2, padding=1, output_padding=pad))
        if i > 1:
            up += [*norm(cfg, chans[i - 1], 2), activation(cfg)]
    return cls(cfg, nn.Sequential(*down, nn.Flatten()), features, nn.Sequential(*up))


class _TimeMajorToChannels(nn.Module):
    """(B, T, C) <-> (B, C, T): sensor windows are stored time-major, Conv1d wants channels first."""

    def forward(self, x: Tensor) -> Tensor:
        return x.transpose(1, 2)


def conv1d_vae(cfg: ModelConfig, cls: type[VAE] = VAE) -> VAE:
    """1-D convolutional VAE over time for (T, C) sensor windows."""
    length, c_in = cfg.input_shape
    chans = [c_in, *cfg.hidden]
    ts = _halvings(length, len(cfg.hidden), "window length")
    down: list[nn.Module] = [_TimeMajorToChannels()]
    for a, b in zip(chans[:-1], chans[1:], strict=True):
        down += [Conv1d(a, b, 4, stride=2, padding=1), *norm(cfg, b, 1), activation(cfg)]
    features = chans[-1] * ts[-1]
    up: list[nn.Module] = [nn.Linear(decoder_inputs(cfg), features), *norm(cfg, features), activation(cfg),
                           nn.Unflatten(1, (chans[-1], ts[-1]))]
    for i in range(len(cfg.hidden), 0, -1):
        up.append(ConvTranspose1d(chans[i], chans[i - 1], 4, stride=2, padding=1,
                                     output_padding=ts[i - 1] - 2 * ts[i]))
        if i > 1:
            up += [*norm(cfg, chans[i - 1], 1), activation(cfg)]
    up.append(_TimeMajorToChannels())
    return cls(cfg, nn.Sequential(*down, nn.Flatten()), features, nn.Sequential(*up))


class _GRUEncoder(nn.Module):
    """(B, T, C) -> last hidden state (B, H)."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.gru = nn.GRU(channels, hidden, batch_first=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.gru(x)[1][-1]


class _GRUDecoder(nn.Module):
    """z (B, D) -> (B, T, C): z sets the initial state and is fed at every step."""

    def __init__(self, latent_dim: int, hidden: int, length: int, channels: int) -> None:
        super().__init__()
        self.length = length
        self.to_state = nn.Linear(latent_dim, hidden)
        self.gru = nn.GRU(latent_dim, hidden, batch_first=True)
        self.to_output = nn.Linear(hidden, channels)

    def forward(self, z: Tensor) -> Tensor:
        h0 = torch.tanh(self.to_state(z)).unsqueeze(0)
        steps = z.unsqueeze(1).expand(-1, self.length, -1)
        return self.to_output(self.gru(steps, h0)[0])


def gru_vae(cfg: ModelConfig, cls: type[VAE] = VAE) -> VAE:
    """Recurrent VAE over time for (T, C) sensor windows (normalisation does not apply: the GRU gates its state)."""
    length, channels = cfg.input_shape
    hidden = cfg.hidden[0]
    return cls(cfg, _GRUEncoder(channels, hidden), hidden, _GRUDecoder(decoder_inputs(cfg), hidden, length, channels))


def argru_vae(cfg: ModelConfig, cls: type[VAE] = VAE) -> VAE:
    """GRU encoder, autoregressive GRU decoder (models_autoregressive): the encoder's state hidden[0], the
    decoder's hidden[-1]."""
    length, channels = cfg.input_shape
    decoder = AutoregressiveGRUDecoder(decoder_inputs(cfg), cfg.hidden[-1], length, channels,
                                       cfg.decoder_input_dropout)
    return cls(cfg, _GRUEncoder(channels, cfg.hidden[0]), cfg.hidden[0], decoder)


MAX_PARAMETERS = 50_000_000  # weights of the largest model a run may have (200 MB as float32)
BUILDERS = {"mlp": mlp_vae, "conv": conv_vae, "conv1d": conv1d_vae, "gru": gru_vae, "argru": argru_vae}
NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)


def check_size(model: nn.Module) -> None:
    """Refuse a model over MAX_PARAMETERS weights before anything trains: its run could not be loaded."""
    n = count_parameters(model)
    if n > MAX_PARAMETERS:
        raise ConfigError(f"these layers make a model of {n:,} weights, over the limit of {MAX_PARAMETERS:,} a run "
                          "may have (it could not be saved and loaded again); use fewer or smaller layers")


def init_weights(model: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default initialisation of every layer, drawn from `generator` in module order."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d)):
                # as nn.Linear/_ConvNd.reset_parameters: kaiming_uniform(a=sqrt 5), bias U(+-1/sqrt(fan_in))
                nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
                if module.bias is not None:
                    fan_in, _ = nn.init._calculate_fan_in_and_fan_out(module.weight)
                    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
                    nn.init.uniform_(module.bias, -bound, bound, generator=generator)
            elif isinstance(module, nn.GRU):
                bound = 1.0 / math.sqrt(module.hidden_size)
                for weight in module.parameters():
                    nn.init.uniform_(weight, -bound, bound, generator=generator)
            elif isinstance(module, NORMS):  # scale 1, shift 0, fresh running statistics: nothing random
                if module.weight is not None:
                    nn.init.ones_(module.weight)
                    nn.init.zeros_(module.bias)
                if isinstance(module, nn.modules.batchnorm._NormBase) and module.track_running_stats:
                    module.reset_running_stats()
            elif any(True for _ in module.parameters(recurse=False)):
                raise TypeError(f"init_weights does not know how to initialise {type(module).__name__}")


def count_parameters(model: nn.Module) -> int:
    """Number of trainable weights."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
