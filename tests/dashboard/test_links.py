"""Shareable links: settings -> URL -> settings for every name in the links table, bad values clamped or refused
with a message, and the same in the app (a link restores the Train page; the Train page writes its link)."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest
from app_session import open_app, workspace

from dashboard import links
from dashboard.components import settings
from dashboard.lesson_titles import TITLES
from vae_core.config import WIDGETS

# A value other than the default for every setting a link may carry (image data, MLP).
CHANGED_IMAGE = {"arch": "conv", "latent_dim": 2, "beta": 4.0, "loss": "huber", "epochs": 7, "batch_size": 64,
                 "lr": 5e-4, "warmup": "linear", "warmup_epochs": 3.0, "free_bits": 0.25, "hidden": (16, 48),
                 "dropout": 0.1, "weight_decay": 1e-4, "grad_clip": 5.0, "schedule": "cosine", "early_stopping": 4,
                 "seed": 1234, "huber_delta": 2.0, "variant": "hierarchical", "conditional": True, "top_latent_dim": 5,
                 "activation": "gelu", "norm": "batch", "optimizer": "sgd", "objective": "iwae", "iwae_k": 7,
                 "decoder_input_dropout": 0.3, "augment": ("jitter", "warp")}
CHANGED_SENSOR = {**CHANGED_IMAGE, "arch": "argru", "latent_dim": 5, "loss": "huber", "hidden": (48,)}


def as_settings(changed: dict, kind: str) -> dict:
    """The Train page's settings dict: setting name -> value."""
    return {**links.defaults(kind, changed.get("arch")), **changed}


def through_url(data: str | None, values: dict, kind: str, losses: list[str]) -> tuple[links.Link, dict, list]:
    """settings -> query -> the text of a real URL -> parsed back -> completed settings."""
    query = links.to_query(data, values, kind)
    text = urlencode(query)
    link = links.parse(dict(parse_qsl(text)))
    back, notes = links.complete(link, kind, losses)
    return link, back, notes


def test_the_table_covers_every_train_page_setting():
    laid_out = [name for row in settings.LAYOUT + settings.MORE for name in row]
    assert sorted(laid_out) == sorted(links.SETTINGS) == sorted(links.defaults("image"))  # each control once
    assert all(WIDGETS[name].help and WIDGETS[name].lesson for name in links.SETTINGS)  # each explains itself


@pytest.mark.parametrize("kind, changed, data", [("image", CHANGED_IMAGE, "mnist"),
                                                 ("sensor", CHANGED_SENSOR, "bleeding")])
def test_every_setting_survives_the_round_trip(kind, changed, data):
    assert set(changed) == set(links.SETTINGS)
    losses = ["bce", "cbce", "mse", "mae", "huber"] if kind == "image" else ["mse", "mae", "huber"]
    values = as_settings(changed, kind)
    link, back, notes = through_url(data, values, kind, losses)
    assert link.data == data and link.messages == [] and notes == []
    in_force = {n for n in links.SETTINGS if not WIDGETS[n].active_when
                or values[WIDGETS[n].active_when[0]] in WIDGETS[n].active_when[1]}  # decoder input dropout: argru
    assert set(link.settings) == in_force  # each one differs from its default, so each is in the URL
    for name in in_force:
        assert back[name] == values[name], name


def test_defaults_make_a_short_link_and_come_back_as_defaults():
    values = links.defaults("image")
    assert links.to_query("mnist", values, "image") == {"data": "mnist"}
    link, back, notes = through_url("mnist", values, "image", ["bce", "mse"])
    assert back == values and notes == []
    # an upload cannot travel in a link: only the settings do
    assert "data" not in links.to_query(None, {**values, "beta": 4.0}, "image")


def test_warmup_epochs_are_left_out_when_no_warmup_is_in_force():
    values = {**links.defaults("image"), "warmup_epochs": 9.0}
    assert "warmup_epochs" not in links.to_query(None, values, "image")
    assert links.to_query(None, {**values, "warmup": "cyclical"}, "image")["warmup_epochs"] == "9"


@pytest.mark.parametrize("query, name, value, says", [
    ({"latent_dim": "999"}, "latent_dim", 64, "out of range (1 to 64); using 64"),
    ({"latent_dim": "0"}, "latent_dim", 1, "out of range (1 to 64); using 1"),
    ({"epochs": "-5"}, "epochs", 1, "out of range (1 to 200); using 1"),
    ({"epochs": "2.6"}, "epochs", 3, "must be a whole number; using 3"),
    ({"beta": "3"}, "beta", 4.0, "not one of the allowed values; using the nearest, 4"),
    ({"beta": "1e9"}, "beta", 128.0, "out of range (0 to 128); using 128"),
    ({"lr": "0.0011"}, "lr", 1e-3, "using the nearest, 0.001"),
    ({"free_bits": "0.33"}, "free_bits", 0.35, "not a multiple of 0.05; using 0.35"),
    ({"dropout": "7"}, "dropout", 0.5, "out of range (0 to 0.5); using 0.5"),
    ({"seed": "-1"}, "seed", 0, "out of range"),
    ({"arch": "CONV"}, "arch", "conv", None),
])
def test_out_of_range_values_are_clamped_with_a_message(query, name, value, says):
    link = links.parse(query)
    assert link.settings == {name: value}
    if says is None:
        assert link.messages == []
    else:
        assert len(link.messages) == 1 and says in link.messages[0] and name in link.messages[0]


@pytest.mark.parametrize("query, says", [
    ({"beta": "abc"}, "beta='abc' is not a number; ignored"),
    ({"beta": "nan"}, "is not a number"),
    ({"epochs": "inf"}, "is not a number"),
    ({"arch": "transformer"}, "arch='transformer' is not one of mlp, conv, conv1d, gru, argru; ignored"),
    ({"data": "../../etc/passwd"}, "data='../../etc/passwd' is not one of mnist"),
    ({"hidden": "64,abc"}, "hidden='64,abc' is not layer sizes"),
    ({"hidden": "1,2,3,4,5,6,7"}, "is not layer sizes"),
    ({"hidden": "99999"}, "is not layer sizes"),
    ({"token": "x"}, "unknown setting 'token' ignored"),
])
def test_garbage_is_refused_with_a_message(query, says):
    link = links.parse(query)
    assert link.empty
    assert len(link.messages) == 1 and says in link.messages[0], link.messages


def test_values_that_do_not_fit_the_data_are_refused_when_completed():
    values, notes = links.complete(links.parse({"arch": "gru", "loss": "bce"}), "sensor", ["mse", "mae", "huber"])
    assert values["arch"] == "gru" and values["loss"] == "mse"  # a GRU fits sensor data; Bernoulli does not
    assert notes == ["loss=bce does not fit this data (use mse, mae, huber); using mse"]
    values, notes = links.complete(links.parse({"arch": "gru"}), "image", ["bce", "mse"])
    assert values["arch"] == "mlp" and notes == ["arch=gru does not fit image data (use mlp, conv); using mlp"]


def test_lesson_and_presenter_values():
    assert links.lesson({"lesson": "3"}) == (3, None) and links.lesson({"lesson": "8"}) == (8, None)
    assert links.lesson({}) == (None, None)
    past_the_last = str(len(TITLES) + 1)
    for bad in ("0", past_the_last, "2.5", "x"):
        number, problem = links.lesson({"lesson": bad})
        assert number is None and repr(bad) in problem
    assert links.presenter({"presenter": "1"}) is True and links.presenter({"presenter": "off"}) is False
    assert links.presenter({"presenter": "maybe"}) is None and links.presenter({}) is None


# ---- in the app ----------------------------------------------------------------------------------------------
def test_opening_a_link_restores_data_and_settings_on_the_train_page():
    at = open_app()
    at.query_params.update({"data": "bleeding", "beta": "4", "latent_dim": "3", "epochs": "12", "loss": "mae",
                            "warmup": "linear", "warmup_epochs": "2", "free_bits": "0.5", "seed": "7"})
    at.run()
    assert not at.exception, at.exception
    ws = workspace(at)
    assert ws.data.name.startswith("InternalBleeding16") or ws.data_source == "bundled:bleeding"
    assert at.select_slider(key="set_beta").value == 4.0
    assert at.slider(key="set_latent_dim").value == 3
    assert at.slider(key="set_epochs").value == 12
    assert at.selectbox(key="set_loss").value == "mae"
    assert at.selectbox(key="set_warmup").value == "linear"
    assert at.slider(key="set_warmup_epochs").value == 2
    assert at.slider(key="set_free_bits").value == 0.5
    assert at.number_input(key="set_seed").value == 7
    assert at.selectbox(key="set_arch").value == "conv1d"  # the sensor default, as the link left it out
    assert not at.warning  # nothing to complain about (12 epochs on this recording: the checklist says so)
    # the Train page writes the same settings back into the URL
    assert at.query_params["beta"] == "4" and at.query_params["data"] == "bleeding"


def test_a_bad_link_says_what_it_clamped_and_refused_on_the_page():
    at = open_app()
    at.query_params.update({"latent_dim": "999", "beta": "abc", "arch": "transformer", "nonsense": "1"})
    at.run()
    assert not at.exception, at.exception
    shown = " ".join(w.value for w in at.warning)
    assert "latent_dim=999 is out of range (1 to 64); using 64" in shown
    assert "beta='abc' is not a number; ignored" in shown
    assert "arch='transformer' is not one of" in shown
    assert "unknown setting 'nonsense' ignored" in shown
    assert at.slider(key="set_latent_dim").value == 64
    assert at.select_slider(key="set_beta").value == 1.0 and at.selectbox(key="set_arch").value == "mlp"
    at.run()  # the link was read once: a rerun does not repeat the warnings
    assert not at.warning


def test_changing_a_setting_updates_the_url_and_the_copy_box():
    at = open_app()
    at.select_slider(key="set_beta").set_value(16.0).run()
    at.slider(key="set_latent_dim").set_value(2).run()
    assert at.query_params["beta"] == "16" and at.query_params["latent_dim"] == "2"
    assert at.query_params["data"] == "mnist"
    link = at.get("code")[0].value
    assert "beta=16" in link and "latent_dim=2" in link and "data=mnist" in link
    # the URL the Train page wrote, opened in a new session, gives the same settings
    other = open_app()
    other.query_params.update(at.query_params)
    other.run()
    assert other.select_slider(key="set_beta").value == 16.0 and other.slider(key="set_latent_dim").value == 2


def test_a_lesson_link_opens_that_lesson_and_a_bad_one_says_so():
    at = open_app("app_pages/learn.py")
    at.query_params["lesson"] = "4"
    at.run()
    assert at.header[0].value == "Lesson 4: Latent size"
    past_the_last = len(TITLES) + 1
    at.query_params["lesson"] = str(past_the_last)
    at.run()
    assert any(f"lesson='{past_the_last}' is not a lesson number (1 to {len(TITLES)})" in w.value for w in at.warning)
