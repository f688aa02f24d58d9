"""Presenter mode: the sidebar toggle (or ?presenter=1) injects the large-type stylesheet on every page, and
switching it off takes it away again. Chart fonts are checked on a trained lesson in test_learn_page.py."""
from __future__ import annotations

import re

from app_session import open_app

from dashboard.components import presenter


def stylesheets(at) -> list[str]:
    return [h.proto.body for h in at.get("html") if "presenter mode" in h.proto.body]


def root_font_px(css: str) -> int:
    return int(re.search(r"html \{ font-size: (\d+)px; \}", css).group(1))


def test_the_toggle_switches_large_type_on_and_off_on_every_page():
    at = open_app()
    toggle = at.sidebar.toggle(key=presenter.KEY)
    assert toggle.value is False and "projector" in toggle.help
    assert stylesheets(at) == []
    toggle.set_value(True).run()
    assert not at.exception, at.exception
    (css,) = stylesheets(at)
    assert root_font_px(css) > 16  # larger than the browser's 16 px
    assert '[data-testid="stToolbar"]' in css and "display: none" in css  # a clean screen: no toolbar
    for page in ("app_pages/learn.py", "app_pages/runs.py", "app_pages/data.py"):
        at.switch_page(page).run()
        assert not at.exception, at.exception
        assert len(stylesheets(at)) == 1, page  # stays on when the page changes
    at.sidebar.toggle(key=presenter.KEY).set_value(False).run()
    assert stylesheets(at) == []


def test_a_link_switches_it_on_and_the_toggle_can_still_switch_it_off():
    at = open_app()
    at.query_params["presenter"] = "1"
    at.run()
    assert at.sidebar.toggle(key=presenter.KEY).value is True and len(stylesheets(at)) == 1
    at.sidebar.toggle(key=presenter.KEY).set_value(False).run()
    at.run()  # the link is still in the URL: it was applied once, the visitor's choice wins
    assert at.sidebar.toggle(key=presenter.KEY).value is False and stylesheets(at) == []
    at.query_params["presenter"] = "nonsense"
    at.run()
    assert at.sidebar.toggle(key=presenter.KEY).value is False
