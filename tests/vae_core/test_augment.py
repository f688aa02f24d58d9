"""Augmentation of sensor windows: what each method does, drawn only from the run's generator, so a run with it
repeats bit for bit from its seed (also when stopped and continued), and never on validation windows."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from cli_session import run_cli

from vae_core.augment import SHIFT_SHARE, augment
from vae_core.checkpoint import run_files, run_from_files
from vae_core.config import SETTINGS, ConfigError, configs_for
from vae_core.dataset import DataError
from vae_core.runs import new_run, train_run

ALL = ("jitter", "scale", "warp", "shift")


def _windows(b: int = 4, t: int = 40, c: int = 3) -> torch.Tensor:
    steps = torch.arange(t, dtype=torch.float32)
    return torch.stack([torch.stack([torch.sin(steps / (3 + k + i)) for k in range(c)], 1) for i in range(b)])


def test_each_method_changes_the_windows_as_it_says():
    x = _windows()
    g = lambda: torch.Generator().manual_seed(1)  # noqa: E731
    jitter = augment(x, ("jitter",), g())
    assert 0.02 < (jitter - x).std() < 0.08  # noise of sd 0.05
    scaled = augment(x, ("scale",), g())
    factors = scaled[:, 5] / x[:, 5]  # one factor per window and channel, the same at every step
    assert torch.allclose(scaled, x * factors[:, None, :], atol=1e-5) and not torch.allclose(factors, torch.ones(1))
    warped = augment(x, ("warp",), g())
    assert torch.allclose(warped[:, 0], x[:, 0]) and torch.allclose(warped[:, -1], x[:, -1], atol=1e-5)  # ends kept
    assert not torch.allclose(warped, x)
    shifted = augment(x, ("shift",), g())
    most = int(SHIFT_SHARE * x.shape[1])
    for w in range(len(x)):  # a whole-step shift: the middle of each window is the original, moved
        middle = shifted[w, most:-most]
        assert any(torch.allclose(middle, x[w, most + s:x.shape[1] - most + s]) for s in range(-most, most + 1))
    assert augment(x, (), g()) is x


def test_the_same_generator_state_gives_the_same_windows_and_the_global_one_is_never_used():
    x = _windows()
    before = torch.random.get_rng_state()
    a = augment(x, ALL, torch.Generator().manual_seed(5))
    torch.manual_seed(123)
    b = augment(x, ALL, torch.Generator().manual_seed(5))
    c = augment(x, ALL, torch.Generator().manual_seed(6))
    torch.random.set_rng_state(before)
    assert torch.equal(a, b) and not torch.equal(a, c)


def _digest(run) -> bytes:
    return b"".join(v.numpy().tobytes() for v in run.model.state_dict().values())


def _bleeding_run(bleeding, seed: int, augmentations=ALL, epochs: int = 2):
    values = {"epochs": epochs, "augment": augmentations, "seed": seed, "hidden": (8, 16)}
    return new_run(bleeding, *configs_for("sensor", bleeding.input_shape, values))


def test_a_run_with_augmentation_repeats_by_seed_and_differs_from_one_without(bleeding):
    runs = [_bleeding_run(bleeding, 3), _bleeding_run(bleeding, 3), _bleeding_run(bleeding, 4),
            _bleeding_run(bleeding, 3, ())]
    for run in runs:
        list(train_run(run))
    a, b, other_seed, plain = (_digest(r) for r in runs)
    assert a == b and a != other_seed and a != plain
    val_a = [e.loss for e in runs[0].events if e.phase == "val"]
    assert val_a == [e.loss for e in runs[1].events if e.phase == "val"]


def test_a_stopped_and_continued_run_with_augmentation_ends_with_the_weights_of_a_straight_one(bleeding):
    straight = _bleeding_run(bleeding, 0)
    list(train_run(straight))
    stopped = _bleeding_run(bleeding, 0)
    for ev in train_run(stopped):
        if ev.kind == "step" and ev.step == 11:  # mid-epoch
            break
    reloaded = run_from_files(run_files(stopped))  # through the saved files: the data generator's state travels
    list(train_run(reloaded, bleeding))
    assert _digest(reloaded) == _digest(straight)


def test_validation_windows_are_never_augmented(bleeding):
    """The validation loss of a run equals the loss of its model on the raw validation windows."""
    from vae_core.training import evaluate_loss

    run = _bleeding_run(bleeding, 0, epochs=1)
    events = list(train_run(run))
    val = next(e for e in events if e.phase == "val")
    again = evaluate_loss(run.model, torch.from_numpy(bleeding.part("val")[0]), loss="mse",
                          rng=torch.Generator().manual_seed(99))
    assert abs(val.recon - again["recon"]) < 0.05 * again["recon"]  # only the sampling noise differs


def test_the_setting_reads_words_and_refuses_others():
    s = SETTINGS["augment"]
    assert s.parse("jitter, Warp") == ("jitter", "warp") and s.parse("none") == () and s.parse("") == ()
    for bad in ("jitter,jitter", "rotate"):
        with pytest.raises(ConfigError, match="augment must be any of jitter, scale, warp, shift"):
            s.parse(bad)


def test_images_cannot_be_augmented(mnist_small):
    run = new_run(mnist_small, *configs_for("image", (1, 28, 28), {"augment": ("jitter",), "hidden": (8,)}))
    with pytest.raises(DataError, match="augment is for sensor data, and this data is images; drop --augment"):
        next(train_run(run))


def test_the_cli_takes_augment_as_a_comma_list(tmp_path, capsys):
    code, out, err = run_cli(capsys, "train", "--data", "bleeding", "--epochs", "1", "--hidden", "8,16",
                             "--augment", "jitter,scale,warp", "--out", str(tmp_path / "r"), "--quiet", "--json")
    assert code == 0, err
    saved = run_from_files({p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()})
    assert saved.train_cfg.augment == ("jitter", "scale", "warp")
    code, _, err = run_cli(capsys, "train", "--data", "bleeding", "--augment", "flip", "--quiet")
    assert code == 2 and "augment must be any of jitter, scale, warp, shift" in err
    code, _, err = run_cli(capsys, "train", "--data", "mnist", "--augment", "jitter", "--quiet",
                           "--out", str(tmp_path / "m"))
    assert code == 2 and "augment is for sensor data" in err and not (tmp_path / "m").exists()


def test_replace_keeps_the_setting_a_tuple(bleeding):
    _, train = configs_for("sensor", bleeding.input_shape, {"augment": ["jitter", "shift"]})
    assert train.augment == ("jitter", "shift") and replace(train, epochs=3).augment == ("jitter", "shift")
