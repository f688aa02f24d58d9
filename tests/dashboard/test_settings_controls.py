"""The Train page's controls and shared links follow the settings' declarations (vae_core/config.py): a test
fails when a widget or a link disagrees with a declaration on a setting's name, default or range."""
from __future__ import annotations

import pytest
from app_session import APP, open_app, workspace
from streamlit.testing.v1 import AppTest

from dashboard import links
from dashboard.components import settings
from vae_core.config import LOSS_NAMES, WIDGETS, losses_for
from vae_core.settings import format_value


@pytest.fixture(scope="module")
def train_page():
    at = open_app("app_pages/train.py")
    return at


def _control(at, name):
    return next(w for w in at.main if getattr(w, "key", None) == f"set_{name}")


def test_every_declared_control_is_drawn_once_with_its_label_default_and_help(train_page):
    keys = [w.key for w in train_page.main if (getattr(w, "key", None) or "").startswith("set_")]
    assert sorted(keys) == sorted(f"set_{n}" for n in WIDGETS)
    for name, s in WIDGETS.items():
        w = _control(train_page, name)
        assert w.label == s.widget.label, name
        expected = s.default_for("image", "mlp")
        if s.items:  # several words: a multiselect (disabled for data it does not apply to)
            assert list(w.value) == list(expected) and w.disabled == ("image" not in s.kinds), name
        else:
            assert (w.value == format_value(expected)) if s.type is tuple else (w.value == expected), name
        assert w.help.startswith(s.help) and f"learn?lesson={s.lesson}" in w.help, name


def test_each_control_offers_exactly_the_declared_range_or_options(train_page):
    for name, s in WIDGETS.items():
        w, spec = _control(train_page, name), s.widget
        if s.choices or s.items:
            want = losses_for(True) if name == "loss" else list(s.items or s.choices_for("image"))
            assert list(w.options) == [spec.names.get(v, v) for v in want], name
        elif spec.grid:
            assert list(w.options) == [format_value(v) for v in spec.grid], name
        elif s.type is bool:  # a switch: on or off
            assert type(w).__name__ == "Toggle" and w.value is s.default, name
        elif s.type is not tuple:
            assert (w.min, w.max, w.step) == (spec.low, spec.high, spec.step), name
    assert set(LOSS_NAMES) == set(WIDGETS["loss"].choices)


@pytest.mark.parametrize("name", [n for n, s in WIDGETS.items() if s.type in (int, float)])
def test_links_clamp_to_what_the_control_can_show(name):
    s = WIDGETS[name]
    p = links.PARAMS[name]
    low = min(s.widget.grid) if s.widget.grid else s.widget.low
    high = max(s.widget.grid) if s.widget.grid else s.widget.high
    assert (p.low, p.high) == (low, high)
    link = links.parse({name: format_value(high * 10 + 1)})
    assert link.settings[name] == high and f"out of range ({format_value(low)} to {format_value(high)})" in \
        link.messages[0]
    assert links.defaults("image")[name] == s.default_for("image")


def test_settings_set_elsewhere_reach_the_controls_and_the_configs():
    """A lesson or a suggested fix writes the settings dict; the controls show it and the configs follow."""
    at = AppTest.from_file(APP, default_timeout=60)
    values = {**links.defaults("image"), "beta": 8.0, "hidden": (64, 32), "warmup": "cyclical", "warmup_epochs": 4.0}
    at.session_state["train_settings"] = {**values, "kind": "image"}
    at.run()
    assert not at.exception, at.exception
    assert _control(at, "hidden").value == "64,32" and _control(at, "beta").value == 8.0
    assert not _control(at, "warmup_epochs").disabled and _control(at, "warmup_epochs").value == 4.0
    model, train = settings.configs(at.session_state["train_settings"], workspace(at).data)
    assert (model.hidden, train.beta, train.warmup, train.warmup_epochs) == ((64, 32), 8.0, "cyclical", 4.0)


# The VAE family's settings and the architecture knobs: a link sets the widget, the widget sets the configs, and the
# page writes the same link back (tests/vae_core/test_settings.py does the CLI and the sweep).
FAMILY_LINK = {"variant": "hierarchical", "conditional": "true", "top_latent_dim": "5", "activation": "gelu",
               "norm": "layer", "objective": "iwae", "iwae_k": "7", "optimizer": "rmsprop"}


def test_the_family_settings_round_trip_through_a_link_the_widgets_and_back():
    link = links.parse({"data": "mnist", **FAMILY_LINK})
    assert not link.messages
    values, notes = links.complete(link, "image", losses_for(True))
    assert not notes
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["train_settings"] = {**values, "kind": "image"}
    at.run()
    assert not at.exception, at.exception
    shown = {name: _control(at, name).value for name in FAMILY_LINK}
    assert shown == {"variant": "hierarchical", "conditional": True, "top_latent_dim": 5, "activation": "gelu",
                     "norm": "layer", "objective": "iwae", "iwae_k": 7, "optimizer": "rmsprop"}
    assert _control(at, "variant").options[1] == "Hierarchical VAE (two stochastic layers)"  # shown in words
    model, train = settings.configs(at.session_state["train_settings"], workspace(at).data)
    assert (model.variant, model.conditional, model.classes, model.top_latent_dim, model.activation, model.norm) == \
        ("hierarchical", True, 10, 5, "gelu", "layer")
    assert (train.objective, train.iwae_k, train.optimizer) == ("iwae", 7, "rmsprop")
    assert {k: v for k, v in at.query_params.items() if k in FAMILY_LINK} == FAMILY_LINK  # the link written back


def test_a_link_with_a_switch_that_is_not_true_or_false_says_so():
    link = links.parse({"conditional": "maybe", "variant": "ladder"})
    assert "conditional" not in link.settings and "variant" not in link.settings
    assert "conditional='maybe' is not true or false; ignored" in link.messages
    assert any(m.startswith("variant='ladder' is not one of vae, hierarchical, adversarial") for m in link.messages)


def test_the_conditional_switch_is_offered_only_for_data_with_class_labels():
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("app_pages/data.py").run()
    at.get("button_group")[0].set_value("bleeding").run()  # a recording labelled normal/anomalous: no classes
    at.switch_page("app_pages/train.py").run()
    assert not at.exception, at.exception
    assert not [w for w in at.main if getattr(w, "key", None) == "set_conditional"]
    assert at.session_state["train_settings"]["conditional"] is False
    at.switch_page("app_pages/data.py").run()
    at.get("button_group")[0].set_value("basicmotions").run()  # four activities: classes
    at.switch_page("app_pages/train.py").run()
    assert _control(at, "conditional").value is False
