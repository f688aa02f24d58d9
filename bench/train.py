"""Training throughput: the engine's `train()` against a reference loop and against the machine's floor.

MNIST 28x28, the classic MLP VAE 784-400-20 with a Bernoulli decoder, batch 128, one epoch over 60,000
images (the bundled 5,000 real digits tiled 12 times). Three timings per repeat, interleaved so that the
machine's load hits all of them alike:
- floor: the model's FLOPs per epoch (forward + backward ~ 3 x the forward's, counted by torch's
  FlopCounterMode) divided by the measured sgemm rate (torch 2048 x 2048 matmul) right before;
- engine: `vae_core.training.train` for one epoch, wall time of the whole call;
- reference: the loop written the usual way (PyTorch's examples/vae): a per-sample Dataset that turns
  uint8 into a float tensor in __getitem__, DataLoader with the default collate, BCE-sum + KL, Adam.
The conv VAE (MNIST) and the sensor VAEs (conv1d, gru on Daphnet windows) run at their default
settings and are reported in samples/s against their own floor. All timings and floors use the threads
train() uses (1 by default, as `vae-explorer train` and the dashboard's jobs).
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader
from torch.utils.data import Dataset as TorchDataset
from torch.utils.flop_counter import FlopCounterMode

from vae_core.config import ModelConfig, TrainConfig, default_model_config
from vae_core.data import load_bundled
from vae_core.dataset import Dataset
from vae_core.runs import new_model
from vae_core.training import run_threads, train

from .common import Row, median, mnist_uint8, sgemm_gflops, spread

N_IMAGES = 60_000
BATCH = 128
MLP = ModelConfig(input_shape=(1, 28, 28), arch="mlp", hidden=(400,), latent_dim=20, loss="bce")


# ---- the reference: PyTorch's examples/vae, fed the usual way ---------------------------------------
class DigitsDataset(TorchDataset):
    """One sample at a time, uint8 -> float in [0, 1] in __getitem__ (what torchvision's ToTensor does)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        return torch.from_numpy(self.images[i]).float().div(255).unsqueeze(0), int(self.labels[i])


class ReferenceVAE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
        self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)

    def forward(self, x):
        h1 = F.relu(self.fc1(x.view(-1, 784)))
        mu, logvar = self.fc21(h1), self.fc22(h1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar


def reference_epoch(images: np.ndarray, labels: np.ndarray) -> float:
    """Seconds for one epoch of the reference loop."""
    torch.manual_seed(0)
    model = ReferenceVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(DigitsDataset(images, labels), batch_size=BATCH, shuffle=True)
    t = time.perf_counter()
    total = 0.0
    for x, _ in loader:
        optimizer.zero_grad()
        recon, mu, logvar = model(x)
        bce = F.binary_cross_entropy(recon, x.view(-1, 784), reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        loss = bce + kld
        loss.backward()
        total += loss.item()
        optimizer.step()
    assert math.isfinite(total)
    return time.perf_counter() - t


# ---- the engine ------------------------------------------------------------------------------------
def engine_epoch(data: Dataset, model_cfg: ModelConfig, cfg: TrainConfig) -> tuple[float, float]:
    """(seconds for one whole `train()` call of one epoch, its final epoch loss)."""
    model = new_model(model_cfg, 0)
    t = time.perf_counter()
    events = list(train(model, data, cfg))
    seconds = time.perf_counter() - t
    loss = next(e.loss for e in events if e.kind == "epoch" and e.phase == "train")
    return seconds, loss


def flops_per_sample(model_cfg: ModelConfig) -> float:
    """Forward FLOPs of one sample x 3 (the backward costs about twice the forward)."""
    model = new_model(model_cfg, 0)
    x = torch.rand(64, *model_cfg.input_shape)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return 3 * counter.get_total_flops() / len(x)


def all_train(name: str, x: np.ndarray, kind: str) -> Dataset:
    """Every sample in the training part, so that one epoch sees all of them."""
    return Dataset(name=name, kind=kind, x=x, split=np.zeros(len(x), np.int8))


def tiled_daphnet(n: int) -> Dataset:
    windows = load_bundled("daphnet").x
    reps = -(-n // len(windows))
    return all_train("daphnet-tiled", np.tile(windows, (reps, 1, 1))[:n], "sensor")


def run(repeats: int = 3) -> list[Row]:
    images, labels = mnist_uint8(N_IMAGES)
    data = all_train("mnist-60k", images[:, None].astype(np.float32) / np.float32(255), "image")
    cfg = TrainConfig(epochs=1, batch_size=BATCH)
    flops_epoch = flops_per_sample(MLP) * N_IMAGES
    engine_epoch(all_train("warm-up", data.x[:2048], "image"), MLP, cfg)  # first-call costs (thread pools, allocator)
    gflops, engine, ref, losses = [], [], [], []
    for _ in range(repeats):
        gflops.append(sgemm_gflops(threads=cfg.threads or None))  # all three on the threads train() uses
        seconds, loss = engine_epoch(data, MLP, cfg)
        engine.append(seconds)
        losses.append(loss)
        with run_threads(cfg):  # the reference loop on the engine's threads too
            ref.append(reference_epoch(images, labels))
        print(f"  train: sgemm {gflops[-1]:.1f} GFLOP/s, engine {engine[-1]:.2f} s, reference {ref[-1]:.2f} s",
              flush=True)
    floor = [flops_epoch / (g * 1e9) for g in gflops]
    vs_floor = [e / f for e, f in zip(engine, floor, strict=True)]
    ref_vs_floor = [r / f for r, f in zip(ref, floor, strict=True)]
    speedup = [r / e for r, e in zip(ref, engine, strict=True)]
    rows = [
        Row("train", "sgemm 2048x2048 (the machine)", f"{median(gflops):.1f} GFLOP/s", note(gflops)),
        Row("train", f"MLP 784-400-20 epoch, 60k, batch {BATCH}: engine", f"{median(engine):.2f} s",
            f"floor {median(floor):.2f} s", median(vs_floor), " x floor", "<= 1.5 x floor", median(vs_floor) <= 1.5),
        Row("train", "  same epoch: reference loop", f"{median(ref):.2f} s", f"floor {median(floor):.2f} s",
            median(ref_vs_floor), " x floor"),
        Row("train", "  engine speed-up over reference", f"{N_IMAGES / median(engine):,.0f} samples/s",
            f"{N_IMAGES / median(ref):,.0f} samples/s", median(speedup), " x faster", ">= 2 x", median(speedup) >= 2),
        Row("train", "  engine's epoch loss (nats/sample)", f"{median(losses):.1f}"),
    ]
    rows += other_models(repeats)
    return rows


def note(values: list[float]) -> str:
    return f"spread {spread(values)}"


def other_models(repeats: int) -> list[Row]:
    """The conv VAE on MNIST and the sensor VAEs on Daphnet windows, at their default settings."""
    images, _ = mnist_uint8(10_000, seed=1)
    mnist = all_train("mnist-10k", images[:, None].astype(np.float32) / np.float32(255), "image")
    sensor = tiled_daphnet(10_000)
    cases = [("conv VAE, MNIST 10k", mnist, default_model_config("image", (1, 28, 28), arch="conv")),
             ("conv1d VAE, Daphnet windows 10k", sensor, default_model_config("sensor", sensor.input_shape)),
             ("gru VAE, Daphnet windows 10k", sensor, default_model_config("sensor", sensor.input_shape, arch="gru"))]
    cfg = TrainConfig(epochs=1)  # the defaults: batch 128, lr 2e-3
    rows = []
    for name, data, model_cfg in cases:
        per_sample = flops_per_sample(model_cfg)
        engine_epoch(all_train("warm-up", data.x[:1024], data.kind), model_cfg, cfg)
        rates, floors = [], []
        for _ in range(repeats):
            g = sgemm_gflops(threads=cfg.threads or None)  # the floor on the threads train() uses (1 by default)
            seconds, _ = engine_epoch(data, model_cfg, cfg)
            rates.append(len(data.x) / seconds)
            floors.append(g * 1e9 / per_sample)
        ratio = median([f / r for f, r in zip(floors, rates, strict=True)])
        print(f"  train: {name}: {median(rates):,.0f} samples/s, floor {median(floors):,.0f}", flush=True)
        rows.append(Row("train", f"{name} ({model_cfg.hidden}, z={model_cfg.latent_dim})",
                        f"{median(rates):,.0f} samples/s", f"floor {median(floors):,.0f} samples/s", ratio, " x floor"))
    return rows
