"""The training loop on real bundled data: it learns, it stops, it continues, it survives divergence."""
from __future__ import annotations

import math

import pytest
import torch

from vae_core.config import ModelConfig, TrainConfig, default_model_config
from vae_core.dataset import DataError
from vae_core.runs import fit, new_model
from vae_core.training import TrainState, lr_factor, train

SMALL = ModelConfig(hidden=(128,), latent_dim=8)


def epochs_of(events, phase="train"):
    return [e for e in events if e.kind == "epoch" and e.phase == phase]


def test_training_lowers_the_loss_on_real_digits(mnist_small):
    events = list(train(new_model(SMALL), mnist_small, TrainConfig(epochs=3, batch_size=64)))
    train_epochs, val_epochs = epochs_of(events), epochs_of(events, "val")
    assert len(train_epochs) == len(val_epochs) == 3
    assert train_epochs[-1].loss < train_epochs[0].loss - 20  # nats per sample
    assert val_epochs[-1].loss < val_epochs[0].loss
    assert events[-1].kind == "end" and events[-1].reason == "finished"
    steps = [e for e in events if e.kind == "step"]
    n_train = len(mnist_small.indices("train"))
    assert len(steps) == 3 * math.ceil(n_train / 64) == steps[-1].step == events[0].total_steps
    assert all(e.samples_per_second > 0 and math.isfinite(e.loss) for e in steps)
    assert len(train_epochs[-1].kl_per_dim) == 8
    assert sum(train_epochs[-1].kl_per_dim) == pytest.approx(train_epochs[-1].kl, rel=1e-4)


def test_same_seed_same_run_on_cpu(mnist_small):
    cfg = TrainConfig(epochs=1, batch_size=128, seed=7)
    a = [e.loss for e in train(new_model(SMALL, 7), mnist_small, cfg) if e.kind == "step"]
    b = [e.loss for e in train(new_model(SMALL, 7), mnist_small, cfg) if e.kind == "step"]
    c = [e.loss for e in train(new_model(SMALL, 8), mnist_small, TrainConfig(epochs=1, seed=8))]
    assert a == b
    assert a != c[:len(a)]


def test_break_keeps_what_was_learned_and_training_continues(mnist_small):
    model = new_model(SMALL)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    cfg = TrainConfig(epochs=2, batch_size=64)
    state = TrainState(model, cfg)
    for ev in train(model, mnist_small, cfg, state):
        if ev.kind == "epoch" and ev.phase == "val":
            break  # the user pressed Stop after epoch 1
    assert state.epoch == 1
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())
    rest = list(train(model, mnist_small, cfg, state))
    assert [e.epoch for e in epochs_of(rest)] == [2]
    assert rest[-1].reason == "finished" and state.epoch == 2


def test_warmup_ramps_the_kl_weight(mnist_small):
    events = list(train(new_model(SMALL), mnist_small,
                        TrainConfig(epochs=2, beta=2.0, warmup="linear", warmup_epochs=2)))
    steps = [e for e in events if e.kind == "step"]
    assert steps[0].beta == 0.0
    assert 0.9 < steps[len(steps) // 2].beta < 1.1
    assert all(a.beta <= b.beta for a, b in zip(steps, steps[1:], strict=False))


def test_cosine_schedule_lowers_the_learning_rate(mnist_small):
    events = list(train(new_model(SMALL), mnist_small, TrainConfig(epochs=2, lr=1e-3, schedule="cosine")))
    lrs = [e.lr for e in events if e.kind == "step"]
    assert lrs[0] == pytest.approx(1e-3) and lrs[-1] < 1e-4
    assert lr_factor("step", 0.5) == 0.5 and lr_factor("none", 0.9) == 1.0


def test_a_diverging_run_stops_at_once_and_keeps_the_last_good_weights(mnist_small):
    model = new_model(SMALL)
    cfg = TrainConfig(epochs=3, lr=1e-3)
    state = TrainState(model, cfg)
    list(train(model, mnist_small, TrainConfig(epochs=1), state))  # one good epoch
    good = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():  # a blow-up in the middle of the next epoch
        model.to_logvar.bias.fill_(1e4)
    events = list(train(model, mnist_small, cfg, state))
    end = events[-1]
    assert end.reason == "diverged"
    assert "NaN or infinite" in end.message and "weights from the end of epoch 1" in end.message
    assert "lower learning rate" in end.message
    assert all(torch.equal(good[k], v) for k, v in model.state_dict().items())
    assert not any(e.kind == "epoch" for e in events)  # it stopped at the first bad step


def test_a_huge_learning_rate_diverges_cleanly(mnist):
    events = list(train(new_model(ModelConfig()), mnist, TrainConfig(epochs=3, lr=10.0)))
    assert events[-1].reason == "diverged"
    assert all(math.isfinite(e.loss) for e in events if e.kind == "step")


def test_early_stopping_restores_the_best_epoch(mnist_small):
    events = list(train(new_model(SMALL), mnist_small, TrainConfig(epochs=40, lr=1e-2, early_stopping=1)))
    assert events[-1].reason == "early_stopped"
    assert len(epochs_of(events)) < 40


def test_bce_refuses_data_outside_the_unit_interval(bleeding):
    model = new_model(default_model_config("sensor", bleeding.input_shape, loss="bce"))
    with pytest.raises(DataError, match="the bce loss models values in \\[0, 1\\]"):
        next(train(model, bleeding, TrainConfig(epochs=1)))


def test_shape_mismatch_is_explained(mnist_small):
    model = new_model(ModelConfig(input_shape=(1, 14, 14)))
    with pytest.raises(DataError, match=r"expects samples of shape \(1, 14, 14\) but the data has \(1, 28, 28\)"):
        next(train(model, mnist_small, TrainConfig(epochs=1)))


@pytest.mark.slow
def test_high_beta_collapses_the_posterior_and_beta_one_does_not(mnist):
    # 4 epochs at batch 64: 252 optimiser steps, past the 200 a verdict needs
    healthy = fit(mnist, SMALL, TrainConfig(epochs=4, beta=1.0, batch_size=64), iwae_k=0).summary
    collapsed = fit(mnist, SMALL, TrainConfig(epochs=4, beta=40.0, batch_size=64), iwae_k=0).summary
    assert healthy["verdict"] == "healthy" and not healthy["collapsed"]
    assert healthy["active_units"] >= 6
    assert collapsed["collapsed"] is True
    assert collapsed["kl"] < 1.0
    assert "posterior collapse" in collapsed["collapse_reason"] and "decoder ignores z" in collapsed["collapse_reason"]
    assert "Try KL warm-up, free bits or a lower beta" in collapsed["collapse_reason"]


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["conv1d", "gru"])
def test_sensor_models_learn_the_bleeding_series_and_score_its_anomaly(bleeding, arch):
    cfg = default_model_config("sensor", bleeding.input_shape, arch=arch)
    summary = fit(bleeding, cfg, TrainConfig(epochs=15), iwae_k=0).summary
    epochs = summary["epochs"]
    assert epochs == 15
    assert summary["anomaly_auc"] is not None and summary["anomaly_auc"] > 0.6
    assert 0 < summary["anomaly_ap"] <= 1


def _digest(model) -> bytes:
    return b"".join(v.numpy().tobytes() for v in model.state_dict().values())


def test_a_setting_changed_while_training_gives_the_weights_of_a_run_planned_with_it(mnist_small):
    from vae_core.checkpoint import run_files, run_from_files
    from vae_core.runs import new_run, train_run
    from vae_core.training import Change

    cfg = TrainConfig(epochs=2, batch_size=64, seed=4)
    planned = new_run(mnist_small, SMALL, cfg, changes=[Change(7, "beta", 8.0), Change(12, "lr", 5e-4)])
    list(train_run(planned))
    live = new_run(mnist_small, SMALL, cfg)
    for ev in train_run(live):  # a teacher moves the β slider after step 6 and the learning rate after step 11
        if ev.kind == "step" and ev.step == 6:
            assert live.state.change("beta", 8.0) == Change(7, "beta", 8.0)
        if ev.kind == "step" and ev.step == 11:
            live.state.change("lr", 5e-4)
    assert _digest(planned.model) == _digest(live.model)
    steps = {e.step: e for e in live.events if e.kind == "step"}
    assert steps[6].beta == 1.0 and steps[7].beta == 8.0 and steps[11].lr == 2e-3 and steps[12].lr == 5e-4
    marks = [(e.step, e.reason, e.value) for e in live.events if e.kind == "change"]
    assert marks == [(7, "beta", 8.0), (12, "lr", 5e-4)]  # drawn on the curves, once each
    # the history survives a save (config.json and metrics.csv) and the run continues as it would have
    back = run_from_files(run_files(live))
    assert back.changes == live.changes
    assert [(e.step, e.reason, e.value) for e in back.events if e.kind == "change"] == marks
    done = back.state.step  # 2 epochs of 15 steps
    assert back.state.change("free_bits", 0.2) == Change(done + 1, "free_bits", 0.2)  # a change before continuing
    list(train_run(back, mnist_small, epochs=3))
    straight = new_run(mnist_small, SMALL, TrainConfig(epochs=3, batch_size=64, seed=4),
                       changes=[Change(7, "beta", 8.0), Change(12, "lr", 5e-4), Change(done + 1, "free_bits", 0.2)])
    list(train_run(straight))
    assert _digest(back.model) == _digest(straight.model)


def test_only_live_settings_change_and_within_their_range(mnist_small):
    from vae_core.config import ConfigError
    from vae_core.runs import new_run

    run = new_run(mnist_small, SMALL, TrainConfig(epochs=1))
    with pytest.raises(ConfigError, match="warmup cannot change while a run trains"):
        run.state.change("warmup", 1)
    with pytest.raises(ConfigError, match="beta must be between 0 and 1000"):
        run.state.change("beta", -1)
