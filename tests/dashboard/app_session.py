"""AppTest helpers: open the dashboard headless, train a tiny real run, reach this session's workspace."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard.state import WORKSPACE
from dashboard.workspace import Workspace

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py")


def open_app(page: str | None = None) -> AppTest:
    """A fresh session (its own workspace) on `page` (e.g. 'app_pages/data.py'), already run once."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def workspace(at: AppTest) -> Workspace:
    return at.session_state[WORKSPACE]


def train_tiny(at: AppTest, epochs: int = 2, timeout: float = 120, **settings) -> Workspace:
    """Train a real run through the Train page's controls and wait for it; returns the workspace."""
    at.switch_page("app_pages/train.py").run()
    at.slider(key="set_epochs").set_value(epochs)
    for name, value in settings.items():
        widget = next(w for w in at.main if getattr(w, "key", None) == f"set_{name}")
        widget.set_value(value)
    at.run()
    at.button(key="train_start").click().run()
    ws = workspace(at)
    assert ws.job is not None, "the Train button started no job"
    assert ws.job.done.wait(timeout), "training did not finish in time"
    at.run()
    assert not at.exception, at.exception
    return ws
