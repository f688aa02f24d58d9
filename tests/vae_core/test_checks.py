"""Sanity checks before training: each fires on a set-up made to trigger it, with this set-up's numbers and a fix,
and all stay silent on the recommended settings for the bundled data; `train` prints the ones that fire."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from cli_session import run_cli

from vae_core import checks
from vae_core.config import configs_for
from vae_core.data import load_bundled
from vae_core.dataset import Dataset


def _configs(data: Dataset, **values):
    return configs_for(data.kind, data.input_shape, values)


def _fired(data: Dataset, **values) -> dict[str, checks.Check]:
    return {c.name: c for c in checks.problems(data, *_configs(data, **values))}


@pytest.mark.parametrize("name", ["mnist", "bleeding", "daphnet"])
def test_silent_on_the_recommended_settings_for_every_architecture(name):
    data = load_bundled(name)
    for arch in ("mlp", "conv") if data.kind == "image" else ("conv1d", "gru", "mlp", "argru"):
        results = checks.run_checks(data, *_configs(data, arch=arch))
        assert [c.name for c in results] == list(checks.CHECKS)
        assert all(c.passed and not c.problem for c in results), [c.problem for c in results if not c.passed]


def test_basicmotions_is_too_short_for_its_batch_and_only_that_fires():
    basicmotions = load_bundled("basicmotions")
    fired = _fired(basicmotions)
    assert list(fired) == ["too_few_steps"]
    assert fired["too_few_steps"].problem.startswith("30 epochs of 2 steps (64 training samples at batch 32) make "
                                                     "only 60 optimiser steps")
    assert fired["too_few_steps"].fix.startswith("train 100 epochs or more")
    assert _fired(basicmotions, epochs=100) == {}


def _sensor(x: np.ndarray, y=None, channels=None, label_kind="class", names=None) -> Dataset:
    n = len(x)
    split = np.zeros(n, np.int8)
    split[int(n * 0.8):] = 2
    return Dataset("made", "sensor", x.astype(np.float32), split, y, names, label_kind,
                   channels or tuple(f"c{i}" for i in range(x.shape[2])))


def test_loss_range_fires_for_bernoulli_on_scaled_data_and_for_unscaled_signals(mnist_small, bleeding):
    shifted = replace(mnist_small, x=mnist_small.x * 2 - 0.5)
    fired = _fired(shifted, loss="bce")
    assert fired["loss_range"].problem == ("the bce loss treats each value as a probability in [0, 1], but the "
                                           "training part ranges from -0.5 to 1.5")
    raw = replace(bleeding, x=bleeding.x * 300)
    fired = _fired(raw)
    top = float(np.abs(raw.part("train")[0]).max())
    assert f"reach {top:,.3g} in absolute value, as if never scaled" in fired["loss_range"].problem
    assert fired["loss_range"].fix == "scale each channel (z-score, the default; --scaling zscore)"


def test_decoder_range_fires_when_squashed_images_reach_outside_the_unit_interval(mnist_small):
    fired = _fired(replace(mnist_small, x=mnist_small.x * 2), loss="mse")
    assert "squashed into [0, 1]" in fired["decoder_range"].problem and "from 0 to 2" in fired["decoder_range"].problem


def test_kl_off_fires_for_beta_zero_and_for_free_bits_past_what_the_data_can_carry(mnist_small):
    assert "β = 0 switches the KL term off" in _fired(mnist_small, beta=0.0)["kl_off"].problem
    n = len(mnist_small.indices("train"))
    fired = _fired(mnist_small, free_bits=1.0, latent_dim=16)
    assert fired["kl_off"].problem.startswith(f"free bits let 1 × 16 = 16.0 nats of KL through without penalty, but "
                                              f"a code never needs more than ln({n:,}) = {np.log(n):.1f} nats")
    assert "kl_off" not in _fired(mnist_small, free_bits=0.3, latent_dim=16)


def test_warmup_longer_than_the_run_fires(mnist_small):
    fired = _fired(mnist_small, warmup="linear", warmup_epochs=40.0, epochs=10, beta=4.0)
    assert fired["warmup_too_long"].problem == ("the linear warm-up lasts 40 epochs but the run trains 10: β only "
                                                "reaches 1 of its 4")


def test_a_batch_larger_than_the_training_part_fires(bleeding):
    fired = _fired(bleeding, batch_size=512)
    assert fired["batch_too_large"].problem.startswith("the batch size 512 is larger than the training part (235 ")
    assert fired["batch_too_large"].fix.startswith("use a batch of at most 58")


def test_a_model_far_larger_than_its_data_fires(mnist):
    pick = np.arange(0, 5000, 50)  # the bundled digits are sorted by class: every 50th keeps them balanced
    few = replace(mnist, x=mnist.x[pick], split=np.zeros(100, np.int8), y=mnist.y[pick])
    fired = _fired(few, hidden=(2048, 2048), epochs=400, batch_size=16)
    problem = fired["model_too_large"].problem
    assert "weights," in problem and "100 samples × 784 values" in problem
    assert set(fired) == {"model_too_large"}


def test_labels_fed_as_a_channel_fire_by_name_and_by_correlation():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    signal = rng.standard_normal((300, 32, 1))
    named = np.concatenate([signal, np.repeat(y[:, None, None], 32, 1)], 2)
    fired = _fired(_sensor(named, channels=("value", "is_anomaly")), epochs=50)
    assert fired["labels_as_inputs"].problem.startswith("the channel 'is_anomaly' holds only 2 values and is named "
                                                         "like a label")
    hidden = np.concatenate([signal, np.repeat(y[:, None, None] * 3.0 + 1, 32, 1) + 0.01 * signal], 2)
    fired = _fired(_sensor(hidden, y=y, names=("a", "b")), epochs=50)
    assert "the channel 'c1' follows the labels (correlation 1.00" in fired["labels_as_inputs"].problem
    assert "labels_as_inputs" not in _fired(_sensor(signal, y=y, names=("a", "b")), epochs=50)


def test_class_imbalance_fires_past_ten_to_one(mnist):
    keep = np.flatnonzero((mnist.y != 7) | (np.arange(len(mnist.y)) % 20 == 0))
    skewed = replace(mnist, x=mnist.x[keep], split=mnist.split[keep], y=mnist.y[keep])
    fired = _fired(skewed)
    assert set(fired) == {"class_imbalance"}
    assert "of class '" in fired["class_imbalance"].problem and "of '7'" in fired["class_imbalance"].problem


def test_train_prints_each_problem_with_its_fix_and_records_it(tmp_path, capsys):
    code, out, err = run_cli(capsys, "train", "--data", "bleeding", "--epochs", "1", "--hidden", "8,16",
                             "--beta", "0", "--out", str(tmp_path / "r"), "--quiet", "--json")
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("check: ")]
    assert lines[0].startswith("check: β = 0 switches the KL term off") and "Fix: set β above 0" in lines[0]
    assert any("make only 8 optimiser steps" in line for line in lines)
    summary = json.loads(out.strip().splitlines()[-1])
    assert [c["name"] for c in summary["checks"]] == ["kl_off", "too_few_steps"]


def test_train_is_silent_on_the_defaults(tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", "--data", "bleeding", "--hidden", "8,16", "--out", str(tmp_path / "r"),
                           "--quiet", "--eval-k", "0", "--epochs", "25")
    assert code == 0 and "check:" not in err
