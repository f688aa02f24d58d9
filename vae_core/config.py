"""Frozen, validated settings for a model and for a training run: each setting declared once, here.

Every field is declared with `settings.setting` (default, range, help, lesson, widget, sweep): the CLI, sweeps,
shared links, the Train page and reports are derived from `SETTINGS`. `__post_init__` checks each value against
its declaration and explains a bad one in words a student understands. Use `to_dict` for JSON and
`dataclasses.replace` for changes; `configs_for` completes a partial set of values with the recommended ones.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

from .settings import ConfigError, Setting, Widget, collect, format_value, setting

__all__ = ["ARCHS", "ConfigError", "LOSSES", "LOSS_NAMES", "ModelConfig", "SETTINGS", "TrainConfig",
           "UNIT_INTERVAL_LOSSES", "check_together", "configs_for", "default_model_config", "from_dict", "losses_for",
           "to_dict"]

ARCH_NAMES = {"mlp": "MLP (fully connected)", "conv": "Convolutional", "conv1d": "1-D convolution over time",
              "gru": "GRU (recurrent)", "argru": "GRU reading the previous step (autoregressive)"}
ARCHS = tuple(ARCH_NAMES)
LOSS_NAMES = {
    "bce": "Bernoulli (binary cross-entropy)",
    "cbce": "continuous Bernoulli",
    "mse": "Gaussian (squared error)",
    "mae": "Laplace (absolute error)",
    "huber": "Huber (squared near 0, absolute far out)",
}
LOSSES = tuple(LOSS_NAMES)
AUGMENTATIONS = {  # vae_core.augment applies them
    "jitter": "jitter: add small Gaussian noise to every value",
    "scale": "scale: multiply each channel of a window by a factor near 1",
    "warp": "time warp: stretch and squeeze time smoothly within the window",
    "shift": "window shift: move the window a few steps earlier or later",
}
# Losses that model each value as a probability, so the data must lie in [0, 1].
UNIT_INTERVAL_LOSSES = ("bce", "cbce")
# The VAE family (vae_core/family.py) and the architecture knobs: each choice in words.
VARIANT_NAMES = {"vae": "VAE (one stochastic layer)", "hierarchical": "Hierarchical VAE (two stochastic layers)",
                 "adversarial": "Adversarial autoencoder (a discriminator instead of the KL)"}
OBJECTIVE_NAMES = {"elbo": "ELBO", "iwae": "IWAE bound (k importance samples)"}
ACTIVATION_NAMES = {"relu": "ReLU", "leaky_relu": "LeakyReLU (slope 0.01)", "tanh": "Tanh", "gelu": "GELU"}
NORM_NAMES = {"none": "none", "batch": "batch normalisation", "layer": "layer normalisation"}
OPTIMIZER_NAMES = {"adamw": "AdamW", "adam": "Adam", "rmsprop": "RMSprop", "sgd": "SGD with momentum 0.9"}
MAX_CLASSES = 1000  # labels a conditional model may take: one input per class


def _device_problem(value: str) -> str | None:
    ok = isinstance(value, str) and (value in ("auto", "cpu") or value.startswith("cuda"))
    return None if ok else f"device must be auto, cpu, cuda or cuda:N, not {value!r}"


def _validate(cfg: Any) -> None:
    """Coerce JSON-ish values (lists, ints for floats) and check each against its declaration."""
    for f in fields(cfg):
        s = SETTINGS.get(f.name)
        if s is not None:
            value = s.coerce(getattr(cfg, f.name))
            object.__setattr__(cfg, f.name, value)
            s.validate(value)


@dataclass(frozen=True)
class ModelConfig:
    """What the network looks like and how it scores a reconstruction."""

    TARGET: ClassVar[str] = "model"

    input_shape: tuple[int, ...] = (1, 28, 28)  # from the data: images (C, H, W); sensor windows (T, C)
    classes: int = 0  # from the data: the labels a conditional model takes (0 when it is not conditional)
    arch: str = setting(
        "mlp", target="model", lesson=1, choices=ARCHS, defaults={"sensor": "conv1d"},
        choices_by_kind={"image": ("mlp", "conv"), "sensor": ("conv1d", "gru", "mlp", "argru")}, sweep="list",
        help="How the encoder and decoder are built: MLPs treat every input value separately, convolutions share "
             "weights across positions in space or time.",
        widget=Widget("Architecture", names=ARCH_NAMES))
    variant: str = setting(
        "vae", lesson=8, choices=tuple(VARIANT_NAMES), sweep="list",
        help="Which member of the VAE family: the plain VAE, a hierarchical VAE with two stochastic layers, or an "
             "adversarial autoencoder whose discriminator replaces the KL term.",
        widget=Widget("Model variant", names=VARIANT_NAMES))
    conditional: bool = setting(
        False, lesson=8, sweep="list",
        help="Conditional VAE: the encoder and the decoder also get each input's label, so the decoder can draw a "
             "class you choose and z is left to hold the style.",
        widget=Widget("Conditional on the label", labelled=True))
    latent_dim: int = setting(
        16, lesson=4, low=1, high=512, defaults={"sensor": 8}, sweep="range",
        help="How many numbers the code z has: 2 can be drawn directly, more rebuild better, and a VAE switches "
             "off the dimensions it does not need.",
        widget=Widget("Latent size (dimensions of z)", low=1, high=64, step=1))
    top_latent_dim: int = setting(
        8, lesson=8, low=1, high=512, sweep="list", active_when=("variant", ("hierarchical",)),
        help="Hierarchical VAE only: dimensions of the top stochastic layer z2, which sets the prior of the bottom "
             "layer z1 (the latent size).",
        widget=Widget("Top layer size (z2)", low=1, high=64, step=1, more=True))
    hidden: tuple[int, ...] = setting(
        (400,), lesson=1, low=1, high=4096, max_items=6, sweep="list",
        defaults={"image/mlp": (400,), "sensor/mlp": (256,), "conv": (32, 64), "conv1d": (32, 64), "gru": (64,),
                  "argru": (64,)},
        help="Layer sizes, comma separated: widths of the hidden layers (MLP), channels per conv layer, or the "
             "GRU's state size (autoregressive GRU: the encoder's, then the decoder's).",
        widget=Widget("Layer sizes", more=True))
    loss: str = setting(
        "bce", lesson=5, choices=LOSSES, defaults={"sensor": "mse"}, sweep="list",
        help="The decoder's likelihood p(x|z), i.e. how a reconstruction is scored: Bernoulli for pixels in [0, 1], "
             "squared error for signals, absolute error or Huber to shrug off outliers.",
        widget=Widget("Reconstruction loss", names=LOSS_NAMES))
    huber_delta: float = setting(
        1.0, lesson=5, low=0, high=1000, low_open=True, sweep="list", active_when=("loss", ("huber",)),
        help="Huber loss only: the error size where squared error turns into absolute error.",
        widget=Widget("Huber δ", grid=(0.1, 0.25, 0.5, 1.0, 2.0, 5.0), more=True))
    dropout: float = setting(
        0.0, lesson=1, low=0, high=1, high_open=True, sweep="range",
        help="Randomly zeroes this fraction of hidden units while training, which can reduce overfitting.",
        widget=Widget("Dropout", low=0.0, high=0.5, step=0.05, more=True))
    activation: str = setting(
        "relu", lesson=1, choices=tuple(ACTIVATION_NAMES), sweep="list",
        help="The nonlinearity after each hidden layer: ReLU is the usual one, LeakyReLU keeps a small slope below "
             "zero, Tanh saturates at -1 and 1, GELU is a smooth ReLU.",
        widget=Widget("Activation", names=ACTIVATION_NAMES, more=True))
    norm: str = setting(
        "none", lesson=1, choices=tuple(NORM_NAMES), sweep="list",
        help="Normalisation after each hidden layer of the encoder and decoder (MLP and convolution layers): batch "
             "norm uses the batch's statistics (running ones at test time), layer norm each sample's own.",
        widget=Widget("Normalisation", names=NORM_NAMES, more=True))
    decoder_input_dropout: float = setting(
        0.0, lesson=11, low=0, high=1, active_when=("arch", ("argru",)),
        help="Autoregressive decoder only: the share of time steps where it may not read the previous value "
             "(Bowman et al. 2016's word dropout), so it has to get them from z.",
        widget=Widget("Decoder input dropout", low=0.0, high=1.0, step=0.05, more=True))

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_shape", tuple(int(s) for s in self.input_shape))
        if not self.conditional:  # the label count matters only to a conditional model
            object.__setattr__(self, "classes", 0)
        _validate(self)
        if not (isinstance(self.classes, int) and 0 <= self.classes <= MAX_CLASSES):
            raise ConfigError(f"classes must be a whole number from 0 to {MAX_CLASSES}, not {self.classes!r}")
        if self.conditional and self.classes < 2:
            raise ConfigError("a conditional model needs data with class labels (2 classes or more); this data has "
                              "none: switch Conditional off or load labelled data")
        if not all(s >= 1 for s in self.input_shape):
            raise ConfigError(f"input_shape must be positive sizes, not {self.input_shape}")
        if self.arch == "conv" and len(self.input_shape) != 3:
            raise ConfigError("the conv architecture is for images (C, H, W); use conv1d or gru for sensor windows")
        if self.arch in ("conv1d", "gru", "argru") and len(self.input_shape) != 2:
            raise ConfigError(f"the {self.arch} architecture is for sensor windows (T, C); use mlp or conv for images")

    @property
    def kind(self) -> str:
        """'image' for (C, H, W) inputs, 'sensor' for (T, C) windows."""
        return "image" if len(self.input_shape) == 3 else "sensor"

    @property
    def code_dim(self) -> int:
        """Dimensions of the whole code the encoder gives: z, or z1 and z2 of a hierarchical VAE."""
        return self.latent_dim + (self.top_latent_dim if self.variant == "hierarchical" else 0)


@dataclass(frozen=True)
class TrainConfig:
    """How the model is trained: objective weights, optimiser, schedule, stopping, randomness."""

    TARGET: ClassVar[str] = "train"

    epochs: int = setting(
        20, lesson=1, low=1, high=10_000, sweep="list", defaults={"sensor": 30},
        help="How many times training goes through the whole training part.",
        widget=Widget("Epochs", low=1, high=200, step=1))
    # sensor recordings give a few hundred windows: smaller batches and more epochs give the ~200 optimiser
    # steps a model needs before its code settles (and before the collapse verdict can judge it)
    batch_size: int = setting(
        128, lesson=1, low=1, high=65_536, sweep="list", defaults={"sensor": 32},
        help="Samples per gradient step: bigger batches are faster per sample but take fewer steps per epoch.",
        widget=Widget("Batch size", grid=(16, 32, 64, 128, 256, 512, 1024)))
    # 2e-3 at batch 128 matches 1e-3 at batch 64 in half the time
    lr: float = setting(
        2e-3, lesson=1, low=0, high=10, low_open=True, sweep="range", live=True,
        help="Step size of the optimiser: too small learns slowly, too large makes the loss jump or explode.",
        widget=Widget("Learning rate", grid=(1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 1.0, 10.0)))
    objective: str = setting(
        "elbo", lesson=8, choices=tuple(OBJECTIVE_NAMES), sweep="list",
        help="What training maximises: the ELBO, or the IWAE bound (Burda et al. 2016), a tighter bound on log p(x) "
             "from k importance-weighted samples per input (with β = 1, no warm-up and no free bits).",
        widget=Widget("Objective", names=OBJECTIVE_NAMES))
    iwae_k: int = setting(
        5, lesson=8, low=1, high=256, sweep="list", active_when=("objective", ("iwae",)),
        help="IWAE objective only: importance samples per input; k = 1 is the ELBO, more give a tighter bound for k "
             "times the decoder's work.",
        widget=Widget("IWAE samples k", low=1, high=64, step=1))
    beta: float = setting(
        1.0, lesson=2, low=0, high=1000, sweep="range", live=True,
        help="Weight on the KL term (β-VAE, Higgins et al. 2017): higher β gives a smoother latent space and "
             "blurrier reconstructions, and too high a β collapses the code.",
        widget=Widget("β (weight of the KL term)",
                      grid=(0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)))
    warmup: str = setting(
        "none", lesson=3, choices=("none", "linear", "cyclical"), sweep="list",
        help="KL warm-up (Bowman et al. 2016): β starts near 0 and ramps up, so the encoder learns to use z before "
             "the KL term pulls the codes to the prior.",
        widget=Widget("KL warm-up"))
    warmup_epochs: float = setting(
        5.0, lesson=3, low=0, high=10_000, sweep="list", active_when=("warmup", ("linear", "cyclical")),
        help="Length of the warm-up ramp (or of one cycle), in epochs.",
        widget=Widget("Warm-up epochs", low=1, high=50, step=1))
    free_bits: float = setting(
        0.0, lesson=3, low=0, high=100, unit="nats per dimension", sweep="range", live=True,
        help="Free bits (Kingma et al. 2016): each latent dimension may carry this many nats without any KL "
             "penalty, so switching dimensions off no longer pays.",
        widget=Widget("Free bits (nats per dimension)", low=0.0, high=2.0, step=0.05))
    optimizer: str = setting(
        "adamw", lesson=1, choices=tuple(OPTIMIZER_NAMES), sweep="list",
        help="How the weights are stepped: Adam and AdamW adapt each weight's step size (AdamW decays weights apart "
             "from the gradient), RMSprop adapts it without momentum, SGD takes plain steps with momentum 0.9.",
        widget=Widget("Optimiser", names=OPTIMIZER_NAMES, more=True))
    augment: tuple[str, ...] = setting(
        (), kind=tuple, lesson=12, items=tuple(AUGMENTATIONS), kinds=("sensor",), metavar="METHODS",
        default_words="none",
        help="Sensor windows only: new training windows from old ones (jitter, scale, warp, shift; Um et al. 2017), "
             "drawn from the run's seed, which helps a model learn from a short recording.",
        widget=Widget("Augment the training windows", names=AUGMENTATIONS, more=True))
    weight_decay: float = setting(
        0.0, lesson=1, low=0, high=1, sweep="list",
        help="Pulls the weights gently towards zero (decoupled in AdamW, an L2 penalty in the others), another "
             "guard against overfitting.",
        widget=Widget("Weight decay", grid=(0.0, 1e-5, 1e-4, 1e-3, 1e-2), more=True))
    grad_clip: float = setting(
        0.0, lesson=1, low=0, high=1e6, sweep="list",
        help="Caps the gradient's size at each step so a high learning rate cannot blow up (0 = off).",
        widget=Widget("Gradient clipping (max norm)", grid=(0.0, 0.5, 1.0, 5.0, 10.0, 100.0), more=True))
    schedule: str = setting(
        "none", lesson=1, choices=("none", "cosine", "step"), sweep="list",
        help="How the learning rate changes over the run: constant, cosine decay to zero, or halving in thirds.",
        widget=Widget("Learning-rate schedule", more=True))
    early_stopping: int = setting(
        0, lesson=1, low=0, high=10_000, sweep="list",
        help="Stop when the validation loss has not improved for this many epochs (0 = never).",
        widget=Widget("Early stopping patience (epochs, 0 = off)", low=0, high=20, step=1, more=True))
    seed: int = setting(
        0, lesson=1, low=0, high=2**31 - 1,
        help="Fixes every random draw of the run (initial weights, shuffling, noise, dropout), so the same "
             "settings, seed and threads give the same weights.",
        widget=Widget("Random seed", low=0, high=2**31 - 1, step=1, number=True, more=True))
    # CPU results depend on how sums are split over threads: one thread by default, so a run repeats
    # exactly whether it trains in the CLI, a sweep or the dashboard (0 = one per core, faster, repeats only
    # with the same core count).
    threads: int = setting(
        1, low=0, high=1024,
        help="Torch threads for training on the CPU (0 = one per core); the same seed repeats a run exactly "
             "with the same thread count.")
    device: str = setting(
        "auto", check=_device_problem,
        help="Where to train: auto (CUDA when available, else CPU), cpu, cuda or cuda:N.")

    def __post_init__(self) -> None:
        _validate(self)
        if self.warmup != "none" and not self.warmup_epochs > 0:
            raise ConfigError(f"{self.warmup} warm-up needs warmup_epochs > 0")


SETTINGS: dict[str, Setting] = collect(ModelConfig, TrainConfig)
WIDGETS: dict[str, Setting] = {n: s for n, s in SETTINGS.items() if s.widget is not None}
LIVE: dict[str, Setting] = {n: s for n, s in SETTINGS.items() if s.live}  # may change while a run trains


def to_dict(cfg: ModelConfig | TrainConfig) -> dict[str, Any]:
    """JSON-ready dict (tuples become lists)."""
    return {f.name: list(v) if isinstance(v := getattr(cfg, f.name), tuple) else v for f in fields(cfg)}


def from_dict(cls: type, data: dict[str, Any]):
    """Build a config from a dict, rejecting unknown keys with a clear message."""
    if not isinstance(data, dict):
        raise ConfigError(f"{cls.__name__} must be a JSON object, not {type(data).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown {cls.__name__} setting(s): {', '.join(unknown)}")
    try:
        return cls(**data)
    except TypeError as exc:  # e.g. a list where a number belongs
        raise ConfigError(f"bad {cls.__name__}: {exc}") from None


def recommended(kind: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every setting for data of `kind`: the given values over the recommended ones (None counts as not given)."""
    given = {k: v for k, v in (values or {}).items() if v is not None}
    arch = given.get("arch", SETTINGS["arch"].default_for(kind))
    return {name: given[name] if name in given else s.default_for(kind, arch) for name, s in SETTINGS.items()}


def configs_for(kind: str, input_shape: tuple[int, ...], values: dict[str, Any] | None = None, classes: int = 0
                ) -> tuple[ModelConfig, TrainConfig]:
    """The model and training configs for data of `kind` (with `classes` labels): given values over the recommended
    ones, checked together."""
    full = recommended(kind, values)
    model = ModelConfig(input_shape=tuple(input_shape), classes=classes,
                        **{n: v for n, v in full.items() if SETTINGS[n].target == "model"})
    train = TrainConfig(**{n: v for n, v in full.items() if SETTINGS[n].target == "train"})
    check_together(model, train)
    return model, train


def check_together(model: ModelConfig, train: TrainConfig) -> None:
    """Raise ConfigError when the model and training settings do not fit each other (the IWAE bound and the
    adversarial autoencoder have no KL term to weigh, warm up or free)."""
    if train.objective == "iwae":
        if model.variant == "adversarial":
            raise ConfigError("the IWAE objective is a bound on log p(x); the adversarial autoencoder is not trained "
                              "on one: use the ELBO objective or another variant")
        if train.beta != 1 or train.warmup != "none" or train.free_bits > 0:
            raise ConfigError("the IWAE objective is the bound on log p(x) itself: it takes β = 1, no KL warm-up and "
                              "no free bits")
    if model.variant == "adversarial" and train.free_bits > 0:
        raise ConfigError("free bits free part of the KL term, which the adversarial autoencoder does not have: "
                          "set free bits to 0")


def default_model_config(kind: str, input_shape: tuple[int, ...], **overrides: Any) -> ModelConfig:
    """The recommended model for a data kind (MLP for images, 1-D conv for sensor windows), with overrides."""
    return configs_for(kind, input_shape, {k: v for k, v in overrides.items() if SETTINGS[k].target == "model"})[0]


def variant_words(settings: dict[str, Any]) -> str:
    """'conditional hierarchical VAE, IWAE objective (k = 5)' from a run's settings (as in config.json)."""
    name = {"vae": "VAE", "hierarchical": "hierarchical VAE", "adversarial": "adversarial autoencoder"}.get(
        settings.get("variant") or "vae", str(settings.get("variant")))
    name = f"conditional {name}" if settings.get("conditional") else name
    return name + (f", IWAE objective (k = {settings.get('iwae_k')})" if settings.get("objective") == "iwae" else "")


def losses_for(in_unit_interval: bool) -> list[str]:
    """Losses that fit data: the Bernoulli ones need every value in [0, 1]."""
    return [k for k in LOSSES if k not in UNIT_INTERVAL_LOSSES or in_unit_interval]


def describe(model: ModelConfig, train: TrainConfig) -> list[tuple[str, str]]:
    """(label, value) rows of every setting in force, for reports and tables."""
    values = {**to_dict(model), **to_dict(train)}
    rows = []
    for name, s in SETTINGS.items():
        if s.active_when and values[s.active_when[0]] not in s.active_when[1]:
            continue
        if s.kinds and model.kind not in s.kinds:  # augmentation of sensor windows, for an image run
            continue
        label = s.widget.label if s.widget else name.replace("_", " ")
        rows.append((label, format_value(values[name])))
    return rows

