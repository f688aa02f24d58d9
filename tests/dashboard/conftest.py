"""Fixtures for the dashboard's AppTests (helpers live in app_session.py)."""
from __future__ import annotations

import pytest
from app_session import open_app
from streamlit.testing.v1 import AppTest


@pytest.fixture()
def app() -> AppTest:
    """A fresh dashboard session on its first page (Train), with its own workspace."""
    return open_app()
