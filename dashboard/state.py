"""Named places for state, with typed accessors. Pages never touch st.session_state keys directly.

Three tiers, never mixed: st.cache_resource for what the server shares read-only or registers (bundled data,
the workspace registry over the run store, the job slots; none hands one visitor's data to another), the run
store on disk for runs (vae_core.store: they outlive the server), st.session_state for this tab's widgets and
settings. How the server runs comes from its environment, which `vae-explorer ui` sets from its flags:
VAE_EXPLORER_RUNS_DIR (where runs are kept), VAE_EXPLORER_SHARED (1: each browser sees only its own runs),
VAE_EXPLORER_QUOTA_MB (disk per workspace on a shared server), VAE_EXPLORER_MLFLOW (a tracking URI).
"""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from vae_core import tracking
from vae_core.data import BUNDLED, SensorOptions, load_bundled
from vae_core.dataset import Dataset
from vae_core.store import RunStore
from vae_core.tasks import Slots

from .workspace import Workspace
from .workspaces import ORPHAN_SECONDS, ServerFull, WorkspaceStore, browser_key

DEFAULT_DATA = "mnist"


def usable_cores() -> int:
    """The cores this process may run on (taskset and cpusets included), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


# one job per core: a job trains on one thread by default, so more jobs than cores only slows them all down
MAX_CONCURRENT_JOBS = int(os.environ.get("VAE_EXPLORER_MAX_JOBS") or usable_cores())

_SESSION_KEY = "workspace_key"  # fallback key when the browser sends no XSRF cookie
WORKSPACE = "workspace"  # this session's workspace object, also reachable from AppTest
_SETTINGS = "train_settings"  # dict of the Train page's settings, kept across page switches
_FLASH = "flash_message"


def _session_alive(session_id: str) -> bool:
    """Is this browser session still connected? (Always yes without a server, as under AppTest.)"""
    from streamlit.runtime import Runtime

    return not Runtime.exists() or Runtime.instance().is_active_session(session_id)


def shared() -> bool:
    """Is this a shared server (each browser sees only its own runs)?"""
    return os.environ.get("VAE_EXPLORER_SHARED", "") == "1"


def mlflow_uri() -> str | None:
    return os.environ.get("VAE_EXPLORER_MLFLOW") or None


@st.cache_resource(show_spinner=False)
def workspace_store() -> WorkspaceStore:
    quota_mb = float(os.environ.get("VAE_EXPLORER_QUOTA_MB") or 0)
    runs = RunStore(quota_bytes=int(quota_mb * 2**20) if quota_mb and shared() else None)
    uri = mlflow_uri()
    store = WorkspaceStore(runs, shared=shared(), data_for=data_for, is_alive=_session_alive,
                           orphan_seconds=float(os.environ.get("VAE_EXPLORER_ORPHAN_SECONDS", ORPHAN_SECONDS)),
                           after_save=(lambda folder: tracking.log_run(uri, folder)) if uri else None)
    store.start_watchdog()
    return store


def data_for(info: dict) -> Dataset | None:
    """A run's data, loaded again from what it recorded (bundled sets and lesson variants); None for an upload."""
    source, sensor = str(info.get("source") or ""), info.get("sensor")
    if source in BUNDLED:
        return bundled(source) if not sensor else bundled_with(source, json.dumps(sensor, sort_keys=True))
    if source in VARIANTS:
        return variant(source)
    return None


VARIANTS: dict[str, Callable[[], Dataset]] = {}  # "lesson:5" -> how it is made (the lessons fill it in on import)


@st.cache_resource(show_spinner=False, max_entries=8)
def variant(source: str) -> Dataset:
    """A lesson's own variant of a bundled set (lesson 5's spikes), made once and shared."""
    return read_only(VARIANTS[source]())


@st.cache_resource(show_spinner=False, max_entries=8)
def bundled_with(name: str, sensor_json: str) -> Dataset:
    """A bundled recording cut with other windows (the Data page's options), shared like `bundled`."""
    options = json.loads(sensor_json)
    return read_only(load_bundled(name, SensorOptions(**{k: tuple(v) if isinstance(v, list) else v
                                                         for k, v in options.items()})))



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
    for array in (data.x, data.y, data.split, data.series, data.series_anomaly, data.window_starts, data.series_time):
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
    """This visitor's workspace, with the bundled MNIST loaded on the first visit; stops the page when the
    server has no room for another visitor."""
    try:
        space = workspace_store().get(_key())
    except ServerFull as exc:
        st.error(f"VAE Explorer is full right now: {exc}.", icon=":material/group:")
        st.stop()
    ctx = get_script_run_ctx()
    if ctx is not None:
        space.attach(ctx.session_id)
    if space.data is None:
        space.set_data(bundled(DEFAULT_DATA), f"bundled:{DEFAULT_DATA}")
    st.session_state[WORKSPACE] = space
    return space


def reopen(code: str) -> Workspace:
    """This browser switches to the workspace of `code` (StoreError when it is not a code)."""
    space = workspace_store().reopen(_key(), code)
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
