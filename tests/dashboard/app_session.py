"""AppTest helpers: open the dashboard headless, train a tiny real run, reach this session's workspace."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
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


def spec(chart) -> dict:
    """A plotly chart's JSON with plotly's binary arrays ({dtype, bdata}) decoded to lists."""
    def decode(obj):
        if isinstance(obj, dict) and set(obj) >= {"dtype", "bdata"}:
            return np.frombuffer(base64.b64decode(obj["bdata"]), dtype=obj["dtype"]).tolist()
        if isinstance(obj, dict):
            return {k: decode(v) for k, v in obj.items()}
        return [decode(v) for v in obj] if isinstance(obj, list) else obj
    return decode(json.loads(chart.proto.spec))


def metrics(at) -> dict[str, str]:
    """The page's metrics, label -> shown value."""
    return {m.label: m.value for m in at.metric}


def train_on(bundled: str, epochs: int, page: str) -> tuple[AppTest, Workspace]:
    """A fresh session on a bundled data set, a tiny real run trained through the Train page, then `page`."""
    at = open_app()
    at.switch_page("app_pages/data.py").run()
    at.get("button_group")[0].set_value(bundled).run()
    ws = train_tiny(at, epochs=epochs)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at, ws
