"""The one training loop: `train(model, data, cfg)` yields events; the caller prints, plots or stops.

Stopping is `break`: the model keeps what it learned and `TrainState` holds the optimiser, so calling
`train` again with the same state continues where it left off. The loop prints and saves nothing.
"""
from __future__ import annotations

import math
import os
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor

from .augment import augment
from .config import LIVE, SETTINGS, UNIT_INTERVAL_LOSSES, ConfigError, TrainConfig
from .dataset import DataError, Dataset
from .losses import kl_weight
from .malloc import keep_freed_memory
from .models import VAE
from .models_adversarial import parameter_sets
from .objectives import StepTerms, check_live, full_objective, step_terms, term_names


@dataclass(frozen=True)
class TrainEvent:
    """One step, one epoch summary (phase train or val), or the end of a run."""

    kind: str  # step | epoch | end | change (a live setting changed from this step on)
    phase: str  # train | val ('' for end and change events)
    epoch: int  # 1-based epoch this event belongs to
    step: int  # optimiser steps taken so far
    total_steps: int  # steps the whole run plans (for progress and ETA)
    loss: float = math.nan  # objective: recon + beta * penalised KL, nats per sample
    recon: float = math.nan  # -log p(x|z), nats per sample
    kl: float = math.nan  # KL(q(z|x) || p(z)), nats per sample
    beta: float = math.nan  # KL weight in force (after warm-up)
    lr: float = math.nan
    samples_per_second: float = math.nan
    seconds: float = 0.0  # wall time since this call of train() began
    kl_per_dim: tuple[float, ...] = ()  # epoch events: KL of each latent dimension
    reason: str = ""  # end events: finished | diverged | early_stopped; change events: the setting's name
    message: str = ""  # end and change events: what happened, in words
    value: float = math.nan  # change events: the setting's new value
    terms: tuple[tuple[str, float], ...] = ()  # a variant's extra terms (objectives.TERM_WORDS), nats per sample

    def term(self, name: str) -> float:
        """One of the extra terms (NaN when this event has none of that name)."""
        return dict(self.terms).get(name, math.nan)


@dataclass(frozen=True)
class Change:
    """A live setting (config.LIVE: β, learning rate, free bits) set to `value` from optimiser step `step` on."""

    step: int
    name: str
    value: float

    def event(self, epoch: int, total_steps: int, seconds: float) -> TrainEvent:
        word = LIVE[self.name].widget.label if LIVE[self.name].widget else self.name
        return TrainEvent(kind="change", phase="", epoch=epoch, step=self.step, total_steps=total_steps,
                          seconds=seconds, reason=self.name, value=self.value,
                          message=f"{word} set to {self.value:g} from step {self.step}")


def check_change(name: str, value: float) -> float:
    """The value a live setting may take (ConfigError otherwise): a declared live setting, within its range."""
    if name not in LIVE:
        raise ConfigError(f"{name} cannot change while a run trains; these can: {', '.join(LIVE)}")
    value = LIVE[name].coerce(value)
    LIVE[name].validate(value)
    return float(value)


@dataclass(frozen=True)
class TrainingSoFar:
    """What training did, so a verdict can tell an under-trained model from a collapsed one."""

    steps: int | None = None  # optimiser steps taken (None: unknown, e.g. an old saved run)
    recon: tuple[float, ...] = ()  # training reconstruction per epoch
    kl: tuple[float, ...] = ()  # training KL per epoch

    @classmethod
    def of(cls, events: list[TrainEvent]) -> TrainingSoFar:
        """From a run's events (all of them, over every call of `train`)."""
        epochs = [e for e in events if e.kind == "epoch" and e.phase == "train"]
        steps = max((e.step for e in events), default=0) if events else None
        return cls(steps, tuple(e.recon for e in epochs), tuple(e.kl for e in epochs))


class RunRandom:
    """A run's own random generators, seeded from its seed (torch's global generator is never used).

    `data` shuffles the training part (CPU); `noise` draws the reparameterisation noise and dropout masks
    on the training device. Their states travel with the run, so a continued run draws what a straight
    one would have.
    """

    def __init__(self, seed: int, device: torch.device | str = "cpu") -> None:
        self.data = torch.Generator().manual_seed(seed + 1)
        self.noise = torch.Generator(device=device).manual_seed(seed + 2)

    def state_dict(self) -> dict[str, Tensor]:
        return {"data": self.data.get_state(), "noise": self.noise.get_state()}

    def load_state_dict(self, states: dict[str, Tensor]) -> None:
        self.data.set_state(states["data"])
        self.noise.set_state(states["noise"])


class TrainState:
    """What a run carries between calls of `train`: optimiser, generators, counters, last good weights.

    It is consistent at every event `train` yields, so stopping at any event and continuing later gives
    the weights of a run that never stopped.
    """

    def __init__(self, model: VAE, cfg: TrainConfig) -> None:
        self.optimizer, self.adversary = _make_optimizers(model, cfg)
        self._settings = (model.cfg, cfg)  # what a live change is checked against
        self.rng = RunRandom(cfg.seed, resolve_device(cfg.device))
        self.epoch = 0  # epochs completed
        self.step = 0
        self.batch = 0  # steps taken in the epoch under way
        self.order: Tensor | None = None  # (n_train,) the shuffled order of the epoch under way
        self.sums: Tensor | None = None  # (3 + D,) that epoch's running sums of total, recon, kl, kl per dim
        self.val_pending = False  # an epoch ended but its validation has not run yet
        self.first_loss: float | None = None  # the first step's loss: the yardstick for a blow-up
        self.best_val = math.inf
        self.epochs_since_best = 0
        self.last_good = _copy_weights(model)
        self.best_weights: dict[str, Tensor] | None = None
        self.seconds = 0.0  # training time over every call
        self.changes: list[Change] = []  # live setting changes, by step: planned ahead or made while training
        self.announced = 0  # the last step whose changes were announced as events
        self._claimed = 0  # the last step whose live values the loop has read: too late to change it
        self._lock = threading.Lock()  # changes come from other threads (a teacher's slider) while it trains

    def change(self, name: str, value: float) -> Change:
        """Set a live setting from the next step the loop has not begun yet (thread-safe); the Change is recorded
        with the step it really takes effect at, so replaying the recorded changes gives the same weights."""
        check_live(name, *self._settings)
        with self._lock:
            change = Change(max(self.step, self._claimed) + 1, name, check_change(name, value))
            self.changes.append(change)
            return change

    def claim(self, step: int) -> list[Change]:
        """The loop is about to take `step`: later changes go to the step after; returns the changes in force."""
        with self._lock:
            self._claimed = max(self._claimed, step)
            return sorted((c for c in self.changes if c.step <= step), key=lambda c: c.step)

    def changes_until(self, step: int) -> list[Change]:
        """The changes in force at `step` (those from steps up to it), in order."""
        with self._lock:
            return sorted((c for c in self.changes if c.step <= step), key=lambda c: c.step)


SGD_MOMENTUM = 0.9


def _make_optimizers(model: VAE, cfg: TrainConfig) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer | None]:
    """The optimiser of the model's weights, and the adversarial autoencoder's second one (None for the others)."""
    main, adversary = parameter_sets(model)
    return _make_optimizer(main, cfg), None if adversary is None else _make_optimizer(adversary, cfg)


def _make_optimizer(params: list[torch.nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    kw = dict(lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, **kw)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, momentum=SGD_MOMENTUM, **kw)
    adam = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.AdamW
    # fused=True: one kernel per parameter instead of ~10 (the default on CPU is the per-tensor loop),
    # which took ~30 % of an MLP step on 2 cores. Older torch builds without it get the default.
    try:
        return adam(params, fused=True, **kw)
    except (RuntimeError, TypeError, ValueError):
        return adam(params, **kw)


def _optimise(state: TrainState, terms: StepTerms, grad_clip: float) -> None:
    """One optimiser step on the batch's terms; the adversarial autoencoder also takes its regularisation phase's
    step, both from gradients at the same weights (the discriminator and the encoder, by their own optimiser)."""
    state.optimizer.zero_grad(set_to_none=True)
    main = [p for group in state.optimizer.param_groups for p in group["params"]]
    if state.adversary is None:
        terms.backprop.backward()
        _step(state.optimizer, main, grad_clip)
        return
    state.adversary.zero_grad(set_to_none=True)
    terms.backprop.backward(retain_graph=True)
    grads = [p.grad for p in main]
    for p in main:
        p.grad = None
    terms.adversarial.backward()
    _step(state.adversary, [p for group in state.adversary.param_groups for p in group["params"]], grad_clip)
    for p, grad in zip(main, grads, strict=True):
        p.grad = grad
    _step(state.optimizer, main, grad_clip)


def _step(optimizer: torch.optim.Optimizer, params: list[torch.nn.Parameter], grad_clip: float) -> None:
    if grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(params, grad_clip)
    optimizer.step()


def _copy_weights(model: VAE) -> dict[str, Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def resolve_device(name: str) -> torch.device:
    """'auto' -> CUDA when available, else CPU; other names are checked."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DataError(f"device {name!r} asked for, but CUDA is not available here; use --device cpu or auto")
    return torch.device(name)


def lr_factor(schedule: str, progress: float) -> float:
    """Learning-rate multiplier at `progress` in [0, 1] of the run: cosine decay or halving in thirds."""
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
    if schedule == "step":
        return 0.5 ** min(2, int(progress * 3))
    return 1.0


def check_compatible(model: VAE, data: Dataset, cfg: TrainConfig | None = None) -> None:
    """Raise DataError when the model (trained with `cfg`) cannot be trained on this data (shape, loss range)."""
    if tuple(model.cfg.input_shape) != tuple(data.input_shape):
        raise DataError(f"the model expects samples of shape {tuple(model.cfg.input_shape)} but the data has "
                        f"{tuple(data.input_shape)}; build the model for this data set")
    if model.cfg.loss in UNIT_INTERVAL_LOSSES and not data.in_unit_interval:
        raise DataError(f"the {model.cfg.loss} loss models values in [0, 1] but this data ranges from "
                        f"{data.x.min():.3g} to {data.x.max():.3g}; use mse, mae or huber, or min-max scaling")
    if len(data.indices("train")) == 0:
        raise DataError("the training part is empty; the data set needs more samples")
    if model.classes and data.classes != model.classes:
        raise DataError(f"this conditional model takes labels of {model.classes} classes, but the data has "
                        f"{data.classes or 'no class labels'}; train it on labelled data with those classes")
    for name in ("augment",) if cfg is not None else ():  # settings declared for some kinds of data only
        kinds = SETTINGS[name].kinds
        if getattr(cfg, name) and data.kind not in kinds:
            raise DataError(f"{name} is for {' and '.join(kinds)} data, and this data is {data.kind}s; "
                            f"drop {SETTINGS[name].flag}")


def train(model: VAE, data: Dataset, cfg: TrainConfig, state: TrainState | None = None,
          log_every: int | None = None) -> Iterator[TrainEvent]:
    """Train `model` on data's train part, validating on its val part; yields TrainEvents.

    Runs epochs state.epoch + 1 .. cfg.epochs, from where `state` stopped (mid-epoch too). Pass the same
    `state` again (with more epochs in cfg) to continue. `log_every` steps between step events (None:
    every step on CPU, 20 on CUDA, where reading a number back waits for the GPU). On the CPU it trains
    on cfg.threads threads (0: one per core) and gives the caller's thread its setting back at the end.
    """
    check_compatible(model, data, cfg)
    device = resolve_device(cfg.device)
    state = state or TrainState(model, cfg)
    model.to(device)
    model.use_rng(state.rng.noise)
    if device.type == "cpu":
        keep_freed_memory()
    with run_threads(cfg):
        yield from _epochs(model, data, cfg, state, device, log_every or (1 if device.type == "cpu" else 20))


@contextmanager
def run_threads(cfg: TrainConfig) -> Iterator[None]:
    """The calling thread uses the run's torch threads (cfg.threads; 0: one per core) within the block, its own
    setting after. Training and the closing evaluation both keep to them: on a shared server a run's evaluation
    on every core starved the page that says it stopped."""
    before = torch.get_num_threads()
    torch.set_num_threads(cfg.threads or os.cpu_count() or 1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _epochs(model: VAE, data: Dataset, cfg: TrainConfig, state: TrainState, device: torch.device,
            log_every: int) -> Iterator[TrainEvent]:
    x_source, train_index = _train_source(data, device)
    x_val = torch.from_numpy(data.part("val")[0]).to(device)
    y_source, y_val = _labels(model, data, device)
    names = term_names(model.cfg, cfg.objective)
    head = 3 + len(names)  # total, recon, kl, then the variant's extra terms; KL per dimension after them
    n_train = len(train_index)
    batch = min(cfg.batch_size, n_train)
    steps_per_epoch = math.ceil(n_train / batch)
    total_steps = steps_per_epoch * cfg.epochs
    t_start = time.perf_counter()

    def event(**kw) -> TrainEvent:
        return TrainEvent(step=state.step, total_steps=total_steps, seconds=time.perf_counter() - t_start, **kw)

    def live(step: int) -> dict[str, float]:
        """β, learning rate and free bits in force at `step`: the config's, then every change up to it."""
        values = {name: getattr(cfg, name) for name in LIVE}
        values.update({c.name: c.value for c in state.changes_until(step)})
        return values

    def loss_kw(values: dict[str, float]) -> dict:
        return dict(loss=model.cfg.loss, free_bits=values["free_bits"], huber_delta=model.cfg.huber_delta,
                    objective=cfg.objective, k=cfg.iwae_k)

    def validate() -> Iterator[TrainEvent]:
        """The validation, early-stopping check and last-good copy that close epoch state.epoch."""
        state.val_pending = False
        epoch = state.epoch
        now = live(state.step)
        beta = kl_weight(epoch, now["beta"], cfg.warmup, cfg.warmup_epochs)
        if len(x_val):
            val = evaluate_loss(model, x_val, y=y_val, beta=beta, batch_size=max(batch, 512), **loss_kw(now))
            if not math.isfinite(val["loss"]):
                yield _diverged(model, state, cfg, epoch - 1, state.step, total_steps, t_start)
                return
            target = full_objective(val, now["beta"], model.cfg, cfg.objective)  # early stopping: the full-β one
            if target < state.best_val - 1e-4:
                state.best_val, state.epochs_since_best = target, 0
                if cfg.early_stopping:
                    state.best_weights = _copy_weights(model)
            else:
                state.epochs_since_best += 1
            state.last_good = _copy_weights(model)
            yield event(kind="epoch", phase="val", epoch=epoch, loss=val["loss"], recon=val["recon"], kl=val["kl"],
                        beta=beta, lr=now["lr"] * lr_factor(cfg.schedule, epoch / cfg.epochs),
                        kl_per_dim=tuple(val["kl_per_dim"]), terms=tuple(val["terms"].items()))
        else:
            state.last_good = _copy_weights(model)
        if cfg.early_stopping and state.epochs_since_best >= cfg.early_stopping and epoch < cfg.epochs:
            if state.best_weights is not None:
                model.load_state_dict(state.best_weights)
            yield event(kind="end", phase="", epoch=epoch, reason="early_stopped",
                        message=f"validation loss did not improve for {cfg.early_stopping} epochs; "
                                f"kept the weights of the best epoch")

    if state.order is not None and len(state.order) != n_train:
        raise DataError(f"the saved training state is for {len(state.order)} training samples, but this data has "
                        f"{n_train}: continue it on the data it was trained on")
    if state.val_pending:  # stopped between an epoch's end and its validation
        for ev in validate():
            yield ev
            if ev.kind == "end":
                return
    while state.epoch < cfg.epochs:
        epoch = state.epoch
        model.train()
        t_epoch = time.perf_counter()
        if state.order is None:  # a new epoch (else: continue the one under way, in its order)
            state.order = torch.randperm(n_train, generator=state.rng.data)
            state.sums = torch.zeros(head + model.cfg.code_dim, device=device)
            state.batch = 0
        order = train_index[state.order.to(device)]
        sums = state.sums
        pending: list[tuple[Tensor, float, float]] = []
        t_log = time.perf_counter()
        away = 0.0  # seconds the caller held the loop at a yield (a paused run, a checkpoint): not training time
        steps_before = state.batch
        for b in range(state.batch, steps_per_epoch):
            in_force = state.claim(state.step + 1)
            if state.announced <= state.step:  # changes that take effect at this step: said once, before it
                state.announced = state.step + 1
                for change in in_force:
                    if change.step == state.step + 1:
                        t_out = time.perf_counter()
                        yield change.event(epoch + 1, total_steps, t_out - t_start)
                        away += time.perf_counter() - t_out
            now = live(state.step + 1)
            progress = epoch + b / steps_per_epoch
            beta = kl_weight(progress, now["beta"], cfg.warmup, cfg.warmup_epochs)
            lr = now["lr"] * lr_factor(cfg.schedule, progress / cfg.epochs)
            for optimizer in filter(None, (state.optimizer, state.adversary)):
                for group in optimizer.param_groups:
                    group["lr"] = lr
            picked = order[b * batch:(b + 1) * batch]
            xb = x_source[picked]
            if cfg.augment:  # training batches only, drawn from the run's data generator (none drawn without it)
                xb = augment(xb, cfg.augment, state.rng.data)
            terms = step_terms(model, xb, None if y_source is None else y_source[picked], beta=beta, **loss_kw(now))
            _optimise(state, terms, cfg.grad_clip)
            state.step += 1
            state.batch = b + 1
            # few small ops per step: they cost as much dispatch time as a big one
            values = torch.cat([torch.stack([terms.total, terms.recon, terms.kl, *terms.extra.values()]),
                                terms.kl_per_dim]).detach()
            sums.add_(values, alpha=len(xb))
            pending.append((values, beta, lr))
            if len(pending) == log_every or b == steps_per_epoch - 1:
                rows = torch.stack([v for v, _, _ in pending])[:, :head].tolist()  # one host sync per log point
                now = time.perf_counter()
                rate = len(pending) * batch / max(now - t_log, 1e-9)
                first_step = state.step - len(pending) + 1
                if state.first_loss is None:
                    state.first_loss = rows[0][0]
                bad = next((i for i, row in enumerate(rows) if _blown_up(row, state.first_loss)), None)
                if bad is None and b == steps_per_epoch - 1:  # the epoch's last step: close it before any yield
                    state.seconds += now - t_epoch - away
                    state.epoch, state.order, state.sums, state.batch = epoch + 1, None, None, 0
                    state.val_pending = True
                for i, ((loss, recon, kl, *extra), (_, beta_i, lr_i)) in enumerate(zip(rows, pending, strict=True)):
                    if i == bad:
                        yield _diverged(model, state, cfg, epoch, first_step + i, total_steps, t_start, loss)
                        return
                    t_out = time.perf_counter()
                    yield TrainEvent(kind="step", phase="train", epoch=epoch + 1, step=first_step + i,
                                     total_steps=total_steps, loss=loss, recon=recon, kl=kl, beta=beta_i, lr=lr_i,
                                     samples_per_second=rate, seconds=now - t_start,
                                     terms=tuple(zip(names, extra, strict=True)))
                    away += time.perf_counter() - t_out
                pending.clear()
                t_log = time.perf_counter()
        train_seconds = time.perf_counter() - t_epoch - away
        mean = (sums / n_train).tolist()
        done = steps_per_epoch - steps_before
        yield event(kind="epoch", phase="train", epoch=epoch + 1, loss=mean[0], recon=mean[1], kl=mean[2],
                    beta=beta, lr=lr, samples_per_second=done * batch / max(train_seconds, 1e-9),
                    kl_per_dim=tuple(mean[head:]), terms=tuple(zip(names, mean[3:head], strict=True)))
        for ev in validate():
            yield ev
            if ev.kind == "end":
                return
    yield event(kind="end", phase="", epoch=state.epoch, reason="finished",
                message=f"trained {state.epoch} epoch{'s' * (state.epoch != 1)} in {state.seconds:.1f} s")


def _train_source(data: Dataset, device: torch.device) -> tuple[Tensor, Tensor]:
    """(samples to index, indices of the training part in it).

    On the CPU the batches are gathered straight from data.x (no copy of the training part: less
    memory, and no half-second of page faults for a large set before the first step); elsewhere
    the training part is copied to the device once.
    """
    index = data.indices("train")
    if device.type == "cpu" and data.x.flags.c_contiguous:
        with warnings.catch_warnings():  # a shared, read-only data set: the loop only ever reads (gathers) it
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            return torch.from_numpy(data.x), torch.from_numpy(index)
    return torch.from_numpy(data.x[index]).to(device), torch.arange(len(index), device=device)


def _labels(model: VAE, data: Dataset, device: torch.device) -> tuple[Tensor | None, Tensor | None]:
    """A conditional model's labels: (all samples' (N,), indexed as x_source is; the val part's), else (None, None)."""
    if not model.classes:
        return None, None
    y = torch.from_numpy(data.y.astype("int64"))
    val = y[torch.from_numpy(data.indices("val"))].to(device)
    if device.type == "cpu" and data.x.flags.c_contiguous:  # x_source is all of data.x: index y the same way
        return y, val
    return y[torch.from_numpy(data.indices("train"))].to(device), val


EXPLODED = 1e4  # a step loss this many times the run's first one is a blow-up, even while it stays finite


def _blown_up(row: list[float], first_loss: float) -> bool:
    """NaN or infinite terms, or a loss that exploded past EXPLODED x the run's first step loss."""
    return not all(map(math.isfinite, row)) or row[0] > EXPLODED * max(abs(first_loss), 1.0)


def _diverged(model: VAE, state: TrainState, cfg: TrainConfig, epoch: int, step: int, total_steps: int,
              t_start: float, loss: float = math.nan) -> TrainEvent:
    """Restore the last good weights, reset the optimiser, and explain what to try."""
    model.load_state_dict(state.last_good)
    state.optimizer, state.adversary = _make_optimizers(model, cfg)
    state.order, state.sums, state.batch, state.val_pending = None, None, 0, False
    kept = f"the weights from the end of epoch {state.epoch}" if state.epoch else "the starting weights"
    what = "became NaN or infinite" if not math.isfinite(loss) else \
        f"exploded to {loss:.3g} nats (over {EXPLODED:,.0f} times its first value, {state.first_loss:.3g})"
    return TrainEvent(kind="end", phase="", epoch=epoch + 1, step=step, total_steps=total_steps,
                      seconds=time.perf_counter() - t_start, reason="diverged",
                      message=f"the loss {what} at step {step} (epoch {epoch + 1}), so training "
                              f"stopped and kept {kept}. Try a lower learning rate (now {cfg.lr:g}), "
                              f"gradient clipping, or a smaller beta.")


@torch.no_grad()
def evaluate_loss(model: VAE, x: Tensor, *, loss: str, y: Tensor | None = None, beta: float = 1.0,
                  free_bits: float = 0.0, huber_delta: float = 1.0, batch_size: int = 512,
                  rng: torch.Generator | None = None, objective: str = "elbo", k: int = 1) -> dict:
    """Mean objective, recon, KL, KL per dimension and the variant's extra terms over `x` (N, ...) with labels `y`
    (conditional models), in eval mode.

    z is sampled with `rng` (an analysis's own generator), else with the run's `model.rng`.
    """
    was_training = model.training
    model.eval()
    n = len(x)
    recon = kl = 0.0
    kl_dim = torch.zeros(model.cfg.code_dim, device=x.device)
    extra: dict[str, float] = {}
    objective_sum = 0.0
    for i in range(0, n, batch_size):
        xb = x[i:i + batch_size]
        terms = step_terms(model, xb, None if y is None else y[i:i + batch_size], loss=loss, beta=beta,
                           free_bits=free_bits, huber_delta=huber_delta, rng=rng, objective=objective, k=k)
        recon += terms.recon.item() * len(xb)
        kl += terms.kl.item() * len(xb)
        kl_dim += terms.kl_per_dim * len(xb)
        objective_sum += terms.total.item() * len(xb)
        for name, value in terms.extra.items():
            extra[name] = extra.get(name, 0.0) + value.item() * len(xb)
    model.train(was_training)
    kl_dim_mean = (kl_dim / n)
    kl_pen = kl_dim_mean.clamp(min=free_bits).sum().item() if free_bits > 0 else kl / n
    # the ELBO's objective from the epoch's sums (free bits act on the mean KL per dimension); the others per batch
    total = recon / n + beta * kl_pen if objective == "elbo" and model.cfg.variant != "adversarial" else \
        objective_sum / n
    return {"loss": total, "recon": recon / n, "kl": kl / n, "kl_per_dim": kl_dim_mean.tolist(),
            "terms": {name: value / n for name, value in extra.items()}}
