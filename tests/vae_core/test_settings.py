"""Each setting is declared once (vae_core/config.py): these tests fail when the configs, the CLI or the sweep
disagree with a declaration on a setting's name, default or range. (Links and widgets: tests/dashboard.)"""
from __future__ import annotations

import argparse
import re
from dataclasses import fields

import pytest

from vae_core import cli
from vae_core.config import SETTINGS, ConfigError, ModelConfig, TrainConfig, configs_for
from vae_core.settings import format_value
from vae_core.sweep.space import PARAMS, SweepError, parse_values

NUMERIC = [s for s in SETTINGS.values() if s.type in (int, float)]


def _sub(name: str) -> argparse.ArgumentParser:
    return cli.build_parser()._subparsers._group_actions[0].choices[name]


def _just_outside(s) -> str:
    """A value above the declared range (as text)."""
    return format_value(s.high + (1 if s.type is int else max(abs(s.high) * 0.5, 0.5)))


def test_every_config_field_is_a_declared_setting_with_its_default():
    from_the_data = {"input_shape", "classes"}
    declared = {f.name for cls in (ModelConfig, TrainConfig) for f in fields(cls)} - from_the_data
    assert set(SETTINGS) == declared
    model, train = ModelConfig(), TrainConfig()
    for name, s in SETTINGS.items():
        assert getattr(model if s.target == "model" else train, name) == s.default, name
        assert s.help.endswith(".") and len(s.help) > 20, name  # one explaining sentence
        assert s.problem(s.default) is None, name


@pytest.mark.parametrize("kind, shape", [("image", (1, 28, 28)), ("sensor", (64, 3))])
def test_recommended_values_build_valid_configs_for_every_architecture(kind, shape):
    for arch in SETTINGS["arch"].choices_for(kind):
        model, train = configs_for(kind, shape, {"arch": arch})
        assert model.arch == arch and model.hidden == SETTINGS["hidden"].default_for(kind, arch)
        assert model.latent_dim == SETTINGS["latent_dim"].default_for(kind)


@pytest.mark.parametrize("s", NUMERIC, ids=lambda s: s.name)
def test_configs_accept_the_declared_range_and_refuse_outside_it(s):
    ok = ([] if s.high_open else [s.high]) + ([] if s.low_open else [s.low])
    for value in ok:
        configs_for("image", (1, 28, 28), {s.name: value, "warmup_epochs": 1.0 if s.name != "warmup_epochs" else
                                           max(value, 1.0)})
    with pytest.raises(ConfigError, match=re.escape(f"{s.name} must be {s.range_text()}")):
        configs_for("image", (1, 28, 28), {s.name: s.type(float(_just_outside(s)))})


def test_the_cli_has_one_flag_per_setting_with_the_declared_default_and_choices():
    train = _sub("train")
    text = " ".join(train.format_help().split())
    actions = {a.dest: a for a in train._actions}
    for name, s in SETTINGS.items():
        action = actions[name]
        assert action.option_strings == [s.flag] and action.default is None, name  # None: the recommended value
        assert f"(default: {s.default_text()})" in text, name
        assert tuple(action.choices or ()) == s.choices, name


@pytest.mark.parametrize("s", NUMERIC, ids=lambda s: s.name)
def test_the_cli_refuses_a_value_outside_the_declared_range(s, capsys):
    code = cli.main(["train", "--data", "mnist", s.flag, _just_outside(s), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"error: {s.name} must be {s.range_text()}"), err


def test_the_sweep_varies_exactly_the_settings_declared_sweepable_with_their_ranges():
    assert set(PARAMS) == {n for n, s in SETTINGS.items() if s.sweep}
    flags = {a.dest for a in _sub("sweep")._actions}
    assert set(PARAMS) <= flags
    for name, s in PARAMS.items():
        if s.type in (int, float):
            low = s.low if not s.low_open else min(s.high / 2, 1)
            assert parse_values(name, format_value(s.type(low))).values == (s.type(low),)
            with pytest.raises(SweepError, match=re.escape(f"{s.name} must be {s.range_text()}")):
                parse_values(name, _just_outside(s))
            top = s.high / 2 if s.high_open else s.high
            if s.sweep == "range":
                assert parse_values(name, f"{format_value(s.type(low))}:{format_value(top)}").high == top
            else:
                with pytest.raises(SweepError, match="takes a list"):
                    parse_values(name, f"{format_value(s.type(low))}:{format_value(top)}")
        elif s.choices:
            assert parse_values(name, ",".join(s.choices)).values == s.choices
        elif s.type is bool:
            assert parse_values(name, "true,false").values == (True, False)
            with pytest.raises(SweepError, match="is not true or false"):
                parse_values(name, "maybe")
        else:  # layer sizes
            too_many = ",".join(["8"] * (s.max_items + 1))
            with pytest.raises(SweepError, match="must be 1 to"):
                parse_values(name, [too_many])



# The VAE family's settings and the architecture knobs: each value a user can give reaches the configs, whether it
# comes from the CLI, a sweep list or (tests/dashboard) a link and the Train page's widget.
FAMILY = {"variant": "hierarchical", "conditional": True, "top_latent_dim": 5, "activation": "gelu", "norm": "layer",
          "objective": "iwae", "iwae_k": 7, "optimizer": "rmsprop"}


@pytest.mark.parametrize("name", FAMILY)
def test_each_family_setting_is_declared_with_a_widget_a_lesson_and_a_sweep(name):
    s = SETTINGS[name]
    assert s.widget is not None and s.lesson is not None and s.sweep == "list", name
    text = "true" if isinstance(FAMILY[name], bool) else format_value(FAMILY[name])
    assert s.parse(text) == FAMILY[name]
    assert parse_values(name, text).values == (FAMILY[name],)


def test_the_family_settings_round_trip_through_the_cli(mnist):
    args = cli.build_parser().parse_args(
        ["train", "--data", "mnist", "--variant", "hierarchical", "--conditional", "--top-latent-dim", "5",
         "--activation", "gelu", "--norm", "layer", "--objective", "iwae", "--iwae-k", "7", "--optimizer", "rmsprop"])
    given = cli.given_settings(args)
    assert given == FAMILY
    model, train = configs_for(mnist.kind, mnist.input_shape, given, mnist.classes)
    assert (model.variant, model.conditional, model.classes, model.top_latent_dim, model.activation, model.norm) == \
        ("hierarchical", True, 10, 5, "gelu", "layer")
    assert (train.objective, train.iwae_k, train.optimizer) == ("iwae", 7, "rmsprop")
    assert model.code_dim == model.latent_dim + 5
    plain = cli.given_settings(cli.build_parser().parse_args(["train", "--data", "mnist"]))
    assert plain == {}  # no flag given: every setting takes its recommended value (conditional off)


@pytest.mark.parametrize("given, message", [
    ({"conditional": True}, "a conditional model needs data with class labels"),
    ({"objective": "iwae", "beta": 4.0}, "it takes β = 1, no KL warm-up and no free bits"),
    ({"objective": "iwae", "variant": "adversarial"}, "the adversarial autoencoder is not trained on one"),
    ({"variant": "adversarial", "free_bits": 0.5}, "which the adversarial autoencoder does not have"),
])
def test_settings_that_do_not_fit_together_are_refused_with_a_reason(given, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        configs_for("image", (1, 28, 28), given, classes=0)


def test_the_cli_says_why_a_conditional_run_needs_labels(capsys):
    code = cli.main(["train", "--data", "bleeding", "--conditional", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "a conditional model needs data with class labels" in err, err
