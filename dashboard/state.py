"""Named places for state, with typed accessors. Pages never touch st.session_state keys directly.

Three tiers: st.cache_data for bundled data and pure results, st.cache_resource for the two shared
server objects (the workspace store and the job slots, neither of which hands one visitor's data to
another), st.session_state for this tab's widgets and settings.
"""
from __future__ import annotations

import os
import uuid
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from vae_core.data import load_bundled
from vae_core.dataset import Dataset
from vae_core.tasks import Slots

from .workspace import ORPHAN_SECONDS, Workspace, WorkspaceStore, browser_key

DEFAULT_DATA = "mnist"
MAX_CONCURRENT_JOBS = int(os.environ.get("VAE_EXPLORER_MAX_JOBS", "2"))

_SESSION_KEY = "workspace_key"  # fallback key when the browser sends no XSRF cookie
WORKSPACE = "workspace"  # this session's workspace object, also reachable from AppTest
_SETTINGS = "train_settings"  # dict of the Train page's settings, kept across page switches
_FLASH = "flash_message"


def _session_alive(session_id: str) -> bool:
    """Is this browser session still connected? (Always yes without a server, as under AppTest.)"""
    from streamlit.runtime import Runtime

    return not Runtime.exists() or Runtime.instance().is_active_session(session_id)


@st.cache_resource(show_spinner=False)
def workspace_store() -> WorkspaceStore:
    store = WorkspaceStore(is_alive=_session_alive,
                           orphan_seconds=float(os.environ.get("VAE_EXPLORER_ORPHAN_SECONDS", ORPHAN_SECONDS)))
    store.start_watchdog()
    return store


@st.cache_resource(show_spinner=False)
def job_slots() -> Slots:
    return Slots(MAX_CONCURRENT_JOBS)


@st.cache_resource(show_spinner="Loading the bundled data…", max_entries=8)
def bundled(name: str) -> Dataset:
    """A bundled data set, loaded once per server and shared by every visitor: its arrays are read-only.

    (st.cache_data would hand each visitor a copy: 15 MB of MNIST per workspace, 8 GB for 500 visitors.)
    """
    return read_only(load_bundled(name))


def read_only(data: Dataset) -> Dataset:
    """Lock the arrays of a data set shared between visitors, so no one can change another's data."""
    for array in (data.x, data.y, data.split, data.series, data.series_anomaly, data.window_starts):
        if array is not None:
            array.setflags(write=False)
    return data


def _key() -> str:
    key = browser_key(st.context.cookies.get("_streamlit_xsrf"))
    if key is None:
        if _SESSION_KEY not in st.session_state:
            st.session_state[_SESSION_KEY] = uuid.uuid4().hex
        key = st.session_state[_SESSION_KEY]
    return key


def workspace() -> Workspace:
    """This visitor's workspace, with the bundled MNIST loaded on the first visit."""
    space = workspace_store().get(_key())
    ctx = get_script_run_ctx()
    if ctx is not None:
        space.attach(ctx.session_id)
    if space.data is None:
        space.set_data(bundled(DEFAULT_DATA), f"bundled:{DEFAULT_DATA}")
    st.session_state[WORKSPACE] = space
    return space


def settings() -> dict[str, Any]:
    """The Train page's settings for this tab (kept when the page changes)."""
    return st.session_state.setdefault(_SETTINGS, {})


def apply_settings(changes: dict[str, Any]) -> None:
    """Set Train-page settings from elsewhere (a link, a lesson, a suggested fix); its widgets pick them up."""
    settings().update(changes)
    for name in changes:
        st.session_state.pop(f"set_{name}", None)  # widgets are recreated from the new value


def flash(message: str, kind: str = "success") -> None:
    """A message to show once at the top of the next page drawn (survives st.rerun/switch_page)."""
    st.session_state[_FLASH] = (kind, message)


def show_flash() -> None:
    kind, message = st.session_state.pop(_FLASH, (None, None))
    if message:
        getattr(st, kind)(message)
